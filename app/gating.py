"""What /gate decides for each item. Pure: scores and thresholds in, decisions out.

In ``enforce`` mode an item is allowed when its score reaches the threshold and no gating quality
dimension is below its own; in ``shadow`` mode every item is allowed and ``would_block`` says what
enforce would have done. ``would_block`` is computed the same way in both modes, so a deny is
never rewritten into an allow in enforce mode. ``reasons`` say why: the dimensions below their
thresholds, worst first, then ``overall`` when the overall score is below its threshold.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from modeling.reasons import OVERALL, blocks, reasons_for

from . import exceptions as ex
from .metrics import Metrics
from .schemas import GateMode, GateResult, Reason, ThresholdSource
from .scorer import Scorer

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
NO_REASON = "none"  # the reason label of a decision no threshold spoke against


def request_id(header: str | None) -> str:
    """The caller's ``X-Request-ID`` when it is a sane token, else a fresh one."""
    return header if header and _REQUEST_ID.match(header) else uuid.uuid4().hex


def threshold_for(
    requested: float | None, configured: float | None, calibrated: float
) -> tuple[float, ThresholdSource]:
    """The request's threshold, else the configured one (``REWARDGATE_THRESHOLD``), else the one
    calibrated at training time; and which it was."""
    if requested is not None:
        return requested, "request"
    if configured is not None:
        return configured, "settings"
    return calibrated, "manifest"


@dataclass(frozen=True)
class Dimensions:
    """A version's quality dimensions as one request judges them: each one's threshold (the
    calibrated one, or the request's), and which of them block. Empty for a one-output model."""

    thresholds: dict[str, float] = field(default_factory=dict)  # in the model's output order
    gating: frozenset[str] = frozenset()

    @classmethod
    def of(cls, scorer: Scorer, setting: str, requested: Mapping[str, float] | None = None) -> Dimensions:
        """``setting``: ``REWARDGATE_GATE_DIMENSIONS`` (see ``gating_dimensions``); ``requested``:
        the request's thresholds by dimension, each a dimension of this model."""
        requested = requested or {}
        unknown = sorted(set(requested) - set(scorer.dimensions))
        if unknown:
            known = ", ".join(scorer.dimensions) or "none"
            raise ex.InvalidInput(f"thresholds: {', '.join(unknown)}: not a dimension of this model (it has {known})")
        return cls({**scorer.dimension_thresholds, **requested}, gating_dimensions(setting, scorer.dimensions))

    def judge(self, scores: Mapping[str, float], overall: float, threshold: float) -> tuple[list[Reason], bool]:
        """One item's reasons (dimensions below their thresholds, worst first, then ``overall``
        when the overall score is below its own) and whether they block it."""
        why = reasons_for(list(scores), list(scores.values()), [self.thresholds[d] for d in scores])
        reasons = [Reason(dimension=r.dimension, score=r.score, threshold=r.threshold) for r in why]
        if overall < threshold:
            reasons.append(Reason(dimension=OVERALL, score=overall, threshold=threshold))
        return reasons, blocks(overall, threshold, why, self.gating)


def gating_dimensions(setting: str, dimensions: list[str]) -> frozenset[str]:
    """The dimensions that block (``REWARDGATE_GATE_DIMENSIONS``: ``all``, ``none``, or names);
    names the model does not have gate nothing."""
    chosen = setting.strip()
    if chosen == "all":
        return frozenset(dimensions)
    if chosen in ("none", ""):
        return frozenset()
    return frozenset(d.strip() for d in chosen.split(",")) & frozenset(dimensions)


def decide(
    scorer: Scorer,
    scores: list[float],
    truncated: list[bool],
    threshold: float,
    mode: GateMode,
    dimensions: Dimensions,
) -> list[GateResult]:
    shadow = mode == "shadow"
    results = []
    for score, cut in zip(scores, truncated, strict=True):
        per_dimension = scorer.dimension_scores(score)
        reasons, would_block = dimensions.judge(per_dimension, score, threshold)
        allowed = shadow or not would_block
        results.append(
            GateResult(
                score=score,
                scores=per_dimension or None,
                allowed=allowed,
                decision="allow" if allowed else "block",
                would_block=would_block,
                reasons=reasons,
                truncated=cut,
            )
        )
    return results


def tally(metrics: Metrics, results: list[GateResult]) -> None:
    """Count the decisions (and what the threshold would block, in every mode), and each
    decision by its reasons."""
    allowed = sum(1 for r in results if r.allowed)
    if allowed:
        metrics.decisions.labels("allow").inc(allowed)
    if len(results) - allowed:
        metrics.decisions.labels("block").inc(len(results) - allowed)
    would = sum(1 for r in results if r.would_block)
    if would:
        metrics.would_block.inc(would)
    for r in results:
        for reason in [x.dimension for x in r.reasons] or [NO_REASON]:
            metrics.decision_reasons.labels(r.decision, reason).inc()
