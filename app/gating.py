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
from .scorer import named

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
    calibrated one, or the request's), in the model's output order, and which of them block.
    Empty for a one-output model."""

    thresholds: dict[str, float] = field(default_factory=dict)
    gating: frozenset[str] = frozenset()

    @classmethod
    def of(
        cls, calibrated: Mapping[str, float], setting: str, requested: Mapping[str, float] | None = None
    ) -> Dimensions:
        """``calibrated``: a version's thresholds by dimension, in output order
        (``Scorer.dimension_thresholds``); ``setting``: ``REWARDGATE_GATE_DIMENSIONS`` (see
        ``gating_dimensions``); ``requested``: the request's thresholds, each a dimension of it."""
        requested = requested or {}
        unknown = sorted(set(requested) - set(calibrated))
        if unknown:
            known = ", ".join(calibrated) or "none"
            raise ex.InvalidInput(f"thresholds: {', '.join(unknown)}: not a dimension of this model (it has {known})")
        return cls({**calibrated, **requested}, gating_dimensions(setting, list(calibrated)))

    def scores_of(self, score: float) -> dict[str, float]:
        """An item's score per dimension, by name (empty for a one-output model)."""
        return named(score, list(self.thresholds))

    def judge(self, score: float, threshold: float) -> tuple[list[Reason], bool]:
        """One item's reasons (dimensions below their thresholds, worst first, then ``overall``
        when the overall score is below its own) and whether they block it."""
        scores = self.scores_of(score)
        why = reasons_for(list(scores), list(scores.values()), [self.thresholds[d] for d in scores])
        reasons = [Reason(dimension=r.dimension, score=r.score, threshold=r.threshold) for r in why]
        if score < threshold:
            reasons.append(Reason(dimension=OVERALL, score=score, threshold=threshold))
        return reasons, blocks(score, threshold, why, self.gating)


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
    scores: list[float],
    truncated: list[bool],
    threshold: float,
    mode: GateMode,
    dimensions: Dimensions | None = None,
) -> list[GateResult]:
    """``dimensions``: those of the version that gave ``scores`` (None: a one-output model)."""
    shadow = mode == "shadow"
    dims = dimensions or Dimensions()
    results = []
    for score, cut in zip(scores, truncated, strict=True):
        reasons, would_block = dims.judge(score, threshold)
        allowed = shadow or not would_block
        results.append(
            GateResult(
                score=score,
                scores=dims.scores_of(score) or None,
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
