"""HTTP routes. Handlers stay thin: take the request's shape, score through ``scoring.score_items``,
and return the typed answer (``schemas.py``), which FastAPI checks and serializes. A new scoring
route is one handler here plus its request and answer models."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from . import catalog, gating
from . import exceptions as ex
from .auth import require_admin_key, require_api_key, require_metrics_key
from .errors import responses
from .recorder import Gated
from .schemas import (
    ChallengerInfo,
    ChallengerRequest,
    GateRequest,
    GateResponse,
    Health,
    ModelList,
    Ready,
    ReloadRequest,
    ReloadResult,
    ScoreRequest,
    ScoreResponse,
    ScoreResult,
)
from .scoring import AUTH_ERRORS, SCORING_ERRORS, Item, Scored, StateDep, score_items

router = APIRouter()


def _items(body: ScoreRequest) -> list[Item]:
    return [(None, it) if isinstance(it, str) else (it.prompt, it.response) for it in body.items]


@router.post(
    "/score",
    response_model=ScoreResponse,
    responses=responses(*SCORING_ERRORS),
    dependencies=[Depends(require_api_key)],
    summary="Raw rewards for items, in order",
)
async def score(request: Request, response: Response, st: StateDep, body: ScoreRequest) -> ScoreResponse:
    done = await score_items(request, st, _items(body))
    response.headers.update(done.headers())
    return ScoreResponse(
        model=done.scorer.ref,
        results=[
            ScoreResult(score=s, scores=done.scorer.dimension_scores(s) or None, truncated=t)
            for s, t in zip(done.scores, done.truncated, strict=True)
        ],
    )


@router.post(
    "/gate",
    response_model=GateResponse,
    responses=responses(*SCORING_ERRORS),
    dependencies=[Depends(require_api_key)],
    summary="Allow or block each item against a threshold",
)
async def gate(request: Request, response: Response, st: StateDep, body: GateRequest) -> GateResponse:
    g, _ = await gate_items(request, response, st, _items(body), body.threshold, body.thresholds)
    return gate_answer(g)


def gate_answer(g: Gated) -> GateResponse:
    """/gate's answer to a gated request (``/rank`` extends it)."""
    return GateResponse(
        request_id=g.request_id,
        model=g.scorer.ref,
        mode=g.mode,
        threshold=g.threshold,
        threshold_source=g.source,
        results=g.results,
    )


async def gate_items(
    request: Request,
    response: Response,
    st: StateDep,
    items: list[Item],
    requested: float | None,
    requested_dimensions: dict[str, float] | None = None,
    where: str = "items",
) -> tuple[Gated, Scored]:
    """/gate's path, shared by every route that gates: score, decide, count, record (decision
    log, challenger); sets the X-Request-ID and timing headers on ``response``.
    ``requested_dimensions``: the request's thresholds per quality dimension."""
    rid = gating.request_id(request.headers.get("x-request-id"))
    done = await score_items(request, st, items, where=where)
    scorer, mode = done.scorer, st.settings.gate_mode
    threshold, source = gating.threshold_for(requested, st.settings.threshold, scorer.manifest_threshold)
    dimensions = gating.Dimensions.of(scorer.dimension_thresholds, st.settings.gate_dimensions, requested_dimensions)
    results = gating.decide(done.scores, done.truncated, threshold, mode, dimensions)
    gating.tally(st.metrics, results)
    gated = Gated(
        rid, scorer, done.items, results, threshold, source, requested, mode, dimensions, requested_dimensions or {}
    )
    st.recorder.record(gated, st.registry.challenger, st.registry.challenger_share)
    response.headers.update({"X-Request-ID": rid, **done.headers()})
    return gated, done


@router.get("/healthz", response_model=Health, summary="The process is alive")
async def healthz() -> Health:
    return Health()


@router.get(
    "/readyz",
    response_model=Ready,
    summary="A model is loaded and warmed (200), else 503",
    responses=responses(ex.NotReady, ex.ShuttingDown),
)
async def readyz(st: StateDep) -> Ready:
    if st.draining:
        raise ex.ShuttingDown("shutting down")
    return Ready(model=st.registry.require().ref)


@router.get(
    "/metrics",
    response_class=Response,  # no JSON 200 in the schema: the text one below is the answer
    summary="Prometheus metrics",
    dependencies=[Depends(require_metrics_key)],
    responses={
        200: {"description": "Prometheus text format", "content": {"text/plain": {"schema": {"type": "string"}}}},
        **responses(*AUTH_ERRORS),
    },
)
async def metrics_route(st: StateDep) -> Response:
    st.metrics.queue_depth.set(st.batcher.depth)
    return Response(generate_latest(st.metrics.registry), media_type=CONTENT_TYPE_LATEST)


@router.get(
    "/v1/models",
    response_model=ModelList,
    summary="Versions in the store and the one served",
    dependencies=[Depends(require_api_key)],
    responses=responses(*AUTH_ERRORS),
)
async def list_models(st: StateDep) -> ModelList:
    return await asyncio.to_thread(catalog.model_list, st.registry)


@router.post(
    "/admin/reload",
    response_model=ReloadResult,
    summary="Switch to `current` or a named version without dropping requests",
    dependencies=[Depends(require_admin_key)],
    responses=responses(*AUTH_ERRORS, ex.InvalidInput, ex.ReloadFailed, ex.ShuttingDown),
)
async def reload(st: StateDep, body: Annotated[ReloadRequest | None, Body()] = None) -> ReloadResult:
    return await st.registry.reload(body.version if body else None)


@router.post(
    "/admin/challenger",
    response_model=ChallengerInfo,
    summary="Score a share of gated items with a second version, off the request path (version null: stop)",
    dependencies=[Depends(require_admin_key)],
    responses=responses(*AUTH_ERRORS, ex.InvalidInput, ex.ReloadFailed, ex.ShuttingDown),
)
async def challenger(st: StateDep, body: ChallengerRequest) -> ChallengerInfo:
    return await st.registry.set_challenger(body.version, body.share)
