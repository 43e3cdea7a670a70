"""Why the gate blocks: the quality dimensions whose scores fall below their thresholds, worst
first, and the decision they make with the overall score. One definition, read by the service
(``/gate``, ``/v1/moderations``) and by the gate check that measures it before publishing."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

OVERALL = "overall"  # the reason named when the overall score is below its threshold


@dataclass(frozen=True)
class Reason:
    dimension: str
    score: float
    threshold: float


def reasons_for(names: Sequence[str], scores: Sequence[float], thresholds: Sequence[float]) -> list[Reason]:
    """The dimensions below their thresholds, the furthest below first (ties by name)."""
    below = [Reason(n, float(s), float(t)) for n, s, t in zip(names, scores, thresholds, strict=True) if s < t]
    return sorted(below, key=lambda r: (r.score - r.threshold, r.dimension))


def blocks(overall: float, threshold: float, reasons: Sequence[Reason], gating: Collection[str]) -> bool:
    """Block when the overall score is below its threshold or any gating dimension is."""
    return overall < threshold or any(r.dimension in gating for r in reasons)
