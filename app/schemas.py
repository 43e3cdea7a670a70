"""Request and response bodies (pydantic v2, unknown fields refused)."""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

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

    @field_validator("threshold")
    @classmethod
    def _finite(cls, v: float | None) -> float | None:
        if v is not None and not math.isfinite(v):
            raise ValueError("threshold must be a finite number")
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


class ScoreResult(BaseModel):
    score: float = Field(description="raw reward (no activation)")


class GateResult(ScoreResult):
    allowed: bool
    decision: Literal["allow", "block"]
    would_block: bool = Field(description="the threshold blocks it (in shadow mode, `allowed` is true all the same)")


class ScoreResponse(BaseModel):
    model: ModelRef
    results: list[ScoreResult]


class GateResponse(BaseModel):
    request_id: str = Field(description="as logged in the decision log; also the X-Request-ID header")
    model: ModelRef
    mode: Literal["enforce", "shadow"]
    threshold: float
    threshold_source: Literal["request", "settings", "manifest"]
    results: list[GateResult]


class ErrorBody(BaseModel):
    type: str
    message: str


class ErrorResponse(BaseModel):
    error: ErrorBody
