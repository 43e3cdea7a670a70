"""HTTP routes. Handlers stay thin: validate limits, pick the served version, hand items to the
batcher, shape the answer."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from . import exceptions as ex
from . import gating
from .auth import require_admin_key, require_api_key, require_metrics_key
from .batcher import Timing
from .errors import responses
from .schemas import ChallengerRequest, GateRequest, GateResponse, ReloadRequest, ScoreRequest, ScoreResponse
from .scorer import Scorer
from .settings import Settings
from .state import AppState, state

router = APIRouter()

INLINE_TOKENIZE_CHARS = 4096  # below this, a thread hop costs more than tokenizing in place
AUTH_ERRORS = (ex.Unauthorized, ex.Forbidden)
SCORING_ERRORS = (
    *AUTH_ERRORS,
    ex.TooManyItems,
    ex.BodyTooLarge,
    ex.InvalidInput,
    ex.QueueFull,
    ex.InferenceFailed,
    ex.NotReady,
    ex.ShuttingDown,
    ex.TimedOut,
)


async def get_state(request: Request) -> AppState:
    return state(request)


StateDep = Annotated[AppState, Depends(get_state)]


def check_items(items: list[tuple[str | None, str]], settings: Settings, where: str = "items") -> None:
    """The service's limits on items, whichever route's shape they came in."""
    if len(items) > settings.max_items:
        raise ex.TooManyItems(f"{len(items)} items; at most {settings.max_items} per request")
    for i, (prompt, response) in enumerate(items):
        for field, text in (("prompt", prompt), ("response", response)):
            if text is not None and len(text) > settings.max_chars:
                raise ex.InvalidInput(f"{where}.{i}.{field}: longer than {settings.max_chars} characters")
        if not response.strip():
            raise ex.InvalidInput(f"{where}.{i}.response: empty text")


def _items(body: ScoreRequest) -> list[tuple[str | None, str]]:
    return [(None, it) if isinstance(it, str) else (it.prompt, it.response) for it in body.items]


def _ms(seconds: float) -> str:
    return str(round(seconds * 1000))


@dataclass
class Scored:
    """One request's scores, the version that gave them, and where its time went."""

    scorer: Scorer
    items: list[tuple[str | None, str]]
    scores: list[float]
    truncated: list[bool]
    tokens: int
    timing: Timing
    tokenization_s: float
    started: float

    def headers(self) -> dict[str, str]:
        """TEI's timing headers (milliseconds), on every scoring route."""
        return {
            "x-total-time": _ms(time.perf_counter() - self.started),
            "x-tokenization-time": _ms(self.tokenization_s),
            "x-queue-time": _ms(self.timing.queue),
            "x-inference-time": _ms(self.timing.inference),
        }


async def score_items(
    request: Request, st: AppState, items: list[tuple[str | None, str]], where: str = "items"
) -> Scored:
    """Check limits, tokenize, queue for the batcher, and wait for the scores (or the caller
    leaving). The one path every scoring route takes."""
    started = time.perf_counter()
    check_items(items, st.settings, where)
    if st.draining:
        raise ex.ShuttingDown("the server is shutting down")
    scorer = st.registry.require()  # pinned for the whole request, across reloads
    t0 = time.perf_counter()
    if sum(len(r) + len(p or "") for p, r in items) > INLINE_TOKENIZE_CHARS:
        seqs, truncated = await asyncio.to_thread(scorer.encode, items)
    else:
        seqs, truncated = scorer.encode(items)
    tokenization_s = time.perf_counter() - t0
    timing = Timing()
    work = asyncio.ensure_future(st.batcher.submit(scorer, seqs, timing))
    gone = asyncio.ensure_future(request.receive())  # resolves only when the client disconnects
    try:
        await asyncio.wait((work, gone), return_when=asyncio.FIRST_COMPLETED)
    finally:
        gone.cancel()
    if not work.done():
        work.cancel()  # the caller left: its queued items are dropped before compute
        raise ex.ClientClosed("client disconnected")
    scores = work.result()
    for s in scores:
        st.metrics.scores.observe(s)
    return Scored(scorer, items, scores, truncated, sum(len(q) for q in seqs), timing, tokenization_s, started)


@router.post(
    "/score",
    response_model=ScoreResponse,
    responses=responses(*SCORING_ERRORS),
    dependencies=[Depends(require_api_key)],
    summary="Raw rewards for items, in order",
)
async def score(request: Request, st: StateDep, body: ScoreRequest) -> JSONResponse:
    done = await score_items(request, st, _items(body))
    return JSONResponse(
        {
            "model": done.scorer.ref,
            "results": [{"score": s, "truncated": t} for s, t in zip(done.scores, done.truncated, strict=True)],
        },
        headers=done.headers(),
    )


@router.post(
    "/gate",
    response_model=GateResponse,
    responses=responses(*SCORING_ERRORS),
    dependencies=[Depends(require_api_key)],
    summary="Allow or block each item against a threshold",
)
async def gate(request: Request, st: StateDep, body: GateRequest) -> JSONResponse:
    rid = gating.request_id(request.headers.get("x-request-id"))
    done = await score_items(request, st, _items(body))
    scorer = done.scorer
    threshold, source = gating.threshold_for(st, scorer, body.threshold)
    results = gating.decide(st, done.scores, threshold)
    for res, cut in zip(results, done.truncated, strict=True):
        res["truncated"] = cut
    gating.record(st, rid, scorer, done.items, results, threshold, source, body.threshold)
    return JSONResponse(
        {
            "request_id": rid,
            "model": scorer.ref,
            "mode": st.settings.gate_mode,
            "threshold": threshold,
            "threshold_source": source,
            "results": results,
        },
        headers={"X-Request-ID": rid, **done.headers()},
    )


@router.get("/healthz", summary="The process is alive")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="A model is loaded and warmed (200), else 503",
    responses=responses(ex.NotReady, ex.ShuttingDown),
)
async def readyz(st: StateDep) -> JSONResponse:
    if st.draining:
        raise ex.ShuttingDown("shutting down")
    return JSONResponse({"status": "ready", "model": st.registry.require().ref})


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    dependencies=[Depends(require_metrics_key)],
    responses=responses(*AUTH_ERRORS),
)
async def metrics_route(st: StateDep) -> Response:
    st.metrics.queue_depth.set(st.batcher.depth)
    return Response(generate_latest(st.metrics.registry), media_type=CONTENT_TYPE_LATEST)


@router.get(
    "/v1/models",
    summary="Versions in the store and the one served",
    dependencies=[Depends(require_api_key)],
    responses=responses(*AUTH_ERRORS),
)
async def list_models(st: StateDep) -> dict[str, Any]:
    return await asyncio.to_thread(st.registry.versions)


@router.post(
    "/admin/reload",
    summary="Switch to `current` or a named version without dropping requests",
    dependencies=[Depends(require_admin_key)],
    responses=responses(*AUTH_ERRORS, ex.InvalidInput, ex.ReloadFailed),
)
async def reload(st: StateDep, body: Annotated[ReloadRequest | None, Body()] = None) -> dict[str, Any]:
    return await st.registry.reload(body.version if body else None)


@router.post(
    "/admin/challenger",
    summary="Score a share of gated items with a second version, off the request path (version null: stop)",
    dependencies=[Depends(require_admin_key)],
    responses=responses(*AUTH_ERRORS, ex.InvalidInput, ex.ReloadFailed),
)
async def challenger(st: StateDep, body: ChallengerRequest) -> dict[str, Any]:
    return await st.registry.set_challenger(body.version, body.share)
