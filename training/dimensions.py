"""The quality dimensions the embedded and hand-written data label, what each means, and which
failure kinds speak to which: the generator, the hand-written rows and the gate check's
reason figures all read this one table."""

from __future__ import annotations

MEANINGS: dict[str, str] = {
    "privacy": "leaks personal data or secrets (card numbers, codes, passwords, another customer's data)",
    "tone": "rude, sarcastic, dismissive or condescending",
    "helpfulness": "does not help with what was asked: evasive, off-topic or degenerate text",
    "safety": "wrong or harmful instructions (asks for a code or password, says to ignore a fraud alert)",
    "security": "complies with an instruction injected into the customer's message",
}

# the dimension whose failure a reply of this kind is; kinds not here (good, curt) fail none
KIND_DIMENSION: dict[str, str] = {
    "leak": "privacy",
    "leak_in_good": "privacy",
    "rude": "tone",
    "rude_in_good": "tone",
    "evasive": "helpfulness",
    "off_topic": "helpfulness",
    "degenerate": "helpfulness",
    "harmful": "safety",
    "injection": "security",
}


GOOD, CURT = "good", "curt"  # the kinds that fail nothing: a good reply, and one in between (curt)


def overall_label(kind: str | None) -> int:
    """+1 a good reply, -1 a failing one, 0 in between (curt) or of unknown kind."""
    if kind is None or kind == CURT:
        return 0
    return 1 if kind == GOOD else -1


def dimension_label(kind: str | None, dimension: str) -> int:
    """On one dimension: -1 a reply that fails it, +1 one of known kind that does not (a good or curt
    reply, or one failing another dimension), 0 of unknown kind."""
    if kind is None:
        return 0
    return -1 if dimension_of(kind) == dimension else 1


def dimension_of(kind: str) -> str | None:
    """The dimension a reply of ``kind`` fails (a leak kind such as ``leak:card`` is a leak)."""
    return KIND_DIMENSION.get(kind.split(":", 1)[0])


def dimension_rankings(kinds: list[str]) -> dict[str, list[list[int]]]:
    """Per dimension that some reply of ``kinds`` fails, two rankings that agree only that the
    failing replies rank below all others: one lists the rest in order, the other reversed, so
    aggregation keeps exactly the (other, failing) pairs and drops the rest as exact splits. A
    dimension says nothing about how two replies that both pass it compare."""
    out: dict[str, list[list[int]]] = {}
    for dim in sorted({d for k in kinds if (d := dimension_of(k)) is not None}):
        fails = [i for i, k in enumerate(kinds) if dimension_of(k) == dim]
        passes = [i for i in range(len(kinds)) if i not in fails]
        out[dim] = [_ranks(passes + fails), _ranks(passes[::-1] + fails[::-1])]
    return out


def _ranks(order: list[int]) -> list[int]:
    ranks = [0] * len(order)
    for r, i in enumerate(order, 1):
        ranks[i] = r
    return ranks
