import csv
import gzip
import json
import re
from pathlib import Path

import pytest

from training.data import DataError, Pair, aggregate_rankings, load_pairs, split


def _jsonl(path: Path, rows: list) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


def test_pairs_rankings_labelled_jsonl(tmp_path: Path) -> None:
    f = _jsonl(
        tmp_path / "mix.jsonl",
        [
            {"prompt": "p", "chosen": "good", "rejected": "bad", "margin": 0.5},
            {"chosen": "ok", "rejected": "meh"},
            {"prompt": "q", "responses": ["a", "b"], "rankings": [[1, 2], [1, 2], [2, 1]]},
            {"text": "great film", "label": 1},
            {"text": "awful film", "label": 0},
        ],
    )
    pairs = load_pairs([f])
    assert pairs[0] == Pair("p", "good", "bad", margin=0.5)
    assert pairs[1] == Pair(None, "ok", "meh")
    assert pairs[2].chosen == "a" and pairs[2].weight == pytest.approx(2 / 3)
    assert pairs[3] == Pair(None, "great film", "awful film")


def test_trl_conversational_pairs_explicit_and_implicit_prompt(tmp_path: Path) -> None:
    def user(t: str) -> dict:
        return {"role": "user", "content": t}

    def bot(t: str) -> dict:
        return {"role": "assistant", "content": t}

    rows = [
        {"prompt": [user("where is my order?")], "chosen": [bot("tomorrow")], "rejected": [bot("no idea")]},
        {"chosen": [user("refund?"), bot("on its way")], "rejected": [user("refund?"), bot("ask someone else")]},
        {"chosen": [bot("thanks")], "rejected": [bot("go away")]},  # no prompt at all
    ]
    want = [
        Pair("where is my order?", "tomorrow", "no idea"),
        Pair("refund?", "on its way", "ask someone else"),
        Pair(None, "thanks", "go away"),
    ]
    assert load_pairs([_jsonl(tmp_path / "trl.jsonl", rows)]) == want
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(rows[:2]), tmp_path / "trl.parquet")  # as TRL's hub datasets store it
    assert load_pairs([str(tmp_path / "trl.parquet")]) == want[:2]


def test_rankings_aggregation_hand_worked() -> None:
    # 3 responses, 4 labellers. A vs B: A better for 3 of 4 -> (A, B) weight 0.75.
    # A vs C: 2-2 split -> dropped. B vs C: C better for 4 of 4 -> (C, B) weight 1.0.
    rankings = [[1, 3, 2], [1, 3, 2], [2, 3, 1], [3, 2, 1]]
    pairs = aggregate_rankings("p", ["A", "B", "C"], rankings)
    assert [(p.chosen, p.rejected, p.weight) for p in pairs] == [("A", "B", 0.75), ("C", "B", 1.0)]


def test_csv_and_parquet_and_gzip(tmp_path: Path) -> None:
    c = tmp_path / "p.csv"
    with open(c, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["prompt", "responses", "rankings"])
        w.writerow(["hello", json.dumps(["x", "y", "z"]), json.dumps([[3, 2, 1]])])
    pairs = load_pairs([str(c)])
    assert {(p.chosen, p.rejected) for p in pairs} == {("z", "y"), ("z", "x"), ("y", "x")}

    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"chosen": ["c1", "c2"], "rejected": ["r1", "r2"]}), tmp_path / "p.parquet")
    assert [p.chosen for p in load_pairs([str(tmp_path / "p.parquet")])] == ["c1", "c2"]

    with gzip.open(tmp_path / "t.jsonl.gz", "wt") as fh:
        fh.write(json.dumps({"chosen": "g", "rejected": "h"}) + "\n")
    assert load_pairs([str(tmp_path / "t.jsonl.gz")]) == [Pair(None, "g", "h")]


@pytest.mark.parametrize(
    "row, line_field",
    [
        ({"prompt": "p", "rejected": "x"}, "field 'chosen': missing"),
        ({"chosen": "  ", "rejected": "x"}, "field 'chosen': empty text"),
        ({"chosen": "a", "rejected": 3}, "field 'rejected': must be a string"),
        ({"chosen": "a", "rejected": "b", "margin": "big"}, "field 'margin': must be a number"),
        ({"prompt": "p", "responses": ["a", "b", "c"], "rankings": [[1, 2]]}, "field 'rankings[0]': must rank all 3"),
        ({"prompt": "p", "responses": ["a", "b"], "rankings": [[1, 1]]}, "field 'rankings[0]': ranks must be 1..2"),
        ({"prompt": "p", "responses": ["a", ""], "rankings": [[1, 2]]}, "field 'responses[1]': empty text"),
        ({"text": "t", "label": 7}, "field 'label': must be 0 or 1"),
        ({"foo": "bar"}, "unknown format"),
        ({"chosen": [{"role": "assistant"}], "rejected": "x"}, "field 'chosen[0]': a message must be"),
        (
            {
                "prompt": [{"role": "system", "content": "be kind"}, {"role": "user", "content": "hi"}],
                "chosen": [{"role": "assistant", "content": "a"}],
                "rejected": [{"role": "assistant", "content": "b"}],
            },
            "field 'prompt': only a single user turn",
        ),
        (
            {
                "prompt": [{"role": "user", "content": "hi"}],
                "chosen": [{"role": "user", "content": "a"}],
                "rejected": [{"role": "assistant", "content": "b"}],
            },
            "field 'chosen': the completion must be exactly one assistant message",
        ),
    ],
)
def test_bad_rows_name_file_line_field(tmp_path: Path, row: dict, line_field: str) -> None:
    f = _jsonl(tmp_path / "bad.jsonl", [{"chosen": "fine", "rejected": "ok"}, row])
    with pytest.raises(DataError) as err:
        load_pairs([f])
    assert (
        f"bad.jsonl:2: {line_field}" in str(err.value)
        if "format" not in line_field
        else "bad.jsonl:2" in str(err.value)
    )
    assert line_field.split(": ")[-1] in str(err.value)


def test_invalid_json_and_unknown_file(tmp_path: Path) -> None:
    f = tmp_path / "broken.jsonl"
    f.write_text('{"chosen": "a", "rejected": "b"}\n{not json\n')
    with pytest.raises(DataError, match=r"broken\.jsonl:2: invalid JSON"):
        load_pairs([str(f)])
    (tmp_path / "x.txt").write_text("hi")
    with pytest.raises(DataError, match="unknown file type"):
        load_pairs([str(tmp_path / "x.txt")])


def test_split_by_prompt_is_deterministic() -> None:
    pairs = [Pair(f"prompt {i % 50}", f"c{i}", f"r{i}") for i in range(500)]
    a_train, a_val = split(pairs, 0.2, seed=0)
    b_train, b_val = split(pairs, 0.2, seed=0)
    assert a_val == b_val and a_train == b_train
    assert {p.prompt for p in a_train}.isdisjoint({p.prompt for p in a_val})
    assert 0 < len(a_val) < len(pairs)


def test_shared_imdb_reads_as_labelled(shared_data: Path) -> None:
    import itertools

    from training.data import parse_labelled, read_rows

    rows = list(itertools.islice(read_rows(str(shared_data / "imdb" / "train.jsonl.gz")), 5))
    assert all(parse_labelled(s, n, r)[1] in (0, 1) for s, n, r in rows)


def test_no_hand_written_reply_appears_in_generated_data() -> None:
    from training import default_data, gate_check

    rows = gate_check.load()
    assert len(rows) >= 50 and sum(len(r.bad) for r in rows) >= 150
    hand = {r.good for r in rows} | {b.text for r in rows for b in r.bad} | {r.prompt for r in rows}
    generated = default_data.generate(3000, seed=0) + default_data.generate(300, seed=0, held_out=True)
    texts = {t for row in generated for t in (row["prompt"], *row["responses"])}
    assert not hand & texts
    # nor any whole sentence of a hand-written reply
    sentences = {s.strip() for t in hand for s in re.split(r"(?<=[.!?])\s", t) if len(s.strip()) > 25}
    blob = "\n".join(texts)
    assert not [s for s in sentences if s in blob]
