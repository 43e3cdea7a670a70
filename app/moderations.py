"""OpenAI's moderation API, ``POST /v1/moderations``: a backend that moderates replies through
OpenAI's client points ``base_url`` here and changes nothing else. The categories are the served
model's quality dimensions (``overall`` for a model without any); the texts take ``/gate``'s path
(limits, batcher, decision, shadow mode, decision log, challenger), so ``flagged`` is exactly
``/gate``'s ``would_block``."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from modeling.reasons import OVERALL

from . import exceptions as ex
from .auth import require_api_key
from .compat import _check_model, _sigmoid
from .errors import responses
from .recorder import Gated
from .routes import gate_items
from .schemas import GateResult, ModerationRequest, ModerationResponse, ModerationResult
from .scoring import SCORING_ERRORS, StateDep

router = APIRouter()


def category_score(score: float, threshold: float) -> float:
    """How far below its threshold a score is, as OpenAI's 0..1 category score: sigmoid(threshold
    - score), above 0.5 exactly when the category is flagged."""
    return _sigmoid(threshold - score)


def moderation(res: GateResult, g: Gated) -> ModerationResult:
    """One text's answer: its gate decision, and a category per quality dimension."""
    scores = res.scores or {OVERALL: res.score}
    cuts = g.dimensions.thresholds or {OVERALL: g.threshold}
    below = {r.dimension for r in res.reasons}
    return ModerationResult(
        flagged=res.would_block,
        categories={d: d in below for d in scores},
        category_scores={d: category_score(s, cuts[d]) for d, s in scores.items()},
    )


@router.post(
    "/v1/moderations",
    response_model=ModerationResponse,
    responses=responses(*SCORING_ERRORS, ex.NotFound),
    dependencies=[Depends(require_api_key)],
    tags=["compatible"],
    summary="OpenAI-compatible moderation: flagged, and a category per quality dimension, for each reply",
)
async def moderations(
    request: Request, response: Response, st: StateDep, body: ModerationRequest
) -> ModerationResponse:
    _check_model(body.model, st.registry.require())
    texts = [body.input] if isinstance(body.input, str) else body.input
    g, _ = await gate_items(request, response, st, [(None, t) for t in texts], None, where="input")
    return ModerationResponse(
        id=f"modr-{g.request_id}", model=g.scorer.name, results=[moderation(r, g) for r in g.results]
    )
