"""Read preference data in the three formats of DESIGN.md and turn it into weighted pairs.

- pairs:    {"prompt"?, "chosen", "rejected", "margin"?}; also TRL's conversational form, where
            they are lists of {"role", "content"} messages: an explicit prompt (a user turn; the
            completions one assistant turn each) or an implicit one (chosen and rejected are whole
            conversations whose shared start is the prompt)
- rankings: {"prompt", "responses": [...], "rankings": [[1, 3, 2], ...]}  (1 = best, one list
            per labeller); aggregated into every pair a strict majority agrees on, weighted by
            the share of labellers that agree. ``rankings`` may also be one such list per quality
            dimension: {"privacy": [[...], ...], "tone": [[...]]} ("overall" is the overall one)
- a pairs or rankings row may name the quality dimension it speaks to: "dimension": "privacy";
  without one it is an overall preference (a model trained on dimensions has one output each)
- labelled: {"text", "label"} (1 = preferred); the reference recipe pairs each negative with a
            shuffled positive

Files: JSONL (optionally .gz), CSV (list fields as JSON strings), Parquet, or a Hugging Face
dataset id. A bad row raises ``DataError`` naming the file, line and field.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class DataError(ValueError):
    def __init__(self, source: str, line: int, field: str | None, message: str) -> None:
        where = f"{source}:{line}" + (f": field '{field}'" if field else "")
        super().__init__(f"{where}: {message}")
        self.source, self.line, self.field = source, line, field


@dataclass(frozen=True)
class Pair:
    prompt: str | None
    chosen: str
    rejected: str
    margin: float = 0.0
    weight: float = 1.0
    dimension: str | None = None  # None: the overall preference


OVERALL = "overall"  # the name of the overall preference where one is spelled out


Row = tuple[str, int, dict[str, Any]]  # (source, line, row)


# -- reading files -------------------------------------------------------------------------
def read_rows(source: str) -> Iterator[Row]:
    path = Path(source)
    if not path.exists():
        if "/" in source and not source.startswith((".", "/")) and path.suffix == "":
            yield from _read_hub(source)
            return
        raise DataError(source, 0, None, "no such file")
    name = path.name.lower()
    if name.endswith((".jsonl", ".jsonl.gz", ".json", ".json.gz", ".ndjson")):
        yield from _read_jsonl(path)
    elif name.endswith((".csv", ".csv.gz")):
        yield from _read_csv(path)
    elif name.endswith(".parquet"):
        yield from _read_parquet(path)
    else:
        raise DataError(source, 0, None, "unknown file type: use .jsonl, .csv or .parquet")


def _open_text(path: Path) -> io.TextIOBase:
    if path.name.lower().endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8")
    return open(path, encoding="utf-8")


def _read_jsonl(path: Path) -> Iterator[Row]:
    with _open_text(path) as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as exc:
                raise DataError(str(path), n, None, f"invalid JSON: {exc}") from None
            if not isinstance(row, dict):
                raise DataError(str(path), n, None, "a row must be a JSON object")
            yield str(path), n, row


def _read_csv(path: Path) -> Iterator[Row]:
    with _open_text(path) as f:
        reader = csv.DictReader(f)
        for n, row in enumerate(reader, 2):  # line 1 is the header
            out: dict[str, Any] = {}
            for k, v in row.items():
                if k is None:
                    raise DataError(str(path), n, None, "more values than header columns")
                if k in ("responses", "rankings") and isinstance(v, str):
                    try:
                        out[k] = json.loads(v)
                    except ValueError:
                        raise DataError(str(path), n, k, "must be a JSON list in CSV") from None
                elif v != "" or k in ("chosen", "rejected", "text", "response"):
                    out[k] = v
            yield str(path), n, out


def _read_parquet(path: Path) -> Iterator[Row]:
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    for n, row in enumerate(table.to_pylist(), 1):
        yield str(path), n, row


def _read_hub(dataset_id: str) -> Iterator[Row]:
    try:
        import datasets  # type: ignore[import-not-found]
    except ImportError:
        raise DataError(dataset_id, 0, None, "not a file; loading a hub dataset needs `pip install datasets`") from None
    name, _, split = dataset_id.partition(":")
    ds = datasets.load_dataset(name, split=split or "train")
    for n, row in enumerate(ds, 1):
        yield dataset_id, n, dict(row)


def fingerprint(sources: list[str]) -> dict[str, Any]:
    """sha256 of each input file and of them all, recorded in the manifest."""
    files = {}
    total = hashlib.sha256()
    for s in sources:
        p = Path(s)
        h = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "hub:" + s
        files[s] = h
        total.update(f"{s}={h}\n".encode())
    return {"files": files, "sha256": total.hexdigest()}


# -- row formats ---------------------------------------------------------------------------
def detect(row: dict[str, Any]) -> str | None:
    """The first format of ``FORMATS`` whose fields the row has."""
    return next((name for name, f in FORMATS.items() if any(k in row for k in f.fields)), None)


def _text(src: str, n: int, row: dict[str, Any], key: str, optional: bool = False) -> str | None:
    v = row.get(key)
    if v is None and optional:
        return None
    if v is None:
        raise DataError(src, n, key, "missing")
    if not isinstance(v, str):
        raise DataError(src, n, key, f"must be a string, got {type(v).__name__}")
    if not v.strip():
        if optional:
            return None
        raise DataError(src, n, key, "empty text")
    return v


def _messages(src: str, n: int, key: str, value: Any) -> list[tuple[str, str]]:
    if not isinstance(value, list) or not value:
        raise DataError(src, n, key, "must be a non-empty list of messages")
    out = []
    for i, m in enumerate(value):
        if not isinstance(m, dict) or not isinstance(m.get("role"), str) or not isinstance(m.get("content"), str):
            raise DataError(src, n, f"{key}[{i}]", 'a message must be {"role": ..., "content": "..."}')
        out.append((m["role"], m["content"]))
    return out


def _conversational(src: str, n: int, row: dict[str, Any]) -> tuple[str | None, str, str]:
    """(prompt, chosen, rejected) of a TRL conversational row. An item is one user turn and one
    assistant turn (what /gate judges), so longer conversations are refused, not flattened."""
    chosen = _messages(src, n, "chosen", row.get("chosen"))
    rejected = _messages(src, n, "rejected", row.get("rejected"))
    if row.get("prompt") is None:  # implicit prompt: the turns both conversations share
        k = 0
        while k < min(len(chosen), len(rejected)) - 1 and chosen[k] == rejected[k]:
            k += 1
        prompt, chosen, rejected = chosen[:k], chosen[k:], rejected[k:]
    elif isinstance(row["prompt"], str):
        prompt = [("user", row["prompt"])]
    else:
        prompt = _messages(src, n, "prompt", row["prompt"])
    if len(prompt) > 1 or (prompt and prompt[0][0] != "user"):
        raise DataError(
            src, n, "prompt", "only a single user turn is supported as the prompt (one item = one exchange)"
        )
    texts = []
    for key, turns in (("chosen", chosen), ("rejected", rejected)):
        if len(turns) != 1 or turns[0][0] != "assistant":
            raise DataError(src, n, key, "the completion must be exactly one assistant message")
        if not turns[0][1].strip():
            raise DataError(src, n, key, "empty text")
        texts.append(turns[0][1])
    return (prompt[0][1] if prompt and prompt[0][1].strip() else None), texts[0], texts[1]


def parse_pair(src: str, n: int, row: dict[str, Any]) -> Pair:
    chosen: str | None
    rejected: str | None
    if isinstance(row.get("chosen"), list) or isinstance(row.get("rejected"), list):
        prompt, chosen, rejected = _conversational(src, n, row)
    else:
        prompt = _text(src, n, row, "prompt", optional=True)
        chosen = _text(src, n, row, "chosen")
        rejected = _text(src, n, row, "rejected")
    margin = row.get("margin", 0.0)
    try:
        margin = float(margin) if margin not in (None, "") else 0.0
    except (TypeError, ValueError):
        raise DataError(src, n, "margin", "must be a number") from None
    assert chosen is not None and rejected is not None
    return Pair(prompt, chosen, rejected, margin=margin, dimension=_dimension(src, n, row.get("dimension")))


def _dimension(src: str, n: int, value: Any, field: str = "dimension") -> str | None:
    if value is None or value == "" or value == OVERALL:
        return None
    if not isinstance(value, str) or not value.isidentifier():
        raise DataError(src, n, field, "a dimension is a name of letters, digits and _ (e.g. privacy)")
    return value


def parse_rankings(src: str, n: int, row: dict[str, Any]) -> list[Pair]:
    prompt = _text(src, n, row, "prompt")
    responses = row.get("responses")
    if not isinstance(responses, list) or len(responses) < 2:
        raise DataError(src, n, "responses", "must be a list of at least 2 responses")
    for i, r in enumerate(responses):
        if not isinstance(r, str) or not r.strip():
            raise DataError(src, n, f"responses[{i}]", "empty text")
    rankings = row.get("rankings")
    if isinstance(rankings, dict) and rankings:
        if row.get("dimension") is not None:
            raise DataError(src, n, "dimension", "rankings per dimension name their dimensions themselves")
        return [
            p
            for dim, part in rankings.items()
            for p in _ranked(src, n, f"rankings.{dim}", prompt, responses, part, _dimension(src, n, dim, "rankings"))
        ]
    return _ranked(src, n, "rankings", prompt, responses, rankings, _dimension(src, n, row.get("dimension")))


def _ranked(
    src: str, n: int, field: str, prompt: str | None, responses: list[str], rankings: Any, dimension: str | None
) -> list[Pair]:
    if not isinstance(rankings, list) or not rankings:
        raise DataError(src, n, field, "must be a non-empty list of rankings (one per labeller)")
    k = len(responses)
    for j, ranking in enumerate(rankings):
        if not isinstance(ranking, list) or len(ranking) != k:
            raise DataError(src, n, f"{field}[{j}]", f"must rank all {k} responses")
        if any(not isinstance(r, int) or isinstance(r, bool) for r in ranking):
            raise DataError(src, n, f"{field}[{j}]", "ranks must be integers")
        if sorted(ranking) != list(range(1, k + 1)):
            raise DataError(src, n, f"{field}[{j}]", f"ranks must be 1..{k}, each once (duplicate or out of range)")
    return aggregate_rankings(prompt, responses, rankings, dimension)


def aggregate_rankings(
    prompt: str | None, responses: list[str], rankings: list[list[int]], dimension: str | None = None
) -> list[Pair]:
    """Every pair that a strict majority of labellers orders the same way; exact splits are
    dropped. The weight is the share of labellers in the majority."""
    pairs = []
    total = len(rankings)
    for i in range(len(responses)):
        for j in range(i + 1, len(responses)):
            i_better = sum(1 for r in rankings if r[i] < r[j])
            j_better = total - i_better
            if i_better == j_better:
                continue
            win, lose, votes = (i, j, i_better) if i_better > j_better else (j, i, j_better)
            pairs.append(Pair(prompt, responses[win], responses[lose], weight=votes / total, dimension=dimension))
    return pairs


def parse_labelled(src: str, n: int, row: dict[str, Any]) -> tuple[str, int]:
    text = _text(src, n, row, "text")
    label = row.get("label")
    try:
        label_i = int(label)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise DataError(src, n, "label", "missing or not 0/1") from None
    if label_i not in (0, 1) or (isinstance(label, float) and label != label_i):
        raise DataError(src, n, "label", "must be 0 or 1")
    assert text is not None
    return text, label_i


def pair_labelled(texts: list[tuple[str, int]], seed: int) -> list[Pair]:
    """The reference recipe: each negative against a positive drawn by a seeded shuffle."""
    pos = [t for t, lab in texts if lab == 1]
    neg = [t for t, lab in texts if lab == 0]
    random.Random(seed).shuffle(pos)
    return [Pair(None, p, q) for p, q in zip(pos, neg, strict=False)]


@dataclass(frozen=True)
class Format:
    fields: tuple[str, ...]  # a row with any of these is of this format (auto-detection)
    to_pairs: Callable[[list[Row], int], list[Pair]]  # all rows of this format -> pairs (seeded)


# The data formats, in auto-detection order: adding one is one entry here (config.py checks
# ``--format`` against this table).
FORMATS: dict[str, Format] = {
    "pairs": Format(("chosen", "rejected"), lambda rows, seed: [parse_pair(*r) for r in rows]),
    "rankings": Format(("responses", "rankings"), lambda rows, seed: [p for r in rows for p in parse_rankings(*r)]),
    "labelled": Format(("text", "label"), lambda rows, seed: pair_labelled([parse_labelled(*r) for r in rows], seed)),
}


def load_pairs(sources: list[str], fmt: str = "auto", seed: int = 0) -> list[Pair]:
    """All pairs from all sources, format by format (in the order formats first appear), each
    in file order."""
    rows: dict[str, list[Row]] = {}
    for source in sources:
        count = 0
        for src, n, row in read_rows(source):
            kind = detect(row) if fmt == "auto" else fmt
            if kind not in FORMATS:
                raise DataError(src, n, None, f"unknown format: fields {sorted(row)[:6]} match no format")
            rows.setdefault(kind, []).append((src, n, row))
            count += 1
        if count == 0:
            raise DataError(source, 0, None, "no rows")
    return [p for kind, part in rows.items() for p in FORMATS[kind].to_pairs(part, seed)]


def dimensions_of(pairs: list[Pair]) -> list[str]:
    """The quality dimensions the pairs speak to, sorted: output 1 + i of the model is the i-th."""
    return sorted({p.dimension for p in pairs if p.dimension is not None})


def split(pairs: list[Pair], val_fraction: float, seed: int) -> tuple[list[Pair], list[Pair]]:
    """Deterministic split by prompt (pairs without one are keyed by their texts), so one
    prompt's pairs never straddle train and validation."""
    train: list[Pair] = []
    val: list[Pair] = []
    for p in pairs:
        key = p.prompt if p.prompt is not None else p.chosen + "\x00" + p.rejected
        h = int.from_bytes(hashlib.sha256(f"{seed}:{key}".encode()).digest()[:8], "big") / 2**64
        (val if h < val_fraction else train).append(p)
    return train, val
