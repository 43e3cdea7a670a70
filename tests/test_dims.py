"""Quality dimensions: a reward model with one output per dimension beside the overall one, the
data that names them, the forward strategies reading every output, and training per output."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from model_store import Dimension, Manifest, Threshold
from modeling import PackedRewardModel
from modeling.reasons import blocks, reasons_for
from modeling.scoring import score_all
from tests.conftest import tiny_config
from tests.test_forward import FAMILIES, SEQS, build
from training.data import DataError, Pair, dimensions_of, load_pairs, parse_pair, parse_rankings
from training.default_data import dimension_rows, generate
from training.dimensions import MEANINGS, dimension_of
from training.gate_check import Exchange, Failing, Single, reason_figures
from training.train import output_of, train


# -- data ------------------------------------------------------------------------------------
def test_a_pair_names_its_dimension_and_overall_is_the_default() -> None:
    assert parse_pair("f", 1, {"chosen": "a", "rejected": "b"}).dimension is None
    assert parse_pair("f", 1, {"chosen": "a", "rejected": "b", "dimension": "overall"}).dimension is None
    assert parse_pair("f", 1, {"chosen": "a", "rejected": "b", "dimension": "privacy"}).dimension == "privacy"
    with pytest.raises(DataError, match="dimension"):
        parse_pair("f", 1, {"chosen": "a", "rejected": "b", "dimension": "not a name"})


def test_rankings_per_dimension_aggregate_per_dimension() -> None:
    row = {
        "prompt": "p",
        "responses": ["x", "y", "z"],
        "rankings": {"overall": [[1, 2, 3]], "privacy": [[3, 1, 2], [3, 2, 1]], "tone": [[1, 3, 2]]},
    }
    pairs = parse_rankings("f", 1, row)
    by = {(p.dimension, p.chosen, p.rejected): p.weight for p in pairs}
    assert by[(None, "x", "z")] == 1.0
    assert by[("privacy", "y", "x")] == 1.0 and by[("privacy", "z", "x")] == 1.0
    assert ("privacy", "y", "z") not in by and ("privacy", "z", "y") not in by  # an exact split
    assert by[("tone", "z", "y")] == 1.0
    assert dimensions_of(pairs) == ["privacy", "tone"]
    with pytest.raises(DataError, match=r"rankings.tone\[0\]"):
        parse_rankings("f", 1, {**row, "rankings": {"tone": [[1, 1, 2]]}})
    one = parse_rankings("f", 1, {"prompt": "p", "responses": ["x", "y"], "rankings": [[2, 1]], "dimension": "tone"})
    assert [(p.dimension, p.chosen) for p in one] == [("tone", "y")]


def test_the_generator_labels_each_failure_with_its_dimension() -> None:
    for row in generate(40, seed=3):
        extra = dimension_rows(row)
        failed = {dimension_of(k) for k in row["kinds"]} - {None}
        assert {r["dimension"] for r in extra} == failed
        for r in extra:
            pairs = parse_rankings("f", 1, r)
            assert pairs and all(p.dimension == r["dimension"] for p in pairs)
            kind = dict(zip(row["responses"], row["kinds"], strict=True))
            # only the replies failing the dimension lose, and only to replies that pass it
            assert all(dimension_of(kind[p.rejected]) == r["dimension"] for p in pairs)
            assert all(dimension_of(kind[p.chosen]) != r["dimension"] for p in pairs)
    assert set(MEANINGS) == {"privacy", "tone", "helpfulness", "safety", "security"}


def test_each_pair_trains_the_output_of_its_dimension() -> None:
    pairs = [Pair(None, "a", "b"), Pair(None, "a", "b", dimension="tone"), Pair(None, "a", "b", dimension="privacy")]
    assert output_of(pairs, ["privacy", "tone"]).tolist() == [0, 2, 1]


# -- forward ---------------------------------------------------------------------------------
@pytest.mark.parametrize("family", FAMILIES)
def test_every_strategy_reads_every_output(family: str) -> None:
    hf = build(family, num_labels=4)
    model = PackedRewardModel(hf).eval()
    assert model.strategy.name == FAMILIES[family][1]  # a multi-output model keeps its strategy
    with torch.no_grad():
        want = torch.stack([hf(torch.tensor([s])).logits[0] for s in SEQS])
        got = model(SEQS, all_outputs=True)
        torch.testing.assert_close(got, want, atol=1e-4, rtol=1e-4)
        torch.testing.assert_close(model(SEQS), want[:, 0], atol=1e-4, rtol=1e-4)
    assert score_all(model, SEQS, all_outputs=True).shape == (len(SEQS), 4)


# -- training --------------------------------------------------------------------------------
def _toy(path: Path, n: int, seed: int) -> Path:
    """Two dimensions that disagree: 'warmth' prefers the reply saying thanks, 'brevity' the
    one without it; the overall preference follows warmth."""
    rng = random.Random(seed)
    words = ["order", "parcel", "refund", "account", "delivery", "invoice", "plan", "card"]
    with open(path, "w") as f:
        for i in range(n):
            topic = " ".join(rng.sample(words, 3))
            warm, short = f"thanks so much, {topic} fixed", f"{topic} fixed"
            prompt = f"question {i} about {topic}"
            for dim, chosen, rejected in (("warmth", warm, short), ("brevity", short, warm), (None, warm, short)):
                row = {"prompt": prompt, "chosen": chosen, "rejected": rejected}
                f.write(json.dumps(row | ({"dimension": dim} if dim else {})) + "\n")
    return path


def test_heads_rank_by_their_own_dimension(tmp_path: Path) -> None:
    data = _toy(tmp_path / "toy.jsonl", 300, seed=0)
    result = train(tiny_config(tmp_path / "store", data=[str(data)], max_steps=60, val_fraction=0.2))
    assert result.path is not None
    path = Path(result.path)
    manifest = Manifest.model_validate_json((path / "manifest.json").read_text())
    dims = {d.name: d for d in manifest.dimensions}
    assert list(dims) == ["brevity", "warmth"]  # in output order
    for d in dims.values():
        assert d.metrics is not None and d.metrics.accuracy >= 0.95, d
        assert d.threshold.method == "max_good_blocked"
    assert manifest.metrics is not None and manifest.metrics.accuracy >= 0.95
    config = json.loads((path / "config.json").read_text())
    assert config["id2label"] == {"0": "overall", "1": "brevity", "2": "warmth"}


def test_data_without_dimensions_trains_one_output(tmp_path: Path) -> None:
    data = tmp_path / "plain.jsonl"
    rows = [json.loads(line) for line in _toy(tmp_path / "toy.jsonl", 60, seed=1).read_text().splitlines()]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows if "dimension" not in r))
    assert dimensions_of(load_pairs([str(data)])) == []
    result = train(tiny_config(tmp_path / "store", data=[str(data)], max_steps=5))
    assert result.path is not None
    manifest: Any = json.loads((Path(result.path) / "manifest.json").read_text())
    assert manifest["dimensions"] == []
    assert len(json.loads((Path(result.path) / "config.json").read_text())["id2label"]) == 1


def test_an_old_manifest_without_dimensions_reads() -> None:
    from model_store.manifest import VersionInfo

    fields = VersionInfo.model_fields
    assert not fields["dimensions"].is_required()


# -- reasons and the gate check --------------------------------------------------------------
def test_reasons_are_the_dimensions_below_their_thresholds_worst_first() -> None:
    why = reasons_for(["privacy", "tone", "safety"], [-0.5, -2.0, 1.0], [0.0, 0.0, 0.0])
    assert [(r.dimension, r.score, r.threshold) for r in why] == [("tone", -2.0, 0.0), ("privacy", -0.5, 0.0)]
    assert blocks(1.0, 0.0, why, {"tone"}) and not blocks(1.0, 0.0, why, {"safety"})
    assert blocks(-1.0, 0.0, [], set())


def test_the_gate_check_says_whether_a_block_names_the_failure() -> None:
    def dim(name: str) -> Dimension:
        return Dimension(name=name, threshold=Threshold(value=0.0, method="fixed"))

    rows: list[Any] = [
        Exchange("p", "fine", [Failing("leak", "card", False, "leaky"), Failing("rude", "", False, "rude")]),
        Exchange("q", "fine too", [Failing("rude", "", False, "rude 2")]),
        Single("r", "allowed", True, "good"),
    ]
    # outputs: overall, privacy, tone
    table = {
        "fine": [1.0, 1.0, 1.0],
        "fine too": [1.0, 1.0, -0.1],  # a good reply blocked on tone
        "leaky": [-1.0, -3.0, -0.5],  # privacy first, tone second
        "rude": [-1.0, -2.0, -0.5],  # tone among the reasons, not first
        "rude 2": [1.0, 1.0, 1.0],  # not blocked at all
        "allowed": [1.0, 1.0, 1.0],
    }

    def outputs(items: list[tuple[str | None, str]]) -> np.ndarray:
        return np.array([table[t] for _, t in items])

    got = reason_figures(outputs, 0.0, [dim("privacy"), dim("tone")], rows)
    assert got["bad blocked"] == pytest.approx(2 / 3)
    assert got["dimension among reasons"] == 1.0
    assert got["dimension first"] == 0.5
    assert got["first (leak)"] == 1.0 and got["first (rude)"] == 0.0
    assert got["good blocked"] == pytest.approx(1 / 3)


def test_the_default_model_describes_its_dimensions(trained_store: dict[str, Any]) -> None:
    v1 = trained_store["results"][0]
    manifest = Manifest.model_validate_json((Path(v1.path) / "manifest.json").read_text())
    assert [d.name for d in manifest.dimensions] == sorted(MEANINGS)
    assert all(d.meaning == MEANINGS[d.name] and d.metrics is not None for d in manifest.dimensions)
    assert manifest.gate_check is not None
    assert {"bad blocked", "dimension among reasons", "dimension first", "good blocked"} <= set(
        manifest.gate_check.reasons
    )
    report = (Path(v1.path) / "report.md").read_text()
    assert "| dimension first |" in report and "| privacy |" in report
