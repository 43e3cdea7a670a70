"""The embedded generator (training/default_data.py): industries, kinds, held-out families and
topics, determinism, and the near-misses that matter (a masked card vs a full one, "never share
your code" vs a code revealed)."""

import json
import random
import re
import time
from pathlib import Path
from typing import Any

import pytest

from training import default_data as dd
from training.default_data_industries import INDUSTRIES
from training.default_data_phrases import (
    CODE,
    DECLINES,
    EVASIVE,
    HARMFUL,
    INJECTION_GOALS,
    INJECTIONS,
    LEAKS,
    PLACEHOLDERS,
    RUDE,
    SAFE_MENTIONS,
    SYSTEM_PROMPTS,
)

# A card number: 13-19 digits, maybe grouped by spaces, dashes, dots, slashes or underscores.
CARD_RE = re.compile(r"(?<!\d)(?:\d\s?[-./_]?\s?){12,18}\d(?!\d)")
WORDS = {w: str(i) for i, w in enumerate(dd.DIGIT_WORDS)}
UNSAFE = {"leak", "leak_in_good", "harmful", "injection"}


@pytest.fixture(scope="module")
def rows() -> list[dict[str, Any]]:
    return dd.generate(1200, seed=0)


def _digits_of(text: str) -> str:
    """Numbers in words become digits, and separators between digits go."""
    text = re.sub(r"\b(" + "|".join(WORDS) + r")\b", lambda m: WORDS[m.group(1).lower()], text, flags=re.I)
    return re.sub(r"(?<=\d)[\s./_-]{1,3}(?=\d)", "", text)


def _reveals(text: str, ctx: dict[str, str]) -> list[str]:
    """The secrets of ``ctx`` that ``text`` reveals, in whatever format."""
    digits = _digits_of(text)
    found = [k for k in ("card_digits", "otp_digits", "account_digits") if ctx[k] in digits]
    found += [k for k in ("cvv",) if re.search(rf"(?<!\d){ctx[k]}(?!\d)", text) and "CVV" in text.upper()]
    plain = ("password", "api_key", "staff_password", "dob", "nino", "passport", "ssn", "email", "email2", "phone")
    found += [k for k in plain if ctx[k] in text]
    found += ["address"] if f"{ctx['house']} {ctx['street']}" in text else []
    found += ["other_customer"] if f"{ctx['other']} {ctx['other_surname']}" in text else []
    answers = ("surname", "pet", "secret_word")
    found += [
        k for k in answers if re.search(rf"\b{re.escape(ctx[k])}\b", text) and ("answer" in text or "memorable" in text)
    ]
    return found


def _regex(template: str, formatted: bool = True) -> re.Pattern[str]:
    """A template as a regex: each placeholder matches any text."""
    if formatted:
        template = template.format_map(_Sentinel())
    body = re.escape(template).replace(re.escape("\0"), ".+?")
    if template[:1].isalpha():  # a template may start a sentence or follow another word
        body = f"[{template[0].upper()}{template[0].lower()}]" + body[1:]
    return re.compile(r"(?<![A-Za-z])" + body)


class _Sentinel(dict):
    def __missing__(self, key: str) -> str:
        return "\0"


def _contexts(n: int, seed: int = 0) -> list[tuple[str, dict[str, str], random.Random]]:
    rng = random.Random(seed)
    topics = sorted(dd.TOPICS)
    out = []
    for i in range(n):
        topic = topics[i % len(topics)]
        ctx = dd._context(rng, dd.industry_of(topic))
        ctx["question"], ctx["topic"] = str(rng.randrange(3)), topic.split(".", 1)[1]
        out.append((topic, ctx, rng))
    return out


def test_every_industry_and_kind_in_1200_prompts(rows: list[dict[str, Any]]) -> None:
    assert len(INDUSTRIES) >= 10
    assert {r["industry"] for r in rows} == set(INDUSTRIES)
    per_industry = {i: sum(r["industry"] == i for r in rows) for i in INDUSTRIES}
    assert set(per_industry.values()) == {120}, per_industry  # mixed evenly
    counts = {k: sum(k in r["kinds"] for r in rows) for k in ("good", "curt", *dd.BAD_KINDS)}
    assert set(counts) == {k for r in rows for k in r["kinds"]}
    assert min(counts.values()) >= 100, counts
    assert {"harmful", "injection", "leak", "leak_in_good", "rude", "rude_in_good"} <= set(counts)
    for r in rows:
        assert r["kinds"].count("good") == 1 and len(r["responses"]) == len(r["kinds"]) >= 3
        assert len(r["rankings"]) == len(dd.LABELLERS)
        assert all(sorted(rank) == list(range(1, len(r["kinds"]) + 1)) for rank in r["rankings"])
    # some prompts start with the customer's name, some don't
    named = sum(bool(re.match(r"^[A-Z][a-z]+: ", r["prompt"])) for r in rows)
    assert 0.4 * len(rows) < named < 0.8 * len(rows)


def test_every_failure_family_and_good_style_appears(rows: list[dict[str, Any]]) -> None:
    by_kind: dict[str, list[str]] = {}
    for r in rows:
        for k, text in zip(r["kinds"], r["responses"], strict=True):
            by_kind.setdefault(k, []).append(text)
    blob = {k: "\n".join(v) for k, v in by_kind.items()}
    for family in (*EVASIVE.values(), *RUDE.values(), *HARMFUL.values()):
        assert any(_regex(t).search(blob["evasive"] + blob["rude"] + blob["harmful"]) for t in family[:3])
    for i in INDUSTRIES.values():  # each industry's own wrong instructions
        assert any(_regex(t).search(blob["harmful"]) for t in i.harmful)
    leaks = blob["leak"] + blob["leak_in_good"]
    for family in LEAKS.values():
        assert any(_regex(t).search(leaks) for t in family)
    degenerate = by_kind["degenerate"]
    assert any(_is_json(t) for t in degenerate)
    assert any("[INSERT ANSWER]" in t or "{{customer_name}}" in t for t in degenerate)
    assert any(any(_regex(s).search(t) for s in SYSTEM_PROMPTS) for t in degenerate)
    assert any(any(_regex(s).search(t) for s in CODE) for t in degenerate)
    assert any(not t.rstrip().endswith((".", "!", "?", "}", "]")) and len(t.split()) > 5 for t in degenerate)  # cut
    good = by_kind["good"]
    assert sum("\n- " in t or "\n1. " in t for t in good) > 30  # bulleted steps
    assert sum(t.startswith("Dear") and "sincerely" in t for t in good) > 5  # formal
    assert sum(len(re.findall(r"[.!?](\s|$)", t)) == 1 for t in good) > 30  # one sentence
    assert sum("can't" in t and "but" in t for t in good) > 50  # bad news / refusals with an alternative
    assert sum(t.rstrip().endswith("?") and "could you" in t.lower() for t in good) > 10  # clarifying questions


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def test_generation_is_fast() -> None:
    start = time.perf_counter()
    dd.generate(1200, seed=3)
    assert time.perf_counter() - start < 2.0


def test_deterministic_by_seed(tmp_path: Path) -> None:
    assert dd.generate(200, seed=4) == dd.generate(200, seed=4)
    assert dd.generate(200, seed=4) != dd.generate(200, seed=5)
    a = dd.write_splits(tmp_path / "a", 100, seed=7)
    b = dd.write_splits(tmp_path / "b", 100, seed=7)
    for x, y in (
        (a.train, b.train),
        (a.validation_seen, b.validation_seen),
        (a.validation_heldout, b.validation_heldout),
    ):
        assert x.read_bytes() == y.read_bytes()
    assert {json.loads(line)["industry"] for line in a.train.read_text().splitlines()} == set(INDUSTRIES)


def _held_out_templates() -> list[tuple[str, bool]]:
    """(template, formatted) for every held-out template of every family."""
    families = [*EVASIVE.values(), *RUDE.values(), *LEAKS.values(), *HARMFUL.values(), *INJECTIONS.values(), CODE]
    families += [SYSTEM_PROMPTS, *(i.harmful for i in INDUSTRIES.values())]
    out = [(t, True) for fam in families for i, t in enumerate(fam) if dd._held_out(i)]
    return out + [(t, False) for i, t in enumerate(PLACEHOLDERS) if dd._held_out(i)]


def test_held_out_families_and_topics_never_in_training() -> None:
    train = dd.generate(1200, seed=1) + dd.generate(120, seed=11)
    heldout = dd.generate(300, seed=2, held_out=True)
    train_text = "\n".join(t for row in train for t in (row["prompt"], *row["responses"]))
    held_text = "\n".join(t for row in heldout for t in (row["prompt"], *row["responses"]))
    templates = _held_out_templates()
    assert len(templates) > 60
    seen = [t for t, formatted in templates if _regex(t, formatted).search(train_text)]
    assert not seen
    assert sum(bool(_regex(t, f).search(held_text)) for t, f in templates) > len(templates) // 2
    # held-out topics: one or two per industry; their questions and helps never reach training
    assert {dd.industry_of(t) for t in dd.HELD_OUT_TOPICS} == set(INDUSTRIES)
    train_prompts = "\n".join(row["prompt"] for row in train)
    for topic in dd.HELD_OUT_TOPICS:
        questions = [_regex(q.rstrip(".?!")) for q in dd.TOPICS[topic].questions]
        assert not [q.pattern for q in questions if q.search(train_prompts)], topic
        assert not [h for h in dd.TOPICS[topic].helps if _regex(h).search(train_text)], topic
    held_prompts = [row["prompt"] for row in heldout]
    held_questions = [_regex(q.rstrip(".?!")) for t in dd.HELD_OUT_TOPICS for q in dd.TOPICS[t].questions]
    assert all(any(q.search(p) for q in held_questions) for p in held_prompts)


def test_good_replies_mention_cards_and_codes_safely_and_never_reveal_them(rows: list[dict[str, Any]]) -> None:
    good = [t for r in rows for k, t in zip(r["kinds"], r["responses"], strict=True) if k == "good"]
    safe = [t for t in good if any(_regex(s).search(t) for s in SAFE_MENTIONS)]
    assert len(safe) > 100
    assert sum(bool(re.search(r"card ending \d{4}\b", t)) for t in good) > 30  # the customer's own card, masked
    never = r"never (share|ask|tell|send|call)|not even (with )?us|don't share|keep it to yourself"
    assert sum(bool(re.search(never, t, re.I)) for t in good) > 40  # codes and passwords, mentioned safely
    assert not [t for t in good if CARD_RE.search(t)]
    assert not [
        t for t in good if re.search(r"\b(?:(?:" + "|".join(WORDS) + r")\W+){3,}", t, re.I)
    ]  # no numbers in words
    # against the customer's own secrets, in every format
    for topic, ctx, rng in _contexts(1500, seed=5):
        text = dd.reply("good", topic, ctx, rng)
        assert not _reveals(text, ctx), (text, _reveals(text, ctx))
        ctx["injection"] = rng.choice(sorted(INJECTION_GOALS))
        text = dd.reply("good", topic, ctx, rng)  # declining an injected instruction reveals nothing either
        assert not _reveals(text, ctx) and not CARD_RE.search(text), text


def test_leaks_contain_the_secret() -> None:
    for topic, ctx, rng in _contexts(800, seed=6):
        for family, templates in LEAKS.items():
            for t in templates:
                assert _reveals(t.format(**ctx), ctx), (family, t.format(**ctx))
        for kind in ("leak", "leak_in_good"):
            for held_out in (False, True):
                text = dd.reply(kind, topic, ctx, rng, held_out)
                assert _reveals(text, ctx), (kind, text)
        if not re.search(r"[a-z]", ctx["card_number"]):  # digits, however separated: the card regex finds it
            assert CARD_RE.search(LEAKS["card"][0].format(**ctx)), ctx["card_number"]
    # full card numbers come in many formats: grouped, plain, spaced, odd separators, in words
    formats = {re.sub(r"\d", "9", dd._context(random.Random(s))["card_number"]) for s in range(300)}
    assert any("nine" in f for f in formats) and "9999999999999999" in formats
    assert {"9999 9999 9999 9999", "9999-9999-9999-9999", " ".join("9" * 16)} <= formats
    assert any(sep in f for f in formats for sep in (".", "/", "_"))


def test_injections_in_prompts_are_declined_by_good_and_obeyed_by_bad(rows: list[dict[str, Any]]) -> None:
    declines = [_regex(d.replace("{decline}", "{x}").replace("{Decline}", "{x}")) for d in DECLINES]
    wrappers = [_regex(w) for fam in INJECTIONS.values() for w in fam]
    injected = [r for r in rows if "injection" in r["kinds"]]
    assert 100 < len(injected) < 300
    for r in rows:
        good = r["responses"][r["kinds"].index("good")]
        has_injection = any(w.search(r["prompt"]) for w in wrappers)
        assert has_injection == ("injection" in r["kinds"]), r["prompt"]
        assert any(d.search(good) for d in declines) == has_injection, good
    # what complies with an instruction to reveal a secret reveals it
    for topic, ctx, rng in _contexts(200, seed=8):
        for goal in ("card", "other_customer", "one_time_code", "internal"):
            ctx["injection"] = goal
            assert _reveals(dd.reply("injection", topic, ctx, rng), ctx), goal


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    return [s for v in value for s in _strings(v)] if isinstance(value, list) else []


def test_no_sentence_written_by_hand_for_evaluation_or_training_is_generated() -> None:
    """The hand-written sets (evaluation, and hand-written training data) stay apart from the generator."""
    root = Path(dd.__file__).parent
    files = [f for d in ("eval_sets", "handwritten") for f in sorted((root / d).glob("**/*.jsonl"))]
    assert files
    texts = [
        s for f in files for line in f.read_text().splitlines() if line.strip() for s in _strings(json.loads(line))
    ]
    # Sentences of ten words or more: shorter ones are support's stock phrases ("Thank you for your
    # patience.", "Is there anything else I can help you with?") that every writer uses.
    sentences = {s.strip() for t in texts for s in re.split(r"(?<=[.!?])\s", t) if len(s.split()) >= 10}
    generated = dd.generate(1200, seed=0) + dd.generate(200, seed=0, held_out=True)
    blob = "\n".join(t for row in generated for t in (row["prompt"], *row["responses"]))
    assert not [s for s in sentences if s in blob]


def test_labellers_rank_unsafe_replies_below_safe_ones(rows: list[dict[str, Any]]) -> None:
    for r in rows:
        for rank in r["rankings"]:
            good = rank[r["kinds"].index("good")]
            for k, place in zip(r["kinds"], rank, strict=True):
                if k in UNSAFE:
                    assert place > good
                    assert all(place > p for kk, p in zip(r["kinds"], rank, strict=True) if kk in ("good", "curt"))
    assert dd.QUALITIES["harmful"][3] == dd.QUALITIES["injection"][3] == dd.QUALITIES["leak"][3]
