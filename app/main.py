"""The app factory. ``create_app(settings)``; nothing is built at import time."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

import torch
from fastapi import FastAPI

from . import errors
from .batcher import Batcher
from .errors import ApiError
from .metrics import Metrics
from .middleware import BodyLimit, RequestMetrics
from .models import ModelManager
from .routes import router
from .settings import Settings

log = logging.getLogger("rewardgate")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # One thread runs all torch work (loading, warm-up, every forward): see models.py.
        torch_thread = ThreadPoolExecutor(1, thread_name_prefix="rewardgate-torch")
        if settings.torch_threads:
            torch_thread.submit(torch.set_num_threads, settings.torch_threads).result()
        models = app.state.models = ModelManager(settings, metrics, torch_thread)
        batcher = app.state.batcher = Batcher(settings, metrics, torch_thread)
        batcher.start()
        # Load in the background: the server answers /healthz at once and /readyz says 503
        # until the model is warm (or why it could not load).
        load = asyncio.create_task(_initial_load(models))
        models.start_watch()
        try:
            yield
        finally:
            app.state.draining = True
            load.cancel()
            await models.stop_watch()
            await batcher.stop(settings.drain_timeout_s)
            torch_thread.shutdown(wait=True)

    app = FastAPI(
        title="rewardgate",
        version="0.1.0",
        lifespan=lifespan,
        description="Score LLM responses with a reward model distilled from human rankings, and gate them.",
    )
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.draining = False
    errors.install(app)
    app.include_router(router)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(RequestMetrics, metrics=metrics)
    return app


async def _initial_load(models: ModelManager) -> None:
    try:
        await models.reload()
    except ApiError as exc:
        log.error("no model served yet: %s", exc.message)
