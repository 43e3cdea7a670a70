"""How the gate does on replies written by hand: pairwise accuracy, the share of good replies it
allows and the share of each failure kind it blocks, at the calibrated threshold.

The packaged set (``eval_sets/customer_support.jsonl``) was written for this purpose, in styles
the embedded generator never produces (other names, products, lengths, tones); it is never
trained on. Each row is one customer message with a good reply and failing replies::

    {"prompt": "...", "good": "...", "bad": [{"kind": "leak", "detail": "card", "embedded": false, "text": "..."}]}

``kind`` is leak, rude, evasive, degenerate or off_topic; ``detail`` the kind of personal data
of a leak; ``embedded`` marks a good reply with the failure slipped into it.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model_store import GateCheck

PACKAGED = Path(__file__).resolve().parent / "eval_sets" / "customer_support.jsonl"
KINDS = ("leak", "rude", "evasive", "degenerate", "off_topic")

Scorer = Callable[[list[tuple[str | None, str]]], np.ndarray]


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
        if self.kind == "leak":
            out.append(f"leak:{self.detail}")
        if self.embedded:
            out.append(f"{self.kind} (embedded)")
        return out


@dataclass(frozen=True)
class Exchange:
    prompt: str
    good: str
    bad: list[Failing]


def load(path: Path = PACKAGED) -> list[Exchange]:
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                bad = [Failing(b["kind"], b.get("detail", ""), bool(b.get("embedded")), b["text"]) for b in row["bad"]]
                rows.append(Exchange(row["prompt"], row["good"], bad))
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{n}: not a gate-check row ({exc})") from None
            if any(b.kind not in KINDS for b in rows[-1].bad):
                raise ValueError(f"{path}:{n}: kind must be one of {', '.join(KINDS)}")
    return rows


def run(score: Scorer, threshold: float, path: Path = PACKAGED, name: str | None = None) -> GateCheck:
    rows = load(path)
    good = score([(r.prompt, r.good) for r in rows])
    failing = [(i, b) for i, r in enumerate(rows) for b in r.bad]
    bad = score([(rows[i].prompt, b.text) for i, b in failing])
    blocked: dict[str, list[bool]] = defaultdict(list)
    for (_, b), s in zip(failing, bad, strict=True):
        for g in b.groups:
            blocked[g].append(bool(s < threshold))
    wins = [good[i] > s for (i, _), s in zip(failing, bad, strict=True)]
    return GateCheck(
        name=name or path.stem,
        pairs=len(failing),
        accuracy=float(np.mean(wins)),
        good_allowed=float(np.mean(good >= threshold)),
        blocked={k: float(np.mean(v)) for k, v in sorted(blocked.items())},
        counts={"good": len(rows), **{k: len(v) for k, v in sorted(blocked.items())}},
    )
