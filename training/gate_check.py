"""How the gate does on replies written by hand: pairwise accuracy, the share of good replies it
allows and the share of each failure kind it blocks, overall and per industry, at the calibrated
threshold; and single replies judged one at a time.

The packaged sets (``eval_sets/``) were written by hand for this purpose and are never trained
on. Two row shapes:

- an exchange (``customer_support.jsonl``, ``support_<industry>.jsonl``): one customer message
  with a good reply and failing replies::

    {"industry"?, "prompt", "good", "bad": [{"kind": "leak", "detail": "card", "embedded": false, "text": "..."}]}

- a single reply (``singles_<industry>.jsonl``)::

    {"industry"?, "prompt", "text", "label": "allow" | "block", "kind", "detail"?}

``kind`` of a failing reply is one of ``KINDS``; ``detail`` says more (the kind of personal data
of a leak); ``embedded`` marks a good reply with the failure slipped into it.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model_store import Dimension, GateCheck
from modeling.reasons import blocks, reasons_for

from .dimensions import dimension_of

EVAL_SETS = Path(__file__).resolve().parent / "eval_sets"
PACKAGED = EVAL_SETS / "customer_support.jsonl"
KINDS = ("leak", "rude", "evasive", "degenerate", "off_topic", "harmful", "injection")
GENERAL = "general"  # rows that name no industry

Scorer = Callable[[list[tuple[str | None, str]]], np.ndarray]


def packaged() -> list[Path]:
    return sorted(EVAL_SETS.glob("*.jsonl"))


@dataclass(frozen=True)
class Failing:
    kind: str
    detail: str
    embedded: bool
    text: str

    @property
    def groups(self) -> list[str]:
        """The figures this reply counts towards: its kind, its leak kind, embedded or not."""
        out = [self.kind]
        if self.kind == "leak" and self.detail:
            out.append(f"leak:{self.detail}")
        if self.embedded:
            out.append(f"{self.kind} (embedded)")
        return out


@dataclass(frozen=True)
class Exchange:
    prompt: str
    good: str
    bad: list[Failing]
    industry: str = GENERAL


@dataclass(frozen=True)
class Single:
    prompt: str
    text: str
    allow: bool
    kind: str
    industry: str = GENERAL


def _kind(kind: str, where: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"{where}: kind must be one of {', '.join(KINDS)}, not {kind!r}")
    return kind


def load(path: Path = PACKAGED) -> list[Exchange]:
    return [r for r in load_rows([path]) if isinstance(r, Exchange)]


def load_rows(paths: Iterable[Path]) -> list[Exchange | Single]:
    rows: list[Exchange | Single] = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                where = f"{path}:{n}"
                try:
                    row = json.loads(line)
                    industry = row.get("industry") or GENERAL
                    if "bad" in row:
                        bad = [
                            Failing(_kind(b["kind"], where), b.get("detail") or "", bool(b.get("embedded")), b["text"])
                            for b in row["bad"]
                        ]
                        rows.append(Exchange(row["prompt"], row["good"], bad, industry))
                    else:
                        if row["label"] not in ("allow", "block"):
                            raise ValueError(f"label must be allow or block, not {row['label']!r}")
                        allow = row["label"] == "allow"
                        kind = "good" if allow else _kind(row["kind"], where)
                        rows.append(Single(row["prompt"], row["text"], allow, kind, industry))
                except (KeyError, TypeError, json.JSONDecodeError) as exc:
                    raise ValueError(f"{where}: not a gate-check row ({exc})") from None
    return rows


def texts(paths: Iterable[Path] | None = None) -> set[str]:
    """Every prompt and reply of the sets: what training data must never contain."""
    out: set[str] = set()
    for r in load_rows(packaged() if paths is None else paths):
        if isinstance(r, Exchange):
            out |= {r.prompt, r.good, *(b.text for b in r.bad)}
        else:
            out |= {r.prompt, r.text}
    return out


def _share(flags: list[bool]) -> float:
    return float(np.mean(flags)) if flags else float("nan")


def reason_figures(
    outputs: Scorer,
    threshold: float,
    dimensions: list[Dimension],
    rows: list[Exchange | Single],
    gating: Collection[str] = (),
) -> dict[str, float]:
    """Whether a block names the right reason: over failing replies (exchanges' and singles'), the
    share blocked, and of those the share whose kind's dimension is among the reasons and is the
    first; over good replies, the share blocked for any reason. ``gating``: the dimensions that
    block besides the overall score (the service's default: none; they are still named)."""
    names = [d.name for d in dimensions]
    cuts = [d.threshold.value for d in dimensions]
    good: list[tuple[str | None, str]] = [(r.prompt, r.good) for r in rows if isinstance(r, Exchange)]
    good += [(r.prompt, r.text) for r in rows if isinstance(r, Single) and r.allow]
    bad = [(r.prompt, b.text, b.kind) for r in rows if isinstance(r, Exchange) for b in r.bad]
    bad += [(r.prompt, r.text, r.kind) for r in rows if isinstance(r, Single) and not r.allow]
    out = outputs(good + [(p, t) for p, t, _ in bad])

    def judged(row: np.ndarray) -> tuple[bool, list[str]]:
        why = reasons_for(names, row[1:].tolist(), cuts)
        return blocks(float(row[0]), threshold, why, gating), [r.dimension for r in why]

    good_blocked = [judged(row)[0] for row in out[: len(good)]]
    among: dict[str, list[bool]] = defaultdict(list)
    first: dict[str, list[bool]] = defaultdict(list)
    blocked = []
    for (_, _, kind), row in zip(bad, out[len(good) :], strict=True):
        block, why = judged(row)
        blocked.append(block)
        if block:
            for key in ("all", kind):
                among[key].append(dimension_of(kind) in why)
                first[key].append(bool(why) and why[0] == dimension_of(kind))
    return {
        "bad blocked": _share(blocked),
        "dimension among reasons": _share(among["all"]),
        "dimension first": _share(first["all"]),
        "good blocked": _share(good_blocked),
        **{f"among reasons ({k})": _share(v) for k, v in sorted(among.items()) if k != "all"},
        **{f"first ({k})": _share(v) for k, v in sorted(first.items()) if k != "all"},
    }


def _reasons(
    outputs: Scorer, threshold: float, dimensions: list[Dimension], rows: list[Exchange | Single]
) -> dict[str, float]:
    """The reason figures as the service gates by default (the overall score alone), then the
    block rates with every dimension gating (``REWARDGATE_GATE_DIMENSIONS=all``)."""
    every = reason_figures(outputs, threshold, dimensions, rows, [d.name for d in dimensions])
    return reason_figures(outputs, threshold, dimensions, rows) | {
        f"{k}, every dimension gating": every[k] for k in ("bad blocked", "good blocked")
    }


def run(
    score: Scorer,
    threshold: float,
    paths: Path | list[Path] = PACKAGED,
    name: str | None = None,
    outputs: Scorer | None = None,
    dimensions: list[Dimension] | None = None,
) -> GateCheck:
    """``outputs`` (every output of each item) and ``dimensions``: add the reason figures."""
    paths = [paths] if isinstance(paths, Path) else paths
    rows = load_rows(paths)
    exchanges = [r for r in rows if isinstance(r, Exchange)]
    singles = [r for r in rows if isinstance(r, Single)]
    failing = [(r, b) for r in exchanges for b in r.bad]
    items: list[tuple[str | None, str]] = [(r.prompt, r.good) for r in exchanges]
    items += [(r.prompt, b.text) for r, b in failing] + [(s.prompt, s.text) for s in singles]
    scores = score(items)
    good = dict(zip(map(id, exchanges), scores[: len(exchanges)], strict=True))
    bad = scores[len(exchanges) : len(exchanges) + len(failing)]
    single = scores[len(exchanges) + len(failing) :]

    blocked: dict[str, list[bool]] = defaultdict(list)
    per_industry: dict[str, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    wins = []
    for (r, b), s in zip(failing, bad, strict=True):
        for g in b.groups:
            blocked[g].append(bool(s < threshold))
        won = bool(good[id(r)] > s)
        wins.append(won)
        per_industry[r.industry]["accuracy"].append(won)
        per_industry[r.industry]["blocked"].append(bool(s < threshold))
    for r in exchanges:
        per_industry[r.industry]["good_allowed"].append(bool(good[id(r)] >= threshold))
    judged: dict[str, list[bool]] = defaultdict(list)
    for s, v in zip(singles, single, strict=True):
        if s.allow:
            judged["allow"].append(bool(v >= threshold))
        else:
            judged["block"].append(bool(v < threshold))
            judged[f"block:{s.kind}"].append(bool(v < threshold))
    good_scores = np.array([good[id(r)] for r in exchanges])
    return GateCheck(
        name=name or (", ".join(p.stem for p in paths) if len(paths) <= 2 else f"{len(paths)} hand-written sets"),
        pairs=len(failing),
        accuracy=_share(wins),
        good_allowed=_share(list(good_scores >= threshold)),
        blocked={k: _share(v) for k, v in sorted(blocked.items())},
        counts={
            "good": len(exchanges),
            **{k: len(v) for k, v in sorted(blocked.items())},
            **{f"singles {k}": len(v) for k, v in sorted(judged.items())},
        },
        industries={ind: {k: _share(v) for k, v in sorted(figs.items())} for ind, figs in sorted(per_industry.items())},
        singles={k: _share(v) for k, v in sorted(judged.items())},
        reasons=_reasons(outputs, threshold, dimensions, rows) if outputs and dimensions else {},
    )
