"""The hand-written sets: training replies and evaluation sets kept apart, every industry covered."""

from __future__ import annotations

import json
import re
from collections import Counter

from training import default_data, gate_check, handwritten
from training.gate_check import Exchange, Single

INDUSTRIES = {
    "online_retail", "banking", "telecom", "airline_travel", "saas", "insurance", "food_delivery", "utilities",
    "clinic_front_desk", "games_subscriptions",
}  # fmt: skip


def _training_rows() -> list[dict]:
    return [
        json.loads(line) for p in handwritten.files() for line in p.read_text(encoding="utf-8").splitlines() if line
    ]


def test_no_evaluation_text_appears_in_training_data() -> None:
    held = gate_check.texts()
    assert len(held) > 1000
    written = {r["prompt"] for r in _training_rows()} | {x["text"] for r in _training_rows() for x in r["replies"]}
    generated = {t for row in default_data.generate(1200, seed=0) for t in (row["prompt"], *row["responses"])}
    assert not held & written, sorted(held & written)[:3]
    assert not held & generated, sorted(held & generated)[:3]
    # the pairs training reads come from the same files
    assert not held & {t for p in handwritten.pairs() for t in (p.prompt, p.chosen, p.rejected)}


def test_training_replies_cover_every_industry_with_at_least_40_each() -> None:
    replies = Counter()
    for r in _training_rows():
        replies[r["industry"]] += len(r["replies"])
    assert set(replies) >= INDUSTRIES
    assert min(replies[i] for i in INDUSTRIES) >= 40, replies
    pairs = handwritten.pairs(weight=2.0)
    assert len(pairs) > 1000 and all(p.weight == 2.0 and p.chosen != p.rejected for p in pairs)


def test_evaluation_sets_cover_industries_kinds_and_single_replies() -> None:
    rows = gate_check.load_rows(gate_check.packaged())
    exchanges = [r for r in rows if isinstance(r, Exchange) and r.industry != gate_check.GENERAL]
    singles = [r for r in rows if isinstance(r, Single)]
    assert {r.industry for r in exchanges} >= INDUSTRIES
    assert sum(len(r.bad) for r in exchanges) >= 250
    assert {b.kind for r in exchanges for b in r.bad} == set(gate_check.KINDS)
    assert len(singles) >= 100
    assert sum(s.allow for s in singles) >= 40 and sum(not s.allow for s in singles) >= 40


def test_derived_failures_come_from_training_prompts_only_and_fail_as_their_kind() -> None:
    """Failing replies made from hand-written good ones: another message's answer of the same
    industry, a reply cut inside a sentence, a looping one; none from a validation prompt."""
    from training.data import split

    train, _ = split(handwritten.pairs(), 0.1, 0)
    made, labels = handwritten.derived(train, seed=0)
    overall = [p for p in made if p.dimension is None]
    assert {p.prompt for p in overall} <= {p.prompt for p in train}
    industry = handwritten.industries()
    answers = {p.chosen: p.prompt for p in train}  # a good reply and the message it answers
    kinds: Counter[str] = Counter()
    for p in overall:
        kind = labels[(p.prompt, p.rejected)]
        assert p.rejected != p.chosen
        if p.rejected in answers:
            kinds["other message"] += 1
            owner = answers[p.rejected]
            assert owner != p.prompt and industry[owner] == industry[p.prompt] and kind == "off_topic"
        elif p.chosen.startswith(p.rejected):
            kinds["cut"] += 1
            assert p.rejected.rstrip()[-1] not in ".!?" and kind == "degenerate"
        else:
            kinds["looping"] += 1
            assert kind == "degenerate"
            sentences = re.split(r"(?<=[.!?])\s+", p.rejected)
            assert len(sentences) > len(set(sentences)) and p.chosen.startswith(sentences[0])
    assert kinds["cut"] > 100 and kinds["looping"] > 50 and kinds["other message"] > 100, kinds
