"""The app factory. ``create_app(settings)``; nothing is built at import time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

import torch
from fastapi import FastAPI

from . import docs, errors
from .batcher import Batcher
from .compat import router as compat_router
from .decision_log import DecisionLog
from .metrics import Metrics
from .middleware import BodyLimit, RequestMetrics
from .ranking import router as ranking_router
from .registry import ModelRegistry
from .routes import router
from .settings import Settings
from .state import AppState


def create_app(settings: Settings) -> FastAPI:
    metrics = Metrics()
    # One thread runs all torch work (loading, warm-up, every forward): see registry.py.
    torch_thread = ThreadPoolExecutor(1, thread_name_prefix="rewardgate-torch")
    st = AppState(
        settings=settings,
        metrics=metrics,
        torch_thread=torch_thread,
        registry=ModelRegistry(settings, metrics, torch_thread),
        batcher=Batcher(settings, metrics, torch_thread),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.torch_threads:
            torch_thread.submit(torch.set_num_threads, settings.torch_threads).result()
        if settings.decision_log is not None:
            st.decision_log = DecisionLog(settings.decision_log, metrics, settings.decision_log_queue)
        st.batcher.start()
        # Load in the background: the server answers /healthz at once and /readyz says 503
        # until the model is warm (or why it could not load).
        load = asyncio.create_task(st.registry.initial_load())
        st.registry.start_watch()
        try:
            yield
        finally:
            st.draining = True
            load.cancel()
            await st.registry.stop_watch()
            if st.background_tasks:  # challenger scoring of answered requests: let it finish briefly
                await asyncio.wait(st.background_tasks, timeout=2.0)
            await st.batcher.stop(settings.drain_timeout_s)
            if st.decision_log is not None:
                await asyncio.to_thread(st.decision_log.close)
            st.registry.close()
            torch_thread.shutdown(wait=True)

    app = FastAPI(
        title="rewardgate",
        version="0.1.0",
        lifespan=lifespan,
        description="Score LLM responses with a reward model distilled from human rankings, and gate them.",
        docs_url=None,  # app/docs.py serves /docs from vendored assets, offline
        redoc_url=None,  # ReDoc would load its script from a CDN: off rather than blank
    )
    docs.install(app)
    app.state.rewardgate = st
    errors.install(app)
    app.include_router(router)
    app.include_router(compat_router)
    app.include_router(ranking_router)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    paths = frozenset(getattr(r, "path", "") for rt in (router, compat_router, ranking_router) for r in rt.routes)
    app.add_middleware(RequestMetrics, metrics=metrics, routes=paths)
    return app
