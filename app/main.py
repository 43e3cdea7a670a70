"""The app factory. ``create_app(settings)``; nothing is built at import time."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

import torch
from fastapi import FastAPI

from model_store import ModelStore

from . import docs, errors
from .batcher import Batcher
from .compat import router as compat_router
from .decision_log import DecisionLog
from .metrics import Metrics
from .middleware import BodyLimit, RequestMetrics
from .moderations import router as moderations_router
from .ranking import router as ranking_router
from .recorder import DecisionRecorder
from .registry import ModelRegistry
from .routes import router
from .settings import Settings
from .state import AppState


def create_app(settings: Settings, store: ModelStore | None = None) -> FastAPI:
    """The app; ``store``: an already open model store instead of the one ``settings`` names."""
    metrics = Metrics()
    # One thread runs all torch work (loading, warm-up, every forward): see registry.py.
    torch_thread = ThreadPoolExecutor(1, thread_name_prefix="rewardgate-torch")
    batcher = Batcher(settings, metrics, torch_thread)
    st = AppState(
        settings=settings,
        metrics=metrics,
        torch_thread=torch_thread,
        registry=ModelRegistry(settings, metrics, torch_thread, store),
        batcher=batcher,
        recorder=DecisionRecorder(
            batcher, metrics, settings.threshold, settings.decision_log_text, settings.gate_dimensions
        ),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.torch_threads:
            torch_thread.submit(torch.set_num_threads, settings.torch_threads).result()
        if settings.decision_log is not None:
            st.recorder.sink = DecisionLog(settings.decision_log, metrics, settings.decision_log_queue)
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
            with contextlib.suppress(asyncio.CancelledError):
                await load  # a load cut short lets go of its lease before the registry closes
            await st.registry.stop_watch()
            await st.recorder.finish(timeout=2.0)  # challenger scoring of answered requests: briefly
            # `python -m app` starts the drain clock when shutdown begins (__main__.py); under any
            # other server this is where it starts
            await st.batcher.stop(settings.drain_timeout_s)
            if st.recorder.sink is not None:
                await asyncio.to_thread(st.recorder.sink.close)
            await st.registry.close()
            # a forward still running (its callers already answered 503) ends before the thread
            await asyncio.to_thread(torch_thread.shutdown, wait=True)

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
    app.include_router(moderations_router)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    paths = frozenset(
        getattr(r, "path", "") for rt in (router, compat_router, ranking_router, moderations_router) for r in rt.routes
    )
    app.add_middleware(RequestMetrics, metrics=metrics, routes=paths)
    return app
