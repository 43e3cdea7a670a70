"""The app's state: one typed object instead of loose ``app.state`` attributes."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from fastapi import Request

from .metrics import Metrics
from .settings import Settings

if TYPE_CHECKING:
    from .batcher import Batcher
    from .recorder import DecisionRecorder
    from .registry import ModelRegistry


@dataclass
class AppState:
    settings: Settings
    metrics: Metrics
    torch_thread: ThreadPoolExecutor  # the one thread that runs every torch op (see registry.py)
    registry: ModelRegistry
    batcher: Batcher
    recorder: DecisionRecorder  # /gate decisions to the log, through the challenger
    draining: bool = False


def state(request: Request) -> AppState:
    return cast(AppState, request.app.state.rewardgate)
