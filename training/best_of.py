"""Best-of-n on hand-written exchanges: does ``POST /rank`` pick the good reply?

For each exchange of the hand-written sets (``eval_sets/support_*.jsonl`` and
``eval_sets/customer_support.jsonl``, rows ``{"prompt", "good", "bad": [{"kind", "text"}, ...]}``),
the good reply and every bad one are ranked as one request (``rank``: for the service, a
``RewardGateClient.best_of`` call, one ``POST /rank``), in a
seeded shuffled order (so a ranker that favours a position gains nothing). An exchange counts
when ``best`` is the good reply; a blocked good reply with nothing else allowed (``best`` null)
does not. Exchanges whose bad replies are of fewer than two kinds are skipped and counted. The
issue's acceptance figure is ``share`` >= 0.95 with the default model.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .gate_check import PACKAGED, Exchange, load

EVAL_SETS = PACKAGED.parent
Rank = Callable[[str, list[str]], int | None]  # (prompt, replies) -> index of the best allowed reply, or None


def eval_files(root: Path = EVAL_SETS) -> list[Path]:
    return [*sorted(root.glob("support_*.jsonl")), root / PACKAGED.name]


def candidates(ex: Exchange, rng: random.Random) -> tuple[list[str], list[str], int]:
    """The replies to rank (good and every bad one, shuffled), their kinds, and the good one's index."""
    pool = [("good", ex.good)] + [(b.kind, b.text) for b in ex.bad]
    rng.shuffle(pool)
    kinds = [k for k, _ in pool]
    return [t for _, t in pool], kinds, kinds.index("good")


@dataclass
class BestOfReport:
    prompts: int = 0
    good_best: int = 0
    none_passed: int = 0
    skipped: int = 0
    candidates: int = 0
    bad_best: dict[str, int] = field(default_factory=dict)  # kind of the bad reply picked instead

    @property
    def share(self) -> float:
        return self.good_best / self.prompts if self.prompts else float("nan")

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "share": self.share}


def evaluate(rank: Rank, files: list[Path] | None = None, seed: int = 0) -> BestOfReport:
    """Rank every exchange of ``files`` (default: ``eval_files()``) with ``rank``."""
    rng = random.Random(seed)
    report = BestOfReport()
    for path in files if files is not None else eval_files():
        for ex in load(path):
            if len({b.kind for b in ex.bad}) < 2:
                report.skipped += 1
                continue
            texts, kinds, good = candidates(ex, rng)
            best = rank(ex.prompt, texts)
            report.prompts += 1
            report.candidates += len(texts)
            if best == good:
                report.good_best += 1
            elif best is None:
                report.none_passed += 1
            else:
                report.bad_best[kinds[best]] = report.bad_best.get(kinds[best], 0) + 1
    return report
