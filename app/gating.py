"""What /gate decides for each item, what it records, and the challenger's second opinion.

In ``enforce`` mode an item is allowed when its score reaches the threshold; in ``shadow`` mode
every item is allowed and ``would_block`` says what enforce would have done. ``would_block`` is
computed the same way in both modes, so a deny is never rewritten into an allow in enforce mode.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import time
import uuid
from typing import Any

from .decision_log import item_hash
from .scorer import Scorer
from .state import AppState

log = logging.getLogger(__name__)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def request_id(header: str | None) -> str:
    """The caller's ``X-Request-ID`` when it is a sane token, else a fresh one."""
    return header if header and _REQUEST_ID.match(header) else uuid.uuid4().hex


def threshold_for(st: AppState, scorer: Scorer, requested: float | None) -> tuple[float, str]:
    if requested is not None:
        return requested, "request"
    if st.settings.threshold is not None:
        return st.settings.threshold, "settings"
    return scorer.manifest_threshold, "manifest"


def decide(st: AppState, scores: list[float], threshold: float) -> list[dict[str, Any]]:
    shadow = st.settings.gate_mode == "shadow"
    results = []
    for s in scores:
        would_block = s < threshold
        allowed = shadow or not would_block
        results.append(
            {"score": s, "allowed": allowed, "decision": "allow" if allowed else "block", "would_block": would_block}
        )
    m = st.metrics
    allowed_n = sum(1 for r in results if r["allowed"])
    if allowed_n:
        m.decisions.labels("allow").inc(allowed_n)
    if len(results) - allowed_n:
        m.decisions.labels("block").inc(len(results) - allowed_n)
    would = sum(1 for r in results if r["would_block"])
    if would:
        m.would_block.inc(would)
    return results


def record(
    st: AppState,
    rid: str,
    scorer: Scorer,
    items: list[tuple[str | None, str]],
    results: list[dict[str, Any]],
    threshold: float,
    source: str,
    requested: float | None,
) -> None:
    """Hand each item's decision to the decision log, through the challenger for the sampled
    share. Nothing here waits: the caller already has its answer."""
    log_ = st.decision_log
    challenger = st.registry.challenger
    if log_ is None and challenger is None:
        return
    now = time.time()
    recs = []
    for i, ((prompt, response), res) in enumerate(zip(items, results, strict=True)):
        rec: dict[str, Any] = {
            "time": now,
            "request_id": rid,
            "item": i,
            "model": scorer.ref,
            "threshold": threshold,
            "threshold_source": source,
            "score": res["score"],
            "decision": res["decision"],
            "would_block": res["would_block"],
            "mode": st.settings.gate_mode,
            "item_sha256": item_hash(prompt, response),
        }
        if st.settings.decision_log_text:
            rec["prompt"], rec["response"] = prompt, response
        recs.append(rec)
    sampled = []
    if challenger is not None and challenger is not scorer:
        share = st.registry.challenger_share
        sampled = [j for j in range(len(recs)) if random.random() < share]
    if sampled and challenger is not None:
        st.metrics.challenger_pending.inc(len(sampled))
        task = asyncio.create_task(_challenge(st, challenger, items, recs, sampled, requested))
        st.background_tasks.add(task)
        task.add_done_callback(st.background_tasks.discard)
    elif log_ is not None:
        for rec in recs:
            log_.record(rec)


async def _challenge(
    st: AppState,
    challenger: Scorer,
    items: list[tuple[str | None, str]],
    recs: list[dict[str, Any]],
    sampled: list[int],
    requested: float | None,
) -> None:
    try:
        seqs, _ = challenger.encode([items[j] for j in sampled])
        work = st.batcher.submit_background(challenger, seqs)
        if work is None:
            st.metrics.challenger_skipped.inc(len(sampled))
        else:
            scores = await work
            threshold, _ = threshold_for(st, challenger, requested)
            for j, s in zip(sampled, scores, strict=True):
                would_block = s < threshold
                recs[j]["challenger"] = {
                    "model": challenger.ref,
                    "score": s,
                    "threshold": threshold,
                    "decision": "block" if would_block else "allow",
                }
                agree = would_block == recs[j]["would_block"]
                st.metrics.challenger_decisions.labels(str(agree).lower()).inc()
    except Exception as exc:  # shutting down, a failed forward: the records still go to the log
        st.metrics.challenger_skipped.inc(len(sampled))
        log.warning("challenger scoring of %d items failed: %s", len(sampled), type(exc).__name__)
    finally:
        st.metrics.challenger_pending.dec(len(sampled))
    if st.decision_log is not None:
        for rec in recs:
            st.decision_log.record(rec)
