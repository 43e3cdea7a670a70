"""What /gate decides for each item. Pure: scores and a threshold in, decisions out.

In ``enforce`` mode an item is allowed when its score reaches the threshold; in ``shadow`` mode
every item is allowed and ``would_block`` says what enforce would have done. ``would_block`` is
computed the same way in both modes, so a deny is never rewritten into an allow in enforce mode.
"""

from __future__ import annotations

import re
import uuid

from .metrics import Metrics
from .schemas import GateMode, GateResult, ThresholdSource

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


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


def decide(scores: list[float], truncated: list[bool], threshold: float, mode: GateMode) -> list[GateResult]:
    shadow = mode == "shadow"
    results = []
    for score, cut in zip(scores, truncated, strict=True):
        would_block = score < threshold
        allowed = shadow or not would_block
        results.append(
            GateResult(
                score=score,
                allowed=allowed,
                decision="allow" if allowed else "block",
                would_block=would_block,
                truncated=cut,
            )
        )
    return results


def tally(metrics: Metrics, results: list[GateResult]) -> None:
    """Count the decisions (and what the threshold would block, in every mode)."""
    allowed = sum(1 for r in results if r.allowed)
    if allowed:
        metrics.decisions.labels("allow").inc(allowed)
    if len(results) - allowed:
        metrics.decisions.labels("block").inc(len(results) - allowed)
    would = sum(1 for r in results if r.would_block)
    if would:
        metrics.would_block.inc(would)
