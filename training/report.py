"""The version's ``report.md``: what a person reads about a trained version."""

from __future__ import annotations

from typing import Any

from model_store import EvalMetrics, Threshold


def report(name: str, version: str, metrics: EvalMetrics, threshold: Threshold, train: dict[str, Any]) -> str:
    lines = [
        f"# {name} {version}",
        "",
        "| held-out metric | value |",
        "|---|---|",
        *(f"| {k} | {v:.4f} |" if isinstance(v, float) else f"| {k} | {v} |" for k, v in metrics.model_dump().items()),
        "",
        f"threshold: {threshold.value:.4f} ({threshold.method})",
        f"training: {train.get('steps')} steps, {train.get('pairs_seen')} pairs in {train.get('seconds', 0):.0f}s "
        f"({train.get('pairs_per_s', 0):.1f} pairs/s)",
    ]
    return "\n".join(lines) + "\n"
