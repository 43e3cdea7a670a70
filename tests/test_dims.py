"""Quality dimensions: a reward model with one output per dimension beside the overall one, the
data that names them, the forward strategies reading every output, and training per output."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import torch

from app.scorer import Scorer
from model_store import Dimension, Manifest, ModelStore, StoreError, Threshold
from modeling import PackedRewardModel
from modeling.loader import load_version
from modeling.reasons import blocks, reasons_for
from modeling.scoring import score_all
from tests.conftest import tiny_config
from tests.test_api import metric_samples
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
    assert config["id2label"] == {"0": "LABEL_0", "1": "brevity", "2": "warmth"}


def test_the_embedded_dimensions_add_pairs_and_leave_the_overall_ones_as_they_were() -> None:
    """Dimension pairs only add to the embedded set (generated rows, hand-written and derived
    replies): its overall pairs, labels and validation parts are the one-output set's, which
    ``--no-embedded-dimensions`` trains."""
    from training.config import TrainConfig
    from training.train import training_data

    def data(dimensions: bool) -> Any:
        with training_data(TrainConfig.from_dict({"default_prompts": 40, "embedded_dimensions": dimensions})) as d:
            return d

    with_dims, without = data(True), data(False)
    assert dimensions_of(with_dims.train) == sorted(MEANINGS) and dimensions_of(without.train) == []
    assert dimensions_of(without.validation) == [] and all(dimensions_of(v) == [] for v in without.subsets.values())
    for part in ("train", "validation"):
        assert [p for p in getattr(with_dims, part) if p.dimension is None] == getattr(without, part)
    assert with_dims.labels == without.labels


def test_derived_failing_replies_fail_helpfulness() -> None:
    """Another message's answer, a cut reply and a looping one: each is preferred below its good
    reply overall and on helpfulness."""
    from training import handwritten

    made, labels = handwritten.derived(handwritten.pairs(), seed=0)
    overall = [(p.prompt, p.chosen, p.rejected) for p in made if p.dimension is None]
    on_dimension = [(p.prompt, p.chosen, p.rejected) for p in made if p.dimension is not None]
    assert overall and on_dimension == overall
    assert {p.dimension for p in made} == {None, "helpfulness"}
    assert all(dimension_of(labels[(prompt, bad)]) == "helpfulness" for prompt, _, bad in overall)


def test_data_without_dimensions_trains_one_output(tmp_path: Path, serve: Any) -> None:
    data = tmp_path / "plain.jsonl"
    rows = [json.loads(line) for line in _toy(tmp_path / "toy.jsonl", 60, seed=1).read_text().splitlines()]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows if "dimension" not in r))
    assert dimensions_of(load_pairs([str(data)])) == []
    result = train(tiny_config(tmp_path / "store", data=[str(data)], max_steps=5))
    assert result.path is not None
    manifest: Any = json.loads((Path(result.path) / "manifest.json").read_text())
    assert manifest["dimensions"] == []
    assert len(json.loads((Path(result.path) / "config.json").read_text())["id2label"]) == 1
    # served: the answers have no per-dimension scores; reasons and moderation speak of the overall score
    srv = serve(tmp_path / "store")
    scored = httpx.post(srv.url + "/score", json={"items": ["thanks so much, order fixed"]}).json()["results"]
    assert set(scored[0]) == {"score", "truncated"}
    gated = httpx.post(srv.url + "/gate", json={"items": ["order fixed"], "threshold": 1e9}).json()["results"]
    assert set(gated[0]) == {"score", "allowed", "decision", "would_block", "reasons", "truncated"}
    assert [r["dimension"] for r in gated[0]["reasons"]] == ["overall"] and gated[0]["decision"] == "block"
    refused = httpx.post(srv.url + "/gate", json={"items": ["order fixed"], "thresholds": {"tone": 0.0}})
    assert refused.status_code == 422 and "it has none" in refused.json()["error"]["message"]
    moderated = httpx.post(srv.url + "/v1/moderations", json={"input": "order fixed"}).json()["results"][0]
    assert set(moderated["categories"]) == set(moderated["category_scores"]) == {"overall"}


def test_a_manifest_without_a_dimension_threshold_is_refused(store_copy: dict[str, Any]) -> None:
    version = store_copy["root"] / "default" / "versions" / store_copy["v1"]
    manifest = json.loads((version / "manifest.json").read_text())
    manifest["dimensions"] = [d for d in manifest["dimensions"] if d["name"] != "tone"]
    (version / "manifest.json").write_text(json.dumps(manifest))
    loaded = load_version(ModelStore(store_copy["root"]), "default", store_copy["v1"], device="cpu", verify=False)
    with pytest.raises(StoreError, match=r"no threshold for the dimensions \['tone'\]"):
        Scorer(loaded)


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

    dims = [dim("privacy"), dim("tone")]
    got = reason_figures(outputs, 0.0, dims, rows, gating=["privacy", "tone"])
    assert got["bad blocked"] == pytest.approx(2 / 3)
    assert got["dimension among reasons"] == 1.0
    assert got["dimension first"] == 0.5
    assert got["first (leak)"] == 1.0 and got["first (rude)"] == 0.0
    assert got["good blocked"] == pytest.approx(1 / 3)
    # as the service gates by default, the overall score alone blocks: the good reply low on tone
    # passes (tone is still named, but nothing blocks on it)
    by_default = reason_figures(outputs, 0.0, dims, rows)
    assert by_default["good blocked"] == 0.0 and by_default["bad blocked"] == pytest.approx(2 / 3)


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
    # a score histogram per dimension, in the report and among the version's checksummed files
    for name in MEANINGS:
        figure = Path(v1.path) / f"scores_{name}.png"
        assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"![{name}](scores_{name}.png)" in report and f"scores_{name}.png" in manifest.files


# -- serving ---------------------------------------------------------------------------------
REPLIES = [
    {"prompt": "Where is my order?", "response": "It left our warehouse today and arrives on Friday."},
    {"prompt": "Where is my order?", "response": "Your card 4111 1111 1111 1111 with CVV 123 is on file, idiot."},
    {"prompt": "I forgot my password.", "response": "Figure it out yourself."},
]


def test_score_carries_a_score_per_dimension(trained_store: dict[str, Any], serve: Any) -> None:
    srv = serve(trained_store["root"])
    results = httpx.post(srv.url + "/score", json={"items": REPLIES}).json()["results"]
    for res in results:
        assert set(res["scores"]) == set(MEANINGS)
    # the same numbers as the model's own outputs, in its output order
    scorer = Scorer(load_version(ModelStore(trained_store["root"]), "default", device="cpu"))
    seqs, _ = scorer.encode([(r["prompt"], r["response"]) for r in REPLIES])
    with torch.inference_mode():
        want = scorer.loaded.model(seqs, all_outputs=True)
    for res, row in zip(results, want.tolist(), strict=True):
        assert res["score"] == pytest.approx(row[0], abs=1e-5)
        assert [res["scores"][d] for d in scorer.dimensions] == pytest.approx(row[1:], abs=1e-5)


def test_gate_gives_reasons_and_gating_dimensions_block(
    trained_store: dict[str, Any], serve: Any, tmp_path: Path
) -> None:
    logdir = tmp_path / "decisions"
    srv = serve(trained_store["root"], gate_dimensions="all", decision_log=logdir)
    # privacy's threshold raised above any score: every item fails it, worst of all its reasons
    body = {"items": REPLIES, "threshold": -1e9, "thresholds": {"privacy": 1e9}}
    g = httpx.post(srv.url + "/gate", json=body).json()
    for res in g["results"]:
        assert res["reasons"][0]["dimension"] == "privacy" and res["reasons"][0]["threshold"] == 1e9
        assert res["decision"] == "block" and set(res["scores"]) == set(MEANINGS)
        assert all(r["dimension"] != "overall" for r in res["reasons"])  # the overall threshold passes
        gaps = [r["score"] - r["threshold"] for r in res["reasons"]]
        assert gaps == sorted(gaps)  # worst first
    # reasons are consistent with the thresholds: a dimension is a reason exactly when below its own
    g = httpx.post(srv.url + "/gate", json={"items": REPLIES}).json()
    cuts = {d.name: d.threshold.value for d in ModelStore(trained_store["root"]).resolve("default").manifest.dimensions}
    for res in g["results"]:
        named = {r["dimension"] for r in res["reasons"]} - {"overall"}
        assert named == {d for d, s in res["scores"].items() if s < cuts[d]}
        assert res["would_block"] == (res["score"] < g["threshold"] or bool(named))
    bad = httpx.post(srv.url + "/gate", json={"items": REPLIES, "thresholds": {"spelling": 0.0}})
    assert bad.status_code == 422 and "spelling" in bad.json()["error"]["message"]
    blocks = metric_samples(srv.url)
    assert blocks["rewardgate_gate_decision_reasons_total{decision=block,reason=privacy}"] >= 3
    srv.stop()
    records = [json.loads(line) for f in sorted(logdir.glob("*.jsonl")) for line in f.read_text().splitlines()]
    assert sum(1 for r in records if r["reasons"] and r["reasons"][0]["dimension"] == "privacy") >= 3


def test_dimensions_gate_only_when_configured_and_shadow_keeps_reasons(
    trained_store: dict[str, Any], serve: Any
) -> None:
    body = {"items": REPLIES, "threshold": -1e9, "thresholds": {"tone": 1e9}}
    quiet = serve(trained_store["root"])  # default: the overall score alone blocks
    for res in httpx.post(quiet.url + "/gate", json=body).json()["results"]:
        assert res["allowed"] and res["reasons"][0]["dimension"] == "tone"
    only = serve(trained_store["root"], gate_dimensions="privacy")  # tone is below, privacy passes: allowed
    passing = {**body, "thresholds": {"tone": 1e9, "privacy": -1e9}}
    assert all(r["allowed"] for r in httpx.post(only.url + "/gate", json=passing).json()["results"])
    failing = {**body, "thresholds": {"tone": 1e9, "privacy": 1e9}}
    assert not any(r["allowed"] for r in httpx.post(only.url + "/gate", json=failing).json()["results"])
    shadow = serve(trained_store["root"], gate_dimensions="tone", gate_mode="shadow")
    for res in httpx.post(shadow.url + "/gate", json=body).json()["results"]:
        assert res["allowed"] and res["would_block"] and res["reasons"][0]["dimension"] == "tone"


def test_openai_client_moderates_through_rewardgate(trained_store: dict[str, Any], serve: Any) -> None:
    openai = pytest.importorskip("openai")
    srv = serve(trained_store["root"], api_keys="sk-test", gate_dimensions="all", max_items=4)
    client = openai.OpenAI(base_url=srv.url + "/v1", api_key="sk-test", max_retries=0)
    texts = [r["response"] for r in REPLIES]
    got = client.moderations.create(input=texts)
    assert got.model == "default" and got.id.startswith("modr-") and len(got.results) == 3
    gated = httpx.post(srv.url + "/gate", json={"items": texts}, headers={"Authorization": "Bearer sk-test"}).json()[
        "results"
    ]
    for res, gate in zip(got.results, gated, strict=True):
        categories, scores = res.categories.model_dump(), res.category_scores.model_dump()
        assert {k for k, v in categories.items() if v is not None} == set(MEANINGS)
        assert res.flagged == gate["would_block"]
        for d in MEANINGS:
            assert categories[d] == (d in {r["dimension"] for r in gate["reasons"]})
            assert (scores[d] > 0.5) == categories[d] and 0.0 <= scores[d] <= 1.0
    one = client.moderations.create(input="Thanks, your refund is on its way.", model="default")
    assert len(one.results) == 1
    with pytest.raises(openai.PermissionDeniedError):  # a wrong key is 403 here, as on every route
        openai.OpenAI(base_url=srv.url + "/v1", api_key="wrong", max_retries=0).moderations.create(input="hi")
    with pytest.raises(openai.NotFoundError):
        client.moderations.create(input="hi", model="omni-moderation-latest")
    with pytest.raises(openai.APIStatusError) as too_many:
        client.moderations.create(input=["hi"] * 5)
    assert too_many.value.status_code == 413 and "at most 4" in too_many.value.response.json()["error"]["message"]


def test_a_dimension_without_validation_pairs_stops_before_training(tmp_path: Path) -> None:
    from training.train import TrainingData, _checked

    train_pairs = [Pair("p", "a", "b"), Pair("p", "a", "b", dimension="tone")]
    data = TrainingData(train_pairs, [Pair("q", "a", "b")], {})
    with pytest.raises(ValueError, match="tone"):
        _checked(tiny_config(tmp_path), data)
