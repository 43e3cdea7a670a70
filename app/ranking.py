"""Best-of-n: ``POST /rank``, and the rerank APIs clients already speak, text-embeddings-inference's
``POST /rerank`` and Cohere's, Jina's and vLLM's ``POST /v1/rerank``. All three take one prompt
and its candidate replies down one path: ``score_items`` (limits, the batcher, metrics, TEI's
timing headers), then ``/gate``'s decision, shadow mode and decision log. Only the answer's
shape differs.

The candidates of one request are queued together and share the batcher's forwards. Each is
encoded as its own (prompt, response) sequence: the batcher scores independent sequences, so the
prompt's tokens are computed once per candidate (sharing them would need a cached prompt prefix
the forward does not have).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

from fastapi import APIRouter, Depends, Request, Response

from . import exceptions as ex
from .auth import require_api_key
from .compat import _check_model, _sigmoid
from .errors import responses
from .recorder import Gated
from .routes import gate_answer, gate_items
from .schemas import (
    CohereRerankRequest,
    CohereRerankResponse,
    CohereRerankResult,
    GateResult,
    RankRequest,
    RankResponse,
    RerankDocument,
    RerankUsage,
    TeiRank,
    TeiRerankRequest,
)
from .scoring import SCORING_ERRORS, Item, Scored, StateDep
from .state import AppState

router = APIRouter()


@dataclass
class Ranked:
    """One prompt's candidates: gated as /gate gates them, and ordered best first."""

    gated: Gated
    done: Scored
    order: list[int]
    best: int | None


def no_pass_reasons(results: list[GateResult]) -> list[str] | None:
    """Why no candidate passed, for a model with quality dimensions: each reason the candidates
    were given (``GateResult.reasons``), the one given to most of them first, then the furthest
    below its threshold. None for a one-output model: its score is all it has to say."""
    if not any(r.scores for r in results):
        return None
    given: Counter[str] = Counter()
    gap: dict[str, float] = {}
    for r in results:
        for why in r.reasons:
            given[why.dimension] += 1
            gap[why.dimension] = min(gap.get(why.dimension, math.inf), why.score - why.threshold)
    return sorted(given, key=lambda d: (-given[d], gap[d], d))


async def rank_candidates(
    request: Request,
    response: Response,
    st: AppState,
    prompt: str,
    candidates: list[str],
    requested: float | None = None,
    where: tuple[str, str] = ("prompt", "responses"),
) -> Ranked:
    """The one path of /rank, /rerank and /v1/rerank: /gate's path over the candidates, then the
    order. ``where`` names the request's prompt and candidate fields in error messages."""
    if len(prompt) > st.settings.max_chars:
        raise ex.InvalidInput(f"{where[0]}: longer than {st.settings.max_chars} characters")
    items: list[Item] = [(prompt, c) for c in candidates]
    gated, done = await gate_items(request, response, st, items, requested, where=where[1])
    order = sorted(range(len(done.scores)), key=lambda i: -done.scores[i])  # stable: ties keep the sent order
    best = next((i for i in order if gated.results[i].allowed), None)
    return Ranked(gated, done, order, best)


@router.post(
    "/rank",
    response_model=RankResponse,
    responses=responses(*SCORING_ERRORS),
    dependencies=[Depends(require_api_key)],
    summary="Best-of-n: score and gate one prompt's candidate replies, best first",
)
async def rank(request: Request, response: Response, st: StateDep, body: RankRequest) -> RankResponse:
    r = await rank_candidates(request, response, st, body.prompt, body.responses, body.threshold)
    g = r.gated
    return RankResponse(
        **dict(gate_answer(g)),
        order=r.order,
        best=r.best,
        reasons=no_pass_reasons(g.results) if r.best is None else None,
    )


@router.post(
    "/rerank",
    response_model=list[TeiRank],
    response_model_exclude_none=True,
    responses=responses(*SCORING_ERRORS),
    dependencies=[Depends(require_api_key)],
    tags=["compatible"],
    summary="text-embeddings-inference-compatible rerank: the query's texts, best first",
)
async def rerank_tei(request: Request, response: Response, st: StateDep, body: TeiRerankRequest) -> list[TeiRank]:
    r = await rank_candidates(request, response, st, body.query, body.texts, where=("query", "texts"))
    scores = r.done.scores
    return [
        TeiRank(
            index=i,
            score=scores[i] if body.raw_scores else _sigmoid(scores[i]),
            text=body.texts[i] if body.return_text else None,
        )
        for i in r.order
    ]


@router.post(
    "/v1/rerank",
    response_model=CohereRerankResponse,
    response_model_exclude_none=True,
    responses=responses(*SCORING_ERRORS, ex.NotFound),
    dependencies=[Depends(require_api_key)],
    tags=["compatible"],
    summary="Cohere/Jina/vLLM-compatible rerank: the query's documents, best first",
)
async def rerank_v1(
    request: Request, response: Response, st: StateDep, body: CohereRerankRequest
) -> CohereRerankResponse:
    _check_model(body.model, st.registry.require())
    texts = [d if isinstance(d, str) else d.text for d in body.documents]
    r = await rank_candidates(request, response, st, body.query, texts, where=("query", "documents"))
    scores = r.done.scores
    return CohereRerankResponse(
        id=r.gated.request_id,
        model=r.done.scorer.name,
        results=[
            CohereRerankResult(
                index=i,
                relevance_score=_sigmoid(scores[i]),
                document=RerankDocument(text=texts[i]) if body.return_documents else None,
            )
            for i in r.order[: body.top_n]
        ],
        usage=RerankUsage(total_tokens=r.done.tokens),
    )
