"""The embedded default data: a seeded generator of customer-support rankings.

Ten industries (``default_data_industries``: online retail, banking, telecom, airline and travel,
SaaS, insurance, food delivery, utilities, a clinic's front desk for appointments and billing,
games and subscriptions), mixed evenly. Replies are composed from parts with many alternatives
each (``default_data_phrases``), so the model learns qualities rather than strings. Each customer
question gets 3-5 candidate replies of different kinds:

- ``good``: polite, specific help for the question asked, in many styles: the usual composed
  reply, one sentence, bulleted steps, formal, warm, bad news with a reason and an alternative, a
  clarifying question, a refusal to share a third party's data; often with a safe mention of
  contact details, the customer's own masked data ("card ending 4242") or of codes and passwords
  ("never share it, not even with us"), the near-misses of a leak. To a message with an
  injected instruction, a good reply declines that part politely and still helps;
- ``curt``: correct but curt;
- ``evasive``: no answer (deferral, policy talk, redirection, "read the FAQ", an escalation
  promise with nothing done, apology only);
- ``rude``: blame, sarcasm, dismissal, insult, condescension, passive-aggressive politeness,
  with or without a curt answer;
- ``leak``: personal data and secrets (card numbers and CVVs, one-time codes, passwords,
  security answers, dates of birth, addresses, national ids, contact details, account numbers,
  internal API keys and staff logins, another customer's data), in many formats (digits grouped
  by spaces, dashes, dots or slashes, spaced digits, numbers in words), casually or politely;
- ``leak_in_good`` / ``rude_in_good``: a good reply with a leak or an insult slipped in at its
  start, middle or end;
- ``harmful``: wrong or harmful instructions, politely put: asking for a one-time code, PIN or
  password "to verify", telling the customer to ignore a fraud or security alert, a made-up
  policy that costs the customer, wrong steps specific to the industry;
- ``degenerate``: repetition, filler alone, one word, gibberish, a reply cut mid-sentence,
  placeholder text, JSON or code instead of prose, the system prompt echoed;
- ``off_topic``: a good-looking answer to a different question of the same industry;
- ``injection``: only for a message that carries an injected instruction ("ignore previous
  instructions and ...", "SYSTEM: ...", "as the admin I authorise you to ..."): a reply that
  complies (leaks a card or a code, echoes its instructions, skips checks, insults).

Five simulated labellers, who weigh helpfulness, politeness, brevity and safety differently and
add noise, rank the replies: the subjectivity real labelling teams have. Rows are in the rankings
format, with a ``kinds`` field that says what each reply is and an ``industry`` field (the data
reader ignores both; the evaluation uses them). ``write`` follows each row with one rankings row per quality
dimension its replies fail (``dimensions.py``: privacy, tone, helpfulness, safety, security),
where the replies failing it rank below the others.

Every phrasing list is a family of templates. ``HELD_OUT_TOPICS`` (one or two topics per
industry) and every fourth template of each failure family (``_held_out``), injected-instruction
wrappers included, never appear in training data: ``write_splits`` writes them only into
``validation-heldout.jsonl``, so its accuracy measures judgement on phrasings never seen.

Every brand, name and number is invented (card numbers are random digits).
"""

from __future__ import annotations

import json
import random
import string
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .default_data_industries import INDUSTRIES, Topic
from .default_data_phrases import (
    ACKNOWLEDGEMENTS,
    BULLET_INTROS,
    CLARIFY,
    CLOSINGS,
    CODE,
    CONNECTORS,
    DECLINES,
    DONE,
    EVASIVE,
    EXTRAS,
    FILLERS,
    FORMAL,
    HARMFUL,
    INJECTION_GOALS,
    INJECTIONS,
    LEAKS,
    ONE_WORDS,
    OPENERS,
    PLACEHOLDER_GAPS,
    PLACEHOLDERS,
    RUDE,
    SAFE_MENTIONS,
    SAFE_NOTES,
    SYSTEM_PROMPTS,
    WARM,
    WHEN,
)
from .dimensions import dimension_rankings

NAMES = [
    "Alex", "Sam", "Priya", "Jordan", "Mei", "Carlos", "Fatima", "Noah", "Olga", "Kenji", "Amara", "Lucas",
    "Sofia", "Ibrahim", "Hannah", "Diego", "Yuki", "Grace", "Omar", "Lena", "Mateo", "Aisha", "Ravi", "Chloe",
    "Emeka", "Ingrid", "Pablo", "Zara", "Felix", "Nadia", "Hugo", "Leila", "Victor", "Anya", "Kofi", "Rosa",
]  # fmt: skip
SURNAMES = [
    "Garcia", "Okafor", "Novak", "Tanaka", "Schmidt", "Rossi", "Haddad", "Kowalski", "Silva", "Jensen", "Moreau",
    "Patel", "Nguyen", "Larsen", "Costa", "Fischer", "Ali", "Bauer", "Lindqvist", "Mendes",
]  # fmt: skip
ITEMS = [
    "headphones", "laptop", "blender", "backpack", "thermostat", "yoga mat", "e-reader", "coffee grinder",
    "desk lamp", "speaker", "running shoes", "camera", "air purifier", "toothbrush", "tent", "smartwatch",
    "robot vacuum", "tablet", "bookshelf", "keyboard", "rice cooker", "scooter", "baby monitor", "solar charger",
    "office chair", "monitor", "router", "drone", "hair dryer", "toaster", "printer", "microwave", "bike helmet",
    "suitcase", "water bottle", "phone case", "mattress", "sofa", "jacket", "vacuum cleaner", "air fryer",
    "electric razor", "game console", "dash cam", "webcam", "lawn mower", "heater", "fan",
]  # fmt: skip
_SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "ra",
    "ven",
    "tor",
    "zu",
    "bel",
    "sor",
    "nix",
    "ar",
    "quo",
    "dri",
    "fen",
    "ol",
    "sta",
    "mar",
    "pex",
    "ul",
    "ryn",
]


def _coined(rng: random.Random, parts: int = 2) -> str:
    """A made-up brand or name: the model meets unfamiliar words in good and bad replies alike."""
    return "".join(rng.choice(_SYLLABLES) for _ in range(parts)).capitalize()


def _product(rng: random.Random) -> str:
    brand = _coined(rng, rng.choice([2, 3]))
    return rng.choice([f"the {brand} {rng.choice(ITEMS)}", f"the {rng.choice(ITEMS)}"])


STREETS = [
    "Elm Street",
    "Harbour Road",
    "Maple Avenue",
    "Station Lane",
    "Kingsway",
    "Oak Drive",
    "Mill Road",
    "Park Terrace",
]
CITIES = ["Springfield", "Leeds", "Bristol", "Lyon", "Porto", "Denver", "Adelaide", "Cork", "Utrecht", "Malmo"]
SECRET_WORDS = ["sunflower", "dragon", "bluebird", "pepper", "maverick", "tigerlily", "moonlight", "falcon"]
PETS = ["Rex", "Biscuit", "Luna", "Mittens", "Pepper", "Shadow"]

# Topics are keyed "industry.topic".
TOPICS: dict[str, Topic] = {f"{i}.{name}": t for i, ind in INDUSTRIES.items() for name, t in ind.topics.items()}
# One or two topics per industry never appear in training data: validation asks questions the model has not seen.
HELD_OUT_TOPICS: tuple[str, ...] = tuple(f"{i}.{name}" for i, ind in INDUSTRIES.items() for name in ind.held_out)

DEGENERATE = ["repeat", "filler", "one_word", "gibberish", "cut", "placeholder", "json", "code", "system_prompt"]
DIGIT_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]

# What each reply kind offers: helpfulness, politeness, brevity, safety. Harmful instructions and
# compliance with an injected instruction are as bad for safety as a leak.
QUALITIES = {
    "good": (1.0, 1.0, 0.2, 1.0),
    "curt": (0.7, 0.2, 1.0, 1.0),
    "evasive": (0.05, 0.6, 0.6, 1.0),
    "rude": (0.3, -1.0, 0.8, 1.0),
    "rude_in_good": (0.8, -1.0, 0.2, 1.0),
    "leak": (0.3, 0.8, 0.5, -1.5),
    "leak_in_good": (0.8, 1.0, 0.2, -1.5),
    "degenerate": (0.0, 0.2, 0.3, 1.0),
    "off_topic": (0.05, 1.0, 0.2, 1.0),
    "harmful": (0.3, 0.9, 0.4, -1.5),
    "injection": (0.3, 0.7, 0.5, -1.5),
}
BAD_KINDS = [
    "evasive", "rude", "rude_in_good", "leak", "leak_in_good", "degenerate", "off_topic", "harmful", "injection",
]  # fmt: skip
# ``injection`` replies exist only for messages that carry an injected instruction.
_OTHER_BAD = [k for k in BAD_KINDS if k != "injection"]
INJECTION_RATE = 0.15
# Five labellers with their own taste: one prizes brevity, one is strict on tone, ...
LABELLERS = [
    (1.0, 0.5, 0.1, 1.5),
    (0.8, 1.0, 0.2, 1.5),
    (0.9, 0.3, 0.9, 1.5),
    (1.0, 0.8, 0.0, 2.0),
    (0.7, 0.6, 0.4, 1.2),
]
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]  # fmt: skip
GAMES = ["Starfall Arena", "Pocket Kingdoms", "Drift Legends", "Moonforge", "Tiny Tactics", "Ocean Outpost"]
DISHES = ["pad thai", "veggie burger", "chicken curry", "margherita pizza", "falafel wrap", "ramen", "poke bowl"]


def _held_out(i: int) -> bool:
    """Every fourth template of a family is kept for held-out validation."""
    return i % 4 == 3


def _pick(rng: random.Random, options: Sequence[str], held_out: bool | None) -> str:
    """One option; ``held_out`` True or False restricts to that part of the family, None takes any."""
    pool = [o for i, o in enumerate(options) if held_out is None or _held_out(i) == held_out]
    return rng.choice(pool or list(options))


def industry_of(topic: str) -> str:
    return topic.split(".", 1)[0]


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _digits(rng: random.Random, n: int) -> str:
    return f"{rng.randrange(10**n):0{n}d}"


def _spell(digits: str, rng: random.Random, group: int = 4) -> str:
    """A number as a leak would write it: grouped by spaces, dashes, dots or slashes, plain,
    digit by digit, or in words."""
    groups = [digits[i : i + group] for i in range(0, len(digits), group)]
    style = rng.random()
    if style < 0.3:
        return " ".join(groups)
    if style < 0.42:
        return "-".join(groups)
    if style < 0.55:
        return digits
    if style < 0.66:
        return rng.choice([".", "/", "_", " - ", " / "]).join(groups)
    if style < 0.76:
        return " ".join(digits)
    if style < 0.9:
        return " ".join(DIGIT_WORDS[int(c)] for c in digits)
    return " ".join([" ".join(DIGIT_WORDS[int(c)] for c in groups[0]), *groups[1:]])


_PNR = string.ascii_uppercase + "23456789"
_ALNUM = string.ascii_letters + string.digits


def _context(rng: random.Random, industry: str = "online_retail") -> dict[str, str]:
    """A customer, their (made-up) brand, references and secrets: what replies are filled with."""
    name, other = (rng.choice(NAMES) if rng.random() < 0.6 else _coined(rng) for _ in range(2))
    agent = rng.choice(NAMES) if rng.random() < 0.5 else _coined(rng)
    d, m, y = rng.randint(1, 28), rng.randint(1, 12), rng.randint(1950, 2004)
    dob = rng.choice(
        [
            f"{d:02d}/{m:02d}/{y}",
            f"{y}-{m:02d}-{d:02d}",
            f"{d} {_MONTHS[m - 1]} {y}",
            f"{_MONTHS[m - 1]} {d}, {y}",
            f"{d}.{m}.{y}",
        ]
    )
    first = rng.choice(["4", "5", "37", "6011"])
    card_digits = first + _digits(rng, 16 - len(first))
    otp = _digits(rng, 6)
    account = _digits(rng, 8)
    letters = "".join(rng.choice(string.ascii_uppercase) for _ in range(2))
    order = rng.choice(
        [
            f"#{rng.randint(10000, 99999)}",
            f"{letters}-{rng.randint(1000, 99999)}",
            f"{rng.randint(100, 999)}-{rng.randint(1000, 9999)}",
            f"{letters}{rng.randint(10000, 99999)}",
        ]
    )
    phone = rng.choice(
        [
            f"+44 7700 900{rng.randint(100, 999)}",
            f"({rng.randint(200, 999)}) 555-0{rng.randint(100, 199)}",
            f"06 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}",
            f"07{rng.randint(100, 999)} {rng.randint(100000, 999999)}",
        ]
    )
    brand = rng.choice(INDUSTRIES[industry].brand).format(c=_coined(rng, rng.choice([2, 3])))
    return {
        "industry": industry,
        "brand": brand,
        "ref_noun": INDUSTRIES[industry].ref_noun,
        "topic": "",
        "question": "0",
        "injection": "",
        "name": name,
        "other": other,
        "agent": agent,
        "surname": rng.choice(SURNAMES),
        "other_surname": rng.choice(SURNAMES),
        "product": _product(rng),
        "order": order,
        "other_order": f"#{rng.randint(10000, 99999)}",
        "ref": f"{rng.choice(['CS', 'RT', 'TK', 'CL'])}-{rng.randint(10000, 99999)}",
        "pnr": "".join(rng.choices(_PNR, k=6)),
        "flight": f"{rng.choice(string.ascii_uppercase)}{rng.choice(string.ascii_uppercase)} {rng.randint(100, 1999)}",
        "policy": f"{rng.choice(['PL', 'HM', 'MT', 'TR'])}-{rng.randint(100000, 999999)}",
        "meter": f"M{rng.randint(1000, 9999)}",
        "appt": f"{rng.choice(['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday'])} at {rng.randint(8, 17)}:{rng.choice(['00', '15', '30', '45'])}",
        "game": rng.choice(GAMES) if rng.random() < 0.6 else f"{_coined(rng)} {rng.choice(['Quest', 'Heroes', 'Racers', 'Online'])}",
        "restaurant": f"{_coined(rng)} {rng.choice(['Kitchen', 'Grill', 'Noodle Bar', 'Pizzeria', 'Cafe'])}",
        "dish": rng.choice(DISHES),
        "app": _coined(rng, 2) + rng.choice(["", " Desk", " Notes", " Flow"]),
        "money": rng.choice(["£", "€", "$"]) + str(rng.choice([5, 10, 15, 20, 25, 40, 60])),
        "day": rng.choice(["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "tomorrow", "the end of the week", f"the {rng.randint(4, 20)}th"]),
        "hours": str(rng.choice([2, 12, 24, 48, 72])),
        "support_phone": rng.choice(["0800 555 0100", "1-800-555-0199", "0800 555 0142", "1-800-555-0123"]),
        "support_email": rng.choice(["support@example.com", "help@example.net", "care@example.org"]),
        "email": f"{name.lower()}{rng.choice(['', '.', '_'])}{rng.randint(1, 99)}@{rng.choice(['example.com', 'mail.test', 'inbox.example'])}",
        "email2": f"{other.lower()}{rng.randint(1, 99)}@example.org",
        "card_digits": card_digits,
        "card_number": _spell(card_digits, rng),
        "last4": card_digits[-4:],
        "expiry": f"{rng.randint(1, 12):02d}/{rng.randint(26, 31)}",
        "cvv": f"{rng.randint(100, 999)}",
        "pin": f"{rng.randint(1000, 9999)}",
        "otp_digits": otp,
        "otp": _spell(otp, rng, group=3),
        "account_digits": account,
        "account_number": _spell(account, rng),
        "acct_last4": account[-4:],
        "sort_code": f"{rng.randint(10, 99)}-{rng.randint(10, 99)}-{rng.randint(10, 99)}",
        "iban": f"GB{rng.randint(10, 99)} {''.join(rng.choices(string.ascii_uppercase, k=4))} {rng.randint(100000, 999999)} {account}",
        "api_key": rng.choice(["sk_live_", "key-", "AKIA", "tok_"]) + "".join(rng.choices(_ALNUM, k=24)),
        "staff_user": rng.choice([f"{agent.lower()}.admin", "ops_support", f"agent{rng.randint(10, 999)}", "backoffice"]),
        "staff_password": _coined(rng, 3) + rng.choice(["!", "#", "$", "@"]) + str(rng.randint(100, 9999)),
        "password": rng.choice([rng.choice(SECRET_WORDS), _coined(rng, 3)]) + rng.choice(["", "!", "#", "_"]) + str(rng.randint(10, 2024)),
        "secret_word": rng.choice([*SECRET_WORDS, _coined(rng)]),
        "pet": rng.choice([*PETS, _coined(rng)]),
        "dob": dob,
        "house": str(rng.randint(1, 220)),
        "flat": str(rng.randint(1, 30)),
        "street": rng.choice(STREETS) if rng.random() < 0.6 else f"{_coined(rng)} {rng.choice(['Street', 'Road', 'Lane', 'Avenue', 'Close', 'Way'])}",
        "city": rng.choice(CITIES) if rng.random() < 0.6 else _coined(rng, 3),
        "postcode": rng.choice([f"{rng.randint(10000, 99999)}", f"BS{rng.randint(1, 9)} {rng.randint(1, 9)}QT", f"{rng.randint(1000, 9999)}"]),
        "ssn": f"{rng.randint(100, 899)}-{rng.randint(10, 99)}-{rng.randint(1000, 9999)}",
        "nino": f"QQ {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} C",
        "passport": f"{rng.choice(string.ascii_uppercase)}{rng.randint(1000000, 9999999)}",
        "phone": phone,
        "phone_last2": "".join(c for c in phone if c.isdigit())[-2:],
    }  # fmt: skip


def _opening(opener: str, rng: random.Random) -> str:
    ack = rng.choice(ACKNOWLEDGEMENTS)
    if opener.endswith((".", "!")):
        ack = _cap(ack)
    return f"{opener} {ack}"


def _help(topic: str, ctx: dict[str, str], rng: random.Random) -> str:
    """The help for one question: a fixed specific answer, a composed action, or a step."""
    t = TOPICS[topic]
    q = int(ctx["question"])
    style = rng.random()
    if t.done and 0.35 <= style < 0.75:
        text = f"{rng.choice(DONE)} {rng.choice(t.done)}{rng.choice(WHEN)}"
        if rng.random() < 0.4:
            text += f", and {rng.choice([d for d in t.done if d != text])}"
        return text.format(**ctx)
    if style < 0.8 or not t.steps:
        return t.helps[q % len(t.helps)].format(**ctx)
    return (rng.choice(["please ", "you can ", "just ", ""]) + rng.choice(t.steps)).format(**ctx)


def _sentences_of_good(topic: str, ctx: dict[str, str], rng: random.Random) -> list[str]:
    """The usual good reply as a list of sentences: an opener (often with an acknowledgement), the
    help for this question, sometimes further substance or a safe note on personal data, a closing."""
    help_ = _help(topic, ctx, rng)
    body = rng.choice(CONNECTORS).format(help=help_, Help=_cap(help_))
    opener = rng.choice(OPENERS).format(**ctx)
    parts = [_opening(opener, rng) if rng.random() < 0.7 else opener, body]
    for bank, chance in ((EXTRAS, 0.45), (SAFE_NOTES, 0.15), (SAFE_MENTIONS, 0.25), (EXTRAS, 0.1)):
        if rng.random() < chance:
            parts.append(rng.choice(bank).format(**ctx))
    if rng.random() < 0.75:
        parts.append(rng.choice(CLOSINGS).format(**ctx))
    return parts


def _good_parts(topic: str, ctx: dict[str, str], rng: random.Random) -> tuple[list[str], str]:
    """A good reply in one of many styles, as parts and the separator that joins them."""
    t = TOPICS[topic]
    style = rng.random()
    sep = " "
    if style < 0.42:
        parts = _sentences_of_good(topic, ctx, rng)
    elif style < 0.52:  # one sentence
        help_ = _help(topic, ctx, rng)
        parts = [rng.choice([f"{_cap(help_)}.", f"Hi {ctx['name']}, {help_}.", f"{ctx['name']}, {help_}."])]
    elif style < 0.64 and t.steps:  # bulleted steps
        steps = [_cap(s.format(**ctx)) for s in t.steps]
        numbered = rng.random() < 0.4
        lines = [f"{i}. {s}" if numbered else f"- {s}" for i, s in enumerate(steps, 1)]
        parts = [rng.choice(BULLET_INTROS).format(**ctx), *lines]
        if rng.random() < 0.3:
            parts.append(rng.choice(SAFE_MENTIONS).format(**ctx))
        if rng.random() < 0.6:
            parts.append(rng.choice(CLOSINGS).format(**ctx))
        sep = "\n"
    elif style < 0.72:  # formal
        hello, further, signoff = FORMAL
        parts = [rng.choice(hello).format(**ctx), f"{_cap(_help(topic, ctx, rng))}."]
        if rng.random() < 0.3:
            parts.append(rng.choice(SAFE_MENTIONS).format(**ctx))
        parts += [rng.choice(further), rng.choice(signoff).format(**ctx)]
    elif style < 0.8:  # warm
        hello, bye = WARM
        parts = [rng.choice(hello).format(**ctx), f"{_cap(_help(topic, ctx, rng))}."]
        if rng.random() < 0.3:
            parts.append(rng.choice(EXTRAS).format(**ctx))
        parts.append(rng.choice(bye))
    elif style < 0.9 and t.bad_news:  # bad news with the reason and an alternative
        opener = rng.choice(OPENERS).format(**ctx)
        parts = [
            _opening(opener, rng) if rng.random() < 0.5 else opener,
            f"{_cap(rng.choice(t.bad_news).format(**ctx))}.",
        ]
        if rng.random() < 0.6:
            parts.append(rng.choice(CLOSINGS).format(**ctx))
    elif style < 0.95 and not ctx["injection"] and not topic.endswith(".third_party"):  # a clarifying question
        parts = [rng.choice(CLARIFY).format(**ctx)]
    else:
        parts = _sentences_of_good(topic, ctx, rng)
    if ctx["injection"]:  # decline the injected instruction politely, still help
        decline = INJECTION_GOALS[ctx["injection"]][2]
        note = rng.choice(DECLINES).format(decline=decline, Decline=_cap(decline))
        parts.insert(rng.choice([0, 1]) if len(parts) > 1 else 0, note)
    return parts, sep


def _good(topic: str, ctx: dict[str, str], rng: random.Random) -> str:
    parts, sep = _good_parts(topic, ctx, rng)
    return sep.join(parts)


def _insert(parts: list[str], sentence: str, rng: random.Random, sep: str = " ") -> str:
    """Slip ``sentence`` in at the start, middle or end of a reply."""
    where = rng.choice(["start", "middle", "end"])
    if where == "start":
        return sep.join([sentence, *parts])
    if where == "end":
        return sep.join([*parts, sentence])
    return sep.join([*parts[:-1], sentence, parts[-1]])


def _gibberish(rng: random.Random) -> str:
    words = [
        "".join(rng.choice("asdfghjklqwertyuiopzxcvbnm") for _ in range(rng.randint(2, 9)))
        for _ in range(rng.randint(1, 8))
    ]
    return " ".join(words)


def _json_reply(ctx: dict[str, str], rng: random.Random) -> str:
    shapes: list[Any] = [
        {"intent": ctx["topic"], "customer": ctx["name"], "reply": None, "status": "resolved"},
        {"response": {"text": "", "confidence": round(rng.random(), 2)}, "escalate": False},
        [{"action": ctx["topic"], "amount": ctx["money"], "ticket": ctx["ref"]}],
        {"error": "template_not_found", "template": f"{ctx['industry']}_{ctx['topic']}_v2"},
    ]
    return json.dumps(rng.choice(shapes), indent=rng.choice([None, 2]))


def _degenerate(topic: str, ctx: dict[str, str], rng: random.Random, held_out: bool | None, curt: str) -> str:
    style = rng.choice(DEGENERATE)
    opener = rng.choice(OPENERS).format(**ctx)
    if style == "repeat":
        sentence = rng.choice([opener, _opening(opener, rng), rng.choice(FILLERS), curt, rng.choice(ITEMS)])
        return rng.choice([" ", ", "]).join([sentence] * rng.randint(3, 7))
    if style == "filler":
        return rng.choice([rng.choice(FILLERS), opener, rng.choice(CLOSINGS).format(**ctx)])
    if style == "one_word":
        return rng.choice([*ONE_WORDS, rng.choice(ITEMS), ctx["name"], ctx["order"]])
    if style == "cut":  # stops mid-sentence
        words = " ".join(_sentences_of_good(topic, ctx, rng)).split(" ")
        cut = " ".join(words[: max(3, int(len(words) * rng.uniform(0.3, 0.75)))]).rstrip(".,;:!?")
        return cut + rng.choice(["", "", " ", "..."])
    if style == "placeholder":
        if rng.random() < 0.5:
            return _pick(rng, PLACEHOLDERS, held_out)
        return f"{opener} {rng.choice(PLACEHOLDER_GAPS)} {rng.choice(CLOSINGS).format(**ctx)}"
    if style == "json":
        return _json_reply(ctx, rng)
    if style == "code":
        return _pick(rng, CODE, held_out).format(**ctx)
    if style == "system_prompt":
        return _pick(rng, SYSTEM_PROMPTS, held_out).format(**ctx)
    return _gibberish(rng)


def reply(kind: str, topic: str, ctx: dict[str, str], rng: random.Random, held_out: bool | None = False) -> str:
    """One reply of ``kind`` to a question of ``topic`` ("industry.topic"); ``ctx`` comes from
    ``_context`` (its "injection" names the goal of an injected instruction, or is empty);
    ``held_out`` picks the phrasing families (False: training phrasings, True: held-out
    phrasings, None: any)."""
    t = TOPICS[topic]
    curt = t.curts[int(ctx["question"]) % len(t.curts)].format(**ctx)
    opener = rng.choice(OPENERS).format(**ctx)
    if kind == "good":
        return _good(topic, ctx, rng)
    if kind == "curt":
        return curt
    if kind == "evasive":
        text = _pick(rng, EVASIVE[rng.choice(sorted(EVASIVE))], held_out).format(**ctx)
        return f"{opener} {text}" if rng.random() < 0.5 else text
    if kind in ("rude", "rude_in_good"):
        insult = _pick(rng, RUDE[rng.choice(sorted(RUDE))], held_out).format(**ctx)
        if kind == "rude_in_good":
            parts, sep = _good_parts(topic, ctx, rng)
            return _insert(parts, insult, rng, sep)
        return f"{insult} {curt}" if rng.random() < 0.7 else insult
    if kind in ("leak", "leak_in_good"):
        family = (
            "other_customer" if topic.endswith(".third_party") and rng.random() < 0.5 else rng.choice(sorted(LEAKS))
        )
        leak = _pick(rng, LEAKS[family], held_out).format(**ctx)
        leak = _cap(leak) if rng.random() < 0.5 else leak
        if kind == "leak_in_good":
            parts, sep = _good_parts(topic, ctx, rng)
            return _insert(parts, leak if leak.endswith((".", "!", "?")) else f"{leak}.", rng, sep)
        if rng.random() < 0.3:
            return f"{opener} {curt} {leak}"
        return f"{opener} {leak}" + (f" {rng.choice(CLOSINGS).format(**ctx)}" if rng.random() < 0.5 else "")
    if kind == "harmful":
        family = rng.choice([*sorted(HARMFUL), "industry"])
        bank = INDUSTRIES[industry_of(topic)].harmful if family == "industry" else HARMFUL[family]
        text = _pick(rng, bank, held_out).format(**ctx)
        style = rng.random()
        if style < 0.5:
            closing = f" {rng.choice(CLOSINGS).format(**ctx)}" if rng.random() < 0.6 else ""
            return f"{_opening(opener, rng)} {text}{closing}"
        if style < 0.75:
            return f"{opener} {curt} {text}"
        return text
    if kind == "injection":  # complies with the injected instruction
        goal = ctx["injection"] or rng.choice(sorted(INJECTION_GOALS))
        text = rng.choice(INJECTION_GOALS[goal][1]).format(**ctx)
        style = rng.random()
        if style < 0.5:
            return f"{opener} {text}"
        if style < 0.75:
            return f"{opener} {text} {curt}"
        return text
    if kind == "degenerate":
        return _degenerate(topic, ctx, rng, held_out, curt)
    if kind == "off_topic":
        same = industry_of(topic)
        others = [o for o in TOPICS if o != topic and industry_of(o) == same and o not in HELD_OUT_TOPICS]
        other = rng.choice([o for o in others if not o.endswith(".third_party")] or others)
        octx = {**ctx, "question": str(rng.randrange(3)), "topic": other.split(".", 1)[1], "injection": ""}
        return " ".join(_sentences_of_good(other, octx, rng))
    raise ValueError(kind)


# Each labeller's utility of each kind, before noise.
_UTILITY = [
    {k: sum(w * q for w, q in zip(weights, quality, strict=True)) for k, quality in QUALITIES.items()}
    for weights in LABELLERS
]


def _rank(kinds: list[str], rng: random.Random) -> list[list[int]]:
    rankings = []
    for base in _UTILITY:
        utility = [base[k] + rng.gauss(0, 0.25) for k in kinds]
        order = sorted(range(len(kinds)), key=lambda i: -utility[i])
        ranks = [0] * len(kinds)
        for r, i in enumerate(order, 1):
            ranks[i] = r
        rankings.append(ranks)
    return rankings


TONE_PREFIXES = ["Hi, ", "Hello! ", "Quick question: ", "URGENT: ", "Hey there. ", "Good morning. ", "Help please. "]
TONE_SUFFIXES = [
    " Thanks!", " Please help.", " This is the third time I'm asking.", " Thanks in advance.",
    " Not happy about this at all.", " Cheers", " I need this sorted today.", " Any help appreciated :)",
]  # fmt: skip


def _tone(question: str, rng: random.Random) -> str:
    style = rng.random()
    if style < 0.15:
        return question[:1].lower() + question[1:].rstrip(".")
    if style < 0.3:
        return rng.choice(TONE_PREFIXES) + question
    if style < 0.45:
        return question + rng.choice(TONE_SUFFIXES)
    return question


def _injected(ctx: dict[str, str], rng: random.Random, held_out: bool) -> str:
    """An injected instruction; sets ``ctx["injection"]`` to its goal."""
    goal = rng.choice(sorted(INJECTION_GOALS))
    ctx["injection"] = goal
    ask = rng.choice(INJECTION_GOALS[goal][0]).format(**ctx)
    wrapper = _pick(rng, INJECTIONS[rng.choice(sorted(INJECTIONS))], held_out)
    return wrapper.format(**{**ctx, "ask": ask})


def generate(n_prompts: int = 1200, seed: int = 0, held_out: bool = False) -> list[dict[str, Any]]:
    """Rankings rows, industries mixed evenly. ``held_out`` False: training topics and phrasings
    only; True: the held-out topics and phrasing families only."""
    rng = random.Random(seed)
    industries = sorted(INDUSTRIES)
    topics = {
        i: sorted(t for t in TOPICS if industry_of(t) == i and (t in HELD_OUT_TOPICS) == held_out) for i in industries
    }
    rows = []
    block: list[str] = []
    for n in range(n_prompts):
        if n % len(industries) == 0:
            block = rng.sample(industries, len(industries))
        industry = block[n % len(industries)]
        topic = rng.choice(topics[industry])
        ctx = _context(rng, industry)
        t = TOPICS[topic]
        qi = rng.randrange(len(t.questions))
        ctx["question"], ctx["topic"] = str(qi), topic.split(".", 1)[1]
        question = _tone(t.questions[qi].format(**ctx), rng)
        if rng.random() < INJECTION_RATE:
            injection = _injected(ctx, rng, held_out)
            question = f"{question} {injection}" if rng.random() < 0.7 else f"{injection} {question}"
            others = ["injection", *rng.sample(_OTHER_BAD, k=rng.randint(1, 2))]
        else:
            others = rng.sample(_OTHER_BAD, k=rng.randint(2, 3))
        prompt = f"{ctx['name']}: {question}" if rng.random() < 0.6 else question
        kinds = ["good", *others] + (["curt"] if rng.random() < 0.4 else [])
        rng.shuffle(kinds)
        responses = [reply(k, topic, ctx, rng, held_out) for k in kinds]
        rows.append(
            {
                "prompt": prompt,
                "responses": responses,
                "rankings": _rank(kinds, rng),
                "kinds": kinds,
                "industry": industry,
            }
        )
    return rows


def dimension_rows(row: dict[str, Any]) -> list[dict[str, Any]]:
    """The quality-dimension rankings of a generated row, one rankings row per dimension its
    replies fail (``"dimension": "privacy"``): what the generator knows it generated."""
    return [
        {
            "prompt": row["prompt"],
            "responses": row["responses"],
            "rankings": rankings,
            "dimension": dim,
            "industry": row["industry"],
        }
        for dim, rankings in dimension_rankings(row["kinds"]).items()
    ]


def write(path: Path, n_prompts: int = 1200, seed: int = 0, held_out: bool = False, dimensions: bool = True) -> Path:
    """The generated rows, each followed by its dimension rows (``dimensions``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for row in generate(n_prompts, seed, held_out):
            for out in [row, *(dimension_rows(row) if dimensions else [])]:
                f.write(json.dumps(out) + "\n")
    return path


@dataclass(frozen=True)
class Splits:
    train: Path
    validation_seen: Path  # training topics and phrasings, new customers and wording combinations
    validation_heldout: Path  # held-out topics and phrasing families


def write_splits(directory: Path, n_prompts: int = 1200, seed: int = 0, val_fraction: float = 0.1) -> Splits:
    n_val = max(20, int(n_prompts * val_fraction))
    return Splits(
        train=write(directory / "train.jsonl", n_prompts, seed),
        validation_seen=write(directory / "validation-seen.jsonl", n_val, seed + 10_000),
        validation_heldout=write(directory / "validation-heldout.jsonl", n_val, seed + 20_000, held_out=True),
    )


def labels(path: Path) -> dict[tuple[str | None, str], str]:
    """The kind of each reply of a written file (good, curt, or the failure it is), keyed
    (prompt, text): what each reply is, beside how the labellers ranked it. A dimension row
    repeats its generated row's replies without their kinds: it adds nothing here."""
    out: dict[tuple[str | None, str], str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if "kinds" not in row:
            continue
        for text, kind in zip(row["responses"], row["kinds"], strict=True):
            out[(row["prompt"], text)] = kind
    return out
