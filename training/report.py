"""The version's ``report.md``: what a person reads about a trained version."""

from __future__ import annotations

from typing import Any

from model_store import Agreement

from .agreement import format_agreement
from .evaluation import Evaluation
from .figures import dimension_figure


def _single_row(key: str) -> str:
    if key == "allow":
        return "labelled allow: allowed"
    return "labelled block: blocked" + (f" ({key.split(':', 1)[1]})" if ":" in key else "")


def _row(k: str, v: Any) -> str:
    return f"| {k} | {v:.4f} |" if isinstance(v, float) else f"| {k} | {v} |"


def report(name: str, version: str, ev: Evaluation, train: dict[str, Any], agreement: Agreement | None = None) -> str:
    t = ev.threshold
    lines = [
        f"# {name} {version}",
        "",
        "| held-out metric | value |",
        "|---|---|",
        *(_row(k, v) for k, v in ev.metrics.model_dump().items()),
        "",
        f"threshold: {t.value:.4f} ({t.method}); on validation it blocks {t.good_block_rate or 0:.1%} of the "
        f"best-ranked responses and {t.bad_block_rate or 0:.1%} of the worst-ranked",
    ]
    if ev.dimensions:
        lines += ["", "| dimension | pairs | accuracy | ROC AUC | threshold | meaning |", "|---|---|---|---|---|---|"]
        lines += [
            f"| {d.name} | {m.pairs} | {m.accuracy:.4f} | {m.roc_auc:.4f} | {d.threshold.value:.4f} "
            f"({d.threshold.method}) | {d.meaning} |"
            for d in ev.dimensions
            if (m := d.metrics) is not None
        ]
    if ev.subsets:
        lines += ["", "| part of validation | pairs | accuracy | ROC AUC |", "|---|---|---|---|"]
        lines += [f"| {k} | {m.pairs} | {m.accuracy:.4f} | {m.roc_auc:.4f} |" for k, m in ev.subsets.items()]
    if ev.gate_check:
        g = ev.gate_check
        lines += [
            "",
            f"gate check on `{g.name}` ({g.pairs} hand-written pairs): pairwise accuracy {g.accuracy:.4f}, "
            f"good replies allowed {g.good_allowed:.1%} of {g.counts['good']}",
            "",
            "| failure kind | blocked | replies |",
            "|---|---|---|",
            *(f"| {k} | {v:.1%} | {g.counts[k]} |" for k, v in g.blocked.items()),
        ]
        if g.industries:
            lines += ["", "| industry | pairwise accuracy | good allowed | failing blocked |", "|---|---|---|---|"]
            lines += [
                f"| {k} | {f.get('accuracy', 0):.1%} | {f.get('good_allowed', 0):.1%} | {f.get('blocked', 0):.1%} |"
                for k, f in g.industries.items()
            ]
        if g.reasons:
            lines += ["", "| reasons (the overall score gating, as the service by default) | share |", "|---|---|"]
            lines += [f"| {k} | {v:.1%} |" for k, v in g.reasons.items()]
        if g.singles:
            lines += ["", "| single replies | share | replies |", "|---|---|---|"]
            lines += [
                f"| {_single_row(k)} | {v:.1%} | {g.counts.get('singles ' + k, '')} |" for k, v in g.singles.items()
            ]
    if ev.pinned:
        lines += [
            "",
            f"pinned evaluation set (sha256 {ev.pinned.sha256[:12]}…): accuracy {ev.pinned.metrics.accuracy:.4f}",
        ]
    if agreement:
        lines += ["", "## Labeller agreement", "", "```", format_agreement(agreement), "```"]
    lines += [
        "",
        "## Figures",
        "",
        "![scores](scores.png)",
        "",
        "![ROC](roc.png)",
        "",
        "![block rate](block_rate.png)",
    ]
    for dim in ev.dimensions:
        lines += ["", f"![{dim.name}]({dimension_figure(dim.name)})"]
    if train:
        lines += [
            "",
            f"training: {train.get('steps')} steps, {train.get('pairs_seen')} pairs in {train.get('seconds', 0):.0f}s "
            f"({train.get('pairs_per_s', 0):.1f} pairs/s)",
        ]
    return "\n".join(lines) + "\n"
