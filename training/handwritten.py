"""Replies written by hand for training (``handwritten/<industry>.jsonl``), beside the generated
set: templates alone teach strings, real sentences teach the language of a good or a bad reply.
None of them is in the evaluation sets (a test checks). One row per customer message::

    {"industry", "prompt", "replies": [{"kind": "good", "style", "text"}, {"kind": "leak", "detail", "embedded", "text"}, ...]}

Every good reply is preferred over every failing reply of the same message.
"""

from __future__ import annotations

import json
from pathlib import Path

from .data import Pair

DIRECTORY = Path(__file__).resolve().parent / "handwritten"


def files() -> list[Path]:
    return sorted(DIRECTORY.glob("*.jsonl"))


def labels(paths: list[Path] | None = None) -> dict[tuple[str | None, str], int]:
    """Each reply as good (+1) or failing (-1), keyed (prompt, text)."""
    out: dict[tuple[str | None, str], int] = {}
    for path in files() if paths is None else paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                out |= {(row["prompt"], r["text"]): 1 if r["kind"] == "good" else -1 for r in row["replies"]}
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
                    bad = [r["text"] for r in row["replies"] if r["kind"] != "good"]
                except (KeyError, TypeError, json.JSONDecodeError) as exc:
                    raise ValueError(f"{path}:{n}: not a hand-written training row ({exc})") from None
                out += [Pair(row["prompt"], g, b, weight=weight) for g in good for b in bad]
    return out
