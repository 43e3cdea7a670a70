"""HTTP routes. Handlers stay thin: validate limits, pick the served version, hand items to the
batcher, shape the answer."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from .auth import require_admin_key, require_api_key, require_metrics_key
from .batcher import Batcher
from .errors import ApiError
from .metrics import Metrics
from .models import ModelManager
from .schemas import ErrorResponse, GateRequest, GateResponse, ReloadRequest, ScoreRequest, ScoreResponse
from .scorer import Scorer
from .settings import Settings

router = APIRouter()

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse, "description": desc}
    for code, desc in [
        (401, "missing API key"),
        (403, "wrong API key"),
        (413, "too many items or body too large"),
        (422, "invalid input"),
        (429, "queue full (see Retry-After)"),
        (503, "no model ready"),
        (504, "timed out in queue"),
    ]
}
INLINE_TOKENIZE_CHARS = 4096  # below this, a thread hop costs more than tokenizing in place


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


async def get_models(request: Request) -> ModelManager:
    return request.app.state.models  # type: ignore[no-any-return]


async def get_batcher(request: Request) -> Batcher:
    return request.app.state.batcher  # type: ignore[no-any-return]


async def get_metrics(request: Request) -> Metrics:
    return request.app.state.metrics  # type: ignore[no-any-return]


SettingsDep = Annotated[Settings, Depends(get_settings)]
ModelsDep = Annotated[ModelManager, Depends(get_models)]
BatcherDep = Annotated[Batcher, Depends(get_batcher)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]


def _items(body: ScoreRequest, settings: Settings) -> list[tuple[str | None, str]]:
    if len(body.items) > settings.max_items:
        raise ApiError(413, "too_many_items", f"{len(body.items)} items; at most {settings.max_items} per request")
    items: list[tuple[str | None, str]] = []
    for i, it in enumerate(body.items):
        prompt, response = (None, it) if isinstance(it, str) else (it.prompt, it.response)
        for field, text in (("prompt", prompt), ("response", response)):
            if text is not None and len(text) > settings.max_chars:
                raise ApiError(422, "invalid_input", f"items.{i}.{field}: longer than {settings.max_chars} characters")
        if not response.strip():
            raise ApiError(422, "invalid_input", f"items.{i}.response: empty text")
        items.append((prompt, response))
    return items


async def _score(request: Request, body: ScoreRequest) -> tuple[Scorer, list[float]]:
    settings: Settings = request.app.state.settings
    items = _items(body, settings)
    if request.app.state.draining:
        raise ApiError(503, "not_ready", "the server is shutting down", {"Retry-After": "1"})
    scorer = request.app.state.models.require()  # pinned for the whole request, across reloads
    if sum(len(r) + len(p or "") for p, r in items) > INLINE_TOKENIZE_CHARS:
        seqs = await asyncio.to_thread(scorer.encode, items)
    else:
        seqs = scorer.encode(items)
    work = asyncio.ensure_future(request.app.state.batcher.submit(scorer, seqs))
    gone = asyncio.ensure_future(request.receive())  # resolves only when the client disconnects
    try:
        await asyncio.wait((work, gone), return_when=asyncio.FIRST_COMPLETED)
    finally:
        gone.cancel()
    if not work.done():
        work.cancel()  # the caller left: its queued items are dropped before compute
        raise ApiError(499, "client_closed", "client disconnected")
    scores = work.result()
    metrics: Metrics = request.app.state.metrics
    for s in scores:
        metrics.scores.observe(s)
    return scorer, scores


@router.post(
    "/score",
    response_model=ScoreResponse,
    responses=ERRORS,
    dependencies=[Depends(require_api_key)],
    summary="Raw rewards for items, in order",
)
async def score(request: Request, body: ScoreRequest) -> JSONResponse:
    scorer, scores = await _score(request, body)
    return JSONResponse({"model": scorer.ref, "results": [{"score": s} for s in scores]})


@router.post(
    "/gate",
    response_model=GateResponse,
    responses=ERRORS,
    dependencies=[Depends(require_api_key)],
    summary="Allow or block each item against a threshold",
)
async def gate(request: Request, body: GateRequest, settings: SettingsDep, metrics: MetricsDep) -> JSONResponse:
    scorer, scores = await _score(request, body)
    if body.threshold is not None:
        threshold, source = body.threshold, "request"
    elif settings.threshold is not None:
        threshold, source = settings.threshold, "settings"
    else:
        threshold, source = scorer.manifest_threshold, "manifest"
    results = []
    allowed_n = 0
    for s in scores:
        ok = s >= threshold
        allowed_n += ok
        results.append({"score": s, "allowed": ok, "decision": "allow" if ok else "block"})
    if allowed_n:
        metrics.decisions.labels("allow").inc(allowed_n)
    if len(scores) - allowed_n:
        metrics.decisions.labels("block").inc(len(scores) - allowed_n)
    return JSONResponse({"model": scorer.ref, "threshold": threshold, "threshold_source": source, "results": results})


@router.get("/healthz", summary="The process is alive")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz", summary="A model is loaded and warmed (200), else 503", responses={503: {"model": ErrorResponse}}
)
async def readyz(request: Request, models: ModelsDep) -> JSONResponse:
    if request.app.state.draining:
        raise ApiError(503, "not_ready", "shutting down")
    scorer = models.require()
    return JSONResponse({"status": "ready", "model": scorer.ref})


@router.get("/metrics", summary="Prometheus metrics", dependencies=[Depends(require_metrics_key)])
async def metrics_route(metrics: MetricsDep, batcher: BatcherDep) -> Response:
    metrics.queue_depth.set(batcher.depth)
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)


@router.get("/v1/models", summary="Versions in the store and the one served", dependencies=[Depends(require_api_key)])
async def list_models(models: ModelsDep) -> dict[str, Any]:
    return await asyncio.to_thread(models.versions)


@router.post(
    "/admin/reload",
    summary="Switch to `current` or a named version without dropping requests",
    dependencies=[Depends(require_admin_key)],
    responses={409: {"model": ErrorResponse}},
)
async def reload(models: ModelsDep, body: Annotated[ReloadRequest | None, Body()] = None) -> dict[str, Any]:
    return await models.reload(body.version if body else None)
