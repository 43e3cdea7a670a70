"""Drop-in routes for clients written against other reward-model servers: vLLM's
``POST /classify`` and text-embeddings-inference's ``POST /predict``. Both go through the same
limits, batcher, auth and metrics as ``/score``; errors keep rewardgate's one error shape."""

from __future__ import annotations

import math
import time
import uuid

from fastapi import APIRouter, Depends, Request, Response

from . import exceptions as ex
from .auth import require_api_key
from .errors import responses
from .schemas import ClassifyData, ClassifyRequest, ClassifyResponse, Prediction, PredictRequest, Usage
from .scorer import Scorer
from .scoring import SCORING_ERRORS, Item, StateDep, score_items

router = APIRouter(tags=["compatible"])


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


def _check_model(asked: str | None, scorer: Scorer) -> None:
    if asked is not None and asked not in (scorer.name, f"{scorer.name}/{scorer.version}", scorer.version):
        raise ex.NotFound(f"The model `{asked}` does not exist; this server serves `{scorer.name}`")


@router.post(
    "/classify",
    response_model=ClassifyResponse,
    responses=responses(*SCORING_ERRORS, ex.NotFound),
    dependencies=[Depends(require_api_key)],
    summary="vLLM-compatible classification: one reward per input text",
)
async def classify(request: Request, response: Response, st: StateDep, body: ClassifyRequest) -> ClassifyResponse:
    _check_model(body.model, st.registry.require())
    texts = [body.input] if isinstance(body.input, str) else body.input
    done = await score_items(request, st, [(None, t) for t in texts], where="input")
    activate = body.use_activation if body.use_activation is not None else body.activation
    probs = [s if activate is False else _sigmoid(s) for s in done.scores]
    response.headers.update(done.headers())
    return ClassifyResponse(
        id=f"classify-{uuid.uuid4().hex}",
        created=int(time.time()),
        model=done.scorer.name,
        data=[ClassifyData(index=i, label=done.scorer.label, probs=[p], num_classes=1) for i, p in enumerate(probs)],
        usage=Usage(prompt_tokens=done.tokens, total_tokens=done.tokens),
    )


def _as_item(seq: str | list[str]) -> Item:
    if isinstance(seq, str):
        return (None, seq)
    return (seq[0], seq[1]) if len(seq) == 2 else (None, seq[0])


def _predict_items(inputs: str | list[str] | list[str | list[str]]) -> tuple[list[Item], bool]:
    """TEI's reading of ``inputs``: a text, or a list of exactly two texts, is one input (a pair);
    any other list is a batch. Returns the items and whether the request was a batch."""
    if isinstance(inputs, str):
        return [(None, inputs)], False
    if len(inputs) == 2 and all(isinstance(x, str) for x in inputs):
        return [(str(inputs[0]), str(inputs[1]))], False
    return [_as_item(x) for x in inputs], True


@router.post(
    "/predict",
    response_model=list[Prediction] | list[list[Prediction]],
    responses=responses(*SCORING_ERRORS),
    dependencies=[Depends(require_api_key)],
    summary="text-embeddings-inference-compatible prediction: a text, a [prompt, response] pair, or a batch",
)
async def predict(
    request: Request, response: Response, st: StateDep, body: PredictRequest
) -> list[Prediction] | list[list[Prediction]]:
    items, batch = _predict_items(body.inputs)
    done = await score_items(request, st, items, where="inputs")
    label = done.scorer.label
    out = [[Prediction(score=s if body.raw_scores else _sigmoid(s), label=label)] for s in done.scores]
    response.headers.update(done.headers())
    return out if batch else out[0]
