"""The app's state: one typed object instead of loose ``app.state`` attributes."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

from fastapi import Request

from .metrics import Metrics
from .settings import Settings

if TYPE_CHECKING:
    from .batcher import Batcher
    from .decision_log import DecisionLog
    from .registry import ModelRegistry


@dataclass
class AppState:
    settings: Settings
    metrics: Metrics
    torch_thread: ThreadPoolExecutor  # the one thread that runs every torch op (see registry.py)
    registry: ModelRegistry
    batcher: Batcher
    decision_log: DecisionLog | None = None
    draining: bool = False
    background_tasks: set[asyncio.Task[None]] = field(default_factory=set)  # challenger scoring


def state(request: Request) -> AppState:
    return cast(AppState, request.app.state.rewardgate)
