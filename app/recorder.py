"""What happens to a /gate answer after it is sent: each item's decision goes to the decision log,
through the challenger (a second version) for the sampled share. Nothing here delays a caller:
challenger scoring is low-priority batcher work, and the log is written by its own thread."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass, field
from typing import Any

from . import gating
from .batcher import Batcher
from .decision_log import DecisionLog, item_hash
from .metrics import Metrics
from .schemas import GateMode, GateResult, ThresholdSource
from .scorer import Scorer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Gated:
    """One /gate answer, as the log records it."""

    request_id: str
    scorer: Scorer
    items: list[tuple[str | None, str]]
    results: list[GateResult]
    threshold: float
    source: ThresholdSource
    requested: float | None  # the request's own threshold: the challenger is judged by it too
    mode: GateMode
    # each quality dimension's threshold as this request judged it, and which of them gate
    dimensions: gating.Dimensions = field(default_factory=gating.Dimensions)
    requested_dimensions: dict[str, float] = field(default_factory=dict)  # the request's own, per dimension


class DecisionRecorder:
    def __init__(
        self,
        batcher: Batcher,
        metrics: Metrics,
        configured_threshold: float | None,
        with_text: bool,
        gate_dimensions: str = "none",
    ) -> None:
        self.batcher = batcher
        self.metrics = metrics
        self.configured_threshold = configured_threshold
        self.gate_dimensions = gate_dimensions  # REWARDGATE_GATE_DIMENSIONS: the challenger is judged by it too
        self.with_text = with_text
        self.sink: DecisionLog | None = None  # opened with the app (lifespan), closed with it
        self.tasks: set[asyncio.Task[None]] = set()  # challenger scoring still running

    def record(self, gated: Gated, challenger: Scorer | None, share: float) -> None:
        """Hand each item's decision to the log, through ``challenger`` for a ``share`` of them."""
        if self.sink is None and challenger is None:
            return
        recs = self._records(gated)
        sampled = []
        if challenger is not None and challenger is not gated.scorer:
            sampled = [j for j in range(len(recs)) if random.random() < share]
        if sampled and challenger is not None:
            self.metrics.challenger_pending.inc(len(sampled))
            task = asyncio.create_task(self._challenge(challenger, gated, recs, sampled))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        else:
            self._write(recs)

    async def finish(self, timeout: float) -> None:
        """At shutdown: let challenger scoring of answered requests finish, briefly."""
        if self.tasks:
            await asyncio.wait(self.tasks, timeout=timeout)

    def _records(self, gated: Gated) -> list[dict[str, Any]]:
        now = time.time()
        recs = []
        for i, ((prompt, response), res) in enumerate(zip(gated.items, gated.results, strict=True)):
            rec: dict[str, Any] = {
                "time": now,
                "request_id": gated.request_id,
                "item": i,
                "model": gated.scorer.ref,
                "threshold": gated.threshold,
                "threshold_source": gated.source,
                "score": res.score,
                "decision": res.decision,
                "would_block": res.would_block,
                # why: the dimensions below their thresholds, worst first, then the overall score
                "reasons": [r.model_dump() for r in res.reasons],
                "mode": gated.mode,
                "item_sha256": item_hash(prompt, response),
            }
            if self.with_text:
                rec["prompt"], rec["response"] = prompt, response
            recs.append(rec)
        return recs

    def _write(self, recs: list[dict[str, Any]]) -> None:
        if self.sink is not None:
            for rec in recs:
                self.sink.record(rec)

    async def _challenge(
        self, challenger: Scorer, gated: Gated, recs: list[dict[str, Any]], sampled: list[int]
    ) -> None:
        m = self.metrics
        try:
            seqs, _ = challenger.encode([gated.items[j] for j in sampled])
            work = self.batcher.submit_background(challenger, seqs)
            if work is None:
                m.challenger_skipped.inc(len(sampled))
            else:
                scores = await work
                threshold, _ = gating.threshold_for(
                    gated.requested, self.configured_threshold, challenger.manifest_threshold
                )
                # judged as /gate would judge it: its own dimensions, at the request's thresholds
                # for those the two versions share
                asked = {d: t for d, t in gated.requested_dimensions.items() if d in challenger.dimensions}
                dimensions = gating.Dimensions.of(challenger.dimension_thresholds, self.gate_dimensions, asked)
                for j, s in zip(sampled, scores, strict=True):
                    reasons, would_block = dimensions.judge(s, threshold)
                    recs[j]["challenger"] = {
                        "model": challenger.ref,
                        "score": s,
                        "threshold": threshold,
                        "decision": "block" if would_block else "allow",
                        "reasons": [r.model_dump() for r in reasons],
                    }
                    agree = would_block == recs[j]["would_block"]
                    m.challenger_decisions.labels(str(agree).lower()).inc()
        except Exception as exc:  # shutting down, a failed forward: the records still go to the log
            m.challenger_skipped.inc(len(sampled))
            log.warning("challenger scoring of %d items failed: %s", len(sampled), type(exc).__name__)
        finally:
            m.challenger_pending.dec(len(sampled))
        self._write(recs)
