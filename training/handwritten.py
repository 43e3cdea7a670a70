"""Replies written by hand for training (``handwritten/<industry>.jsonl``), beside the generated
set: templates alone teach strings, real sentences teach the language of a good or a bad reply.
None of them is in the evaluation sets (a test checks). One row per customer message::

    {"industry", "prompt", "replies": [{"kind": "good", "style", "text"}, {"kind": "leak", "detail", "embedded", "text"}, ...]}

Every good reply is preferred over every failing reply of the same message, overall and on the
quality dimension the failing reply's kind fails (``dimensions.py``). ``derived`` adds failing
replies made from the good ones of the training share: a good reply to another message of the
same industry (off topic: fluent, correct, and not an answer), a good reply cut mid-sentence and
one that loops a sentence (degenerate); both fail helpfulness. Real sentences that fail only by
relevance or form teach the model to read the question and the end of the reply, which templated
failures do not.
"""

from __future__ import annotations

import json
import random
import re
from collections import defaultdict
from pathlib import Path

from .data import Pair
from .dimensions import dimension_of

DIRECTORY = Path(__file__).resolve().parent / "handwritten"
# the kinds of the derived failing replies, as the generator names them (``dimensions.py`` maps
# them to the dimension they fail)
OFF_TOPIC, DEGENERATE = "off_topic", "degenerate"


def files() -> list[Path]:
    return sorted(DIRECTORY.glob("*.jsonl"))


def labels(paths: list[Path] | None = None) -> dict[tuple[str | None, str], str]:
    """Each reply's kind (good, or the failure it is), keyed (prompt, text)."""
    out: dict[tuple[str | None, str], str] = {}
    for path in files() if paths is None else paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                out |= {(row["prompt"], r["text"]): r["kind"] for r in row["replies"]}
    return out


def pairs(paths: list[Path] | None = None, weight: float = 1.0) -> list[Pair]:
    out = []
    for path in files() if paths is None else paths:
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                    good = [r["text"] for r in row["replies"] if r["kind"] == "good"]
                    bad = [(r["text"], dimension_of(r["kind"])) for r in row["replies"] if r["kind"] != "good"]
                except (KeyError, TypeError, json.JSONDecodeError) as exc:
                    raise ValueError(f"{path}:{n}: not a hand-written training row ({exc})") from None
                out += [Pair(row["prompt"], g, b, weight=weight) for g in good for b, _ in bad]
                out += [Pair(row["prompt"], g, b, weight=weight, dimension=d) for g in good for b, d in bad if d]
    return out


def industries(paths: list[Path] | None = None) -> dict[str, str]:
    """Each customer message's industry."""
    out: dict[str, str] = {}
    for path in files() if paths is None else paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                out[row["prompt"]] = row.get("industry") or ""
    return out


def _cut(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    if len(words) < 8:
        return ""
    # stop inside a sentence, never right after its full stop: what a truncated generation looks like
    for _ in range(8):
        k = rng.randint(len(words) // 3, max(len(words) // 3 + 1, len(words) * 4 // 5))
        head = " ".join(words[:k]).rstrip()
        if head and head[-1] not in ".!?":
            return head.rstrip(",;:") if rng.random() < 0.5 else head
    return ""


def _loop(text: str, rng: random.Random) -> str:
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", text) if s]
    if not sentences:
        return ""
    i = rng.randrange(len(sentences))
    looped = sentences[: i + 1] + [sentences[i]] * rng.randint(2, 4)
    return " ".join(looped)


def derived(train: list[Pair], seed: int, weight: float = 1.0) -> tuple[list[Pair], dict[tuple[str | None, str], str]]:
    """Failing replies made from the good ones of ``train`` (hand-written pairs), with their kinds:
    each preferred below its good reply overall and on its dimension (helpfulness)."""
    rng = random.Random(seed)
    industry = industries()
    good: dict[str, list[str]] = defaultdict(list)
    for p in train:
        if p.prompt is not None and p.chosen not in good[p.prompt]:
            good[p.prompt].append(p.chosen)
    by_industry: dict[str, list[str]] = defaultdict(list)
    for prompt in good:
        by_industry[industry.get(prompt, "")].append(prompt)
    pairs: list[Pair] = []
    made: list[Pair] = []
    labels: dict[tuple[str | None, str], str] = {}
    for prompt, replies in good.items():
        others = [q for q in by_industry[industry.get(prompt, "")] if q != prompt]
        for g in replies:
            # (kind, text): the kinds the generator gives such replies, so they name their dimension
            failing = [(DEGENERATE, _cut(g, rng)), (DEGENERATE, _loop(g, rng) if rng.random() < 0.5 else "")]
            if others:
                failing.append((OFF_TOPIC, rng.choice(good[rng.choice(others)])))
            for kind, bad in failing:
                if bad and bad != g:
                    pairs.append(Pair(prompt, g, bad, weight=weight))
                    labels[(prompt, bad)] = kind
                    made.append(Pair(prompt, g, bad, weight=weight, dimension=dimension_of(kind)))
    # the overall pairs first, in the order they always had, then each one's dimension pair
    return pairs + made, labels
