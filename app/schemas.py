"""Request and response bodies (pydantic v2, unknown fields refused)."""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from model_store import EvalMetrics

NonEmpty = Annotated[str, StringConstraints(min_length=1)]


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prompt: str | None = Field(None, description="what the user asked (optional)")
    response: NonEmpty = Field(description="the reply to judge")


class ScoreRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "prompt": "Where is my order #12345?",
                            "response": "Hi Sam, it is out for delivery and arrives tomorrow.",
                        },
                        "Stop emailing us about this.",
                    ]
                }
            ]
        },
    )
    items: list[Item | NonEmpty] = Field(
        min_length=1, description="items to score; a bare string is a response without a prompt"
    )


class GateRequest(ScoreRequest):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "items": [{"prompt": "I forgot my password.", "response": "Figure it out yourself."}],
                    "threshold": 0.0,
                }
            ]
        },
    )
    threshold: float | None = Field(None, description="overrides the configured and the calibrated threshold")
    thresholds: dict[str, float] = Field(
        default_factory=dict,
        description="per quality dimension of the model: overrides its calibrated threshold (a name the model "
        "does not have is refused)",
    )

    @field_validator("threshold")
    @classmethod
    def _finite(cls, v: float | None) -> float | None:
        if v is not None and not math.isfinite(v):
            raise ValueError("threshold must be a finite number")
        return v

    @field_validator("thresholds")
    @classmethod
    def _all_finite(cls, v: dict[str, float]) -> dict[str, float]:
        if not all(math.isfinite(x) for x in v.values()):
            raise ValueError("thresholds must be finite numbers")
        return v


class ReloadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: str | None = Field(None, description="a version id; default: the store's `current`")


class ChallengerRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: str | None = Field(description="a version id to score beside the served one; null stops the challenger")
    share: float | None = Field(None, ge=0, le=1, description="share of gated items it scores (default: unchanged)")


class ModelRef(BaseModel):
    name: str
    version: str


def _absent(v: object) -> bool:
    return v is None


# a one-output model's answers leave it out: they keep the shape they always had
DimensionScores = Annotated[
    dict[str, float] | None,
    Field(
        None,
        exclude_if=_absent,
        description="raw reward per quality dimension, for a model with dimensions (absent otherwise)",
    ),
]


class ScoreResult(BaseModel):
    score: float = Field(description="raw reward (no activation): the overall one")
    scores: DimensionScores
    truncated: bool = Field(
        description="the response itself was cut to fit the model's max_length (a cut prompt alone is not reported)"
    )


class Reason(BaseModel):
    dimension: str = Field(description="a quality dimension of the model, or 'overall' (the overall score)")
    score: float
    threshold: float


class GateResult(BaseModel):
    # not a ScoreResult subclass: the fields keep the order the answers always had
    score: float = Field(description="raw reward (no activation): the overall one")
    scores: DimensionScores
    allowed: bool
    decision: Literal["allow", "block"]
    would_block: bool = Field(
        description="the threshold blocks it: the overall score, or a gating dimension (REWARDGATE_GATE_DIMENSIONS); "
        "in shadow mode, `allowed` is true all the same"
    )
    reasons: list[Reason] = Field(
        default_factory=list,
        description="the dimensions below their thresholds, worst first (whether or not they gate), then 'overall' "
        "when the overall score is below its threshold; empty when nothing is",
    )
    truncated: bool = Field(
        description="the response itself was cut to fit the model's max_length (a cut prompt alone is not reported)"
    )


class ScoreResponse(BaseModel):
    model: ModelRef
    results: list[ScoreResult]


GateMode = Literal["enforce", "shadow"]
ThresholdSource = Literal["request", "settings", "manifest"]


class GateResponse(BaseModel):
    request_id: str = Field(description="as logged in the decision log; also the X-Request-ID header")
    model: ModelRef
    mode: GateMode
    threshold: float
    threshold_source: ThresholdSource
    results: list[GateResult]


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Ready(BaseModel):
    status: Literal["ready"] = "ready"
    model: ModelRef


class ReloadResult(BaseModel):
    previous: str | None = Field(description="the version served before (null: none)")
    version: str = Field(description="the version served now")
    seconds: float = Field(description="how long the load, verification and warm-up took")


class ChallengerInfo(BaseModel):
    version: str | None = Field(description="the challenger's version (null: none)")
    share: float = Field(description="share of gated items it scores (0 without a challenger)")


class ModelCard(BaseModel):
    """OpenAI's model-list entry, for vLLM-style clients that read ``data[0].id``."""

    id: str
    object: Literal["model"] = "model"
    owned_by: str = "rewardgate"
    version: str | None = Field(description="the version served")
    runtime: str | None = Field(None, description="what computes its forwards (REWARDGATE_CPU_RUNTIME on CPU)")


class VersionSummary(BaseModel):
    version: str
    created_at: str
    base_model: str
    metrics: EvalMetrics | None
    threshold: float = Field(description="the calibrated threshold in its manifest")
    current: bool = Field(description="the store's `current` names it")
    served: bool = Field(description="this server scores with it (the champion)")


class UnreadableVersion(BaseModel):
    version: str
    error: str = Field(description="why its manifest could not be read")


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]
    name: str
    current: str | None
    served: str | None
    runtime: str | None = Field(None, description="what computes the served version's forwards")
    champion: str | None
    challenger: ChallengerInfo
    versions: list[VersionSummary | UnreadableVersion] = Field(description="newest first")


class ErrorBody(BaseModel):
    type: str
    message: str


class ErrorResponse(BaseModel):
    error: ErrorBody


# -- drop-in shapes of other reward-model servers --------------------------------------------
class ClassifyRequest(BaseModel):
    """vLLM's ``POST /classify`` request (the fields a reward model uses)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"model": "default", "input": ["Hi Sam, your refund is on its way.", "Not my problem."]}]
        },
    )
    model: str | None = Field(None, description="the served model's name (or name/version); omitted: the served one")
    input: NonEmpty | Annotated[list[NonEmpty], Field(min_length=1)] = Field(
        description="texts to score (each a response without a prompt)"
    )
    use_activation: bool | None = Field(None, description="false: the raw score in `probs`; default: its sigmoid")
    activation: bool | None = Field(None, description="older vLLM name of `use_activation`")
    user: str | None = Field(None, description="accepted and ignored, as vLLM does")
    priority: int | None = Field(None, description="accepted and ignored")
    truncate_prompt_tokens: int | None = Field(None, description="accepted; the model's own limit always applies")


class ClassifyData(BaseModel):
    index: int
    label: str
    probs: list[float] = Field(
        description="one value: the reward's sigmoid, or the raw reward with use_activation false"
    )
    num_classes: int


class Usage(BaseModel):
    prompt_tokens: int
    total_tokens: int
    completion_tokens: int = 0
    prompt_tokens_details: None = None


class ClassifyResponse(BaseModel):
    id: str
    object: Literal["list"] = "list"
    created: int
    model: str
    data: list[ClassifyData]
    usage: Usage


Sequence = NonEmpty | Annotated[list[NonEmpty], Field(min_length=1, max_length=2)]


class PredictRequest(BaseModel):
    """text-embeddings-inference's ``POST /predict`` request. As in TEI, a list of two strings is
    one pair (here: prompt, response); any other list is a batch of texts or pairs."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"inputs": "I like you."},
                {"inputs": [["Where is my order?", "It arrives tomorrow."], ["Hi", "Go away."]], "raw_scores": True},
            ]
        },
    )
    inputs: Sequence | Annotated[list[Sequence], Field(min_length=1)] = Field(
        description="a text, a [prompt, response] pair, or a list of them"
    )
    raw_scores: bool = Field(False, description="true: the raw reward; false: its sigmoid")
    truncate: bool | None = Field(None, description="accepted; over-long items are always truncated (prompt first)")
    truncation_direction: Literal["Left", "Right", "left", "right"] | None = Field(
        None, description="accepted; the model's own truncation side applies"
    )


class Prediction(BaseModel):
    score: float
    label: str


# -- best-of-n: /rank, and the rerank shapes of TEI (/rerank) and Cohere/Jina/vLLM (/v1/rerank) --
def _finite_threshold(v: float | None) -> float | None:
    if v is not None and not math.isfinite(v):
        raise ValueError("threshold must be a finite number")
    return v


Candidates = Annotated[list[NonEmpty], Field(min_length=1)]


class RankRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "prompt": "Where is my order #12345?",
                    "responses": [
                        "Hi Sam, it is out for delivery and arrives tomorrow.",
                        "Stop emailing us about this.",
                    ],
                }
            ]
        },
    )
    prompt: NonEmpty = Field(description="what the user asked; every response is judged as a reply to it")
    responses: Candidates = Field(description="the candidate replies (best-of-n)")
    threshold: float | None = Field(None, description="overrides the configured and the calibrated threshold")

    _finite = field_validator("threshold")(_finite_threshold)


class RankResponse(GateResponse):
    """/gate's answer for each (prompt, response), in the order sent, and the ranking."""

    order: list[int] = Field(description="indices of the responses, highest score first")
    best: int | None = Field(
        description="index of the highest-scoring allowed response; null when the gate blocks them all"
    )
    reasons: list[str] | None = Field(
        None,
        description="when no response passed, with a model that has quality dimensions: the reasons the responses "
        "were given (each result's `reasons`), the one given to most of them first; null otherwise",
    )


class TeiRerankRequest(BaseModel):
    """text-embeddings-inference's ``POST /rerank`` request: the query is the prompt, the texts
    the candidate replies."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "query": "Where is my order #12345?",
                    "texts": ["It arrives tomorrow.", "Stop emailing us."],
                    "return_text": True,
                }
            ]
        },
    )
    query: NonEmpty
    texts: Candidates
    raw_scores: bool = Field(False, description="true: the raw reward; false: its sigmoid")
    return_text: bool = Field(False, description="true: each result carries its text")
    truncate: bool | None = Field(None, description="accepted; over-long items are always truncated (prompt first)")
    truncation_direction: Literal["Left", "Right", "left", "right"] | None = Field(
        None, description="accepted; the model's own truncation side applies"
    )


class TeiRank(BaseModel):
    index: int
    score: float
    text: str | None = Field(None, description="only with return_text")


class RerankDocument(BaseModel):
    text: str


class CohereRerankRequest(BaseModel):
    """The rerank request of Cohere's v1 API, Jina and vLLM (``POST /v1/rerank``)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "model": "default",
                    "query": "Where is my order #12345?",
                    "documents": ["It arrives tomorrow.", "Stop emailing us."],
                    "top_n": 1,
                }
            ]
        },
    )
    model: str | None = Field(None, description="the served model's name (or name/version); omitted: the served one")
    query: NonEmpty
    documents: Annotated[list[NonEmpty | RerankDocument], Field(min_length=1)] = Field(
        description="candidate replies: strings, or objects with `text`"
    )
    top_n: int | None = Field(None, ge=1, description="return only the best n (default: all)")
    return_documents: bool = Field(True, description="false: results without the document text")
    rank_fields: list[str] | None = Field(None, description="accepted (Cohere); `text` is always what is ranked")
    max_chunks_per_doc: int | None = Field(None, description="accepted (Cohere); documents are never chunked")
    max_tokens_per_doc: int | None = Field(None, description="accepted; the model's own limit always applies")
    truncate_prompt_tokens: int | None = Field(None, description="accepted (vLLM); the model's own limit applies")
    user: str | None = Field(None, description="accepted and ignored")
    priority: int | None = Field(None, description="accepted and ignored (vLLM)")


class CohereRerankResult(BaseModel):
    index: int
    relevance_score: float = Field(description="the reward's sigmoid, in [0, 1]")
    document: RerankDocument | None = Field(None, description="unless return_documents is false")


class RerankUsage(BaseModel):
    total_tokens: int


class CohereRerankResponse(BaseModel):
    id: str
    model: str
    results: list[CohereRerankResult] = Field(description="best first")
    usage: RerankUsage


# -- OpenAI's moderation shape ----------------------------------------------------------------
class ModerationRequest(BaseModel):
    """OpenAI's ``POST /v1/moderations`` request: texts only (each a reply, without its prompt)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"input": ["Your card number is 4111 1111 1111 1111."]}]}
    )
    input: NonEmpty | Annotated[list[NonEmpty], Field(min_length=1)]
    model: str | None = Field(None, description="the served model's name (or name/version); default: the served one")


class ModerationResult(BaseModel):
    flagged: bool = Field(description="the gate would block it (the overall score or a gating dimension)")
    categories: dict[str, bool] = Field(
        description="per quality dimension of the model ('overall' for a model without any): below its threshold"
    )
    category_scores: dict[str, float] = Field(
        description="sigmoid(threshold - score) per category: above 0.5 exactly when the category is flagged"
    )


class ModerationResponse(BaseModel):
    id: str
    model: str
    results: list[ModerationResult]
