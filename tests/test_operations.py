"""Operating the gate: labeller agreement, reports, shadow mode, the decision log, challenger
scoring, feedback for labellers and promotion only when better. Real uvicorn, real files."""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from model_store import EvalMetrics, InputSpec, ModelStore, PinnedEval, PromotionRefused, Threshold, VersionInfo
from training.agreement import agreement, kendalls_w

from .conftest import tiny_config
from .test_api import metric_samples

ROOT = Path(__file__).resolve().parents[1]


def test_agreement_hand_worked() -> None:
    rows: list[tuple[str, list[list[int]], list[str] | None]] = [
        ("A", [[1, 2, 3], [1, 3, 2], [2, 1, 3]], None),  # rank sums 4, 6, 8: S = 8, W = 96/216
        ("B", [[1, 2], [1, 2], [2, 1]], None),  # sums 4, 5: S = 0.5, W = 6/54
        ("C", [[1, 2], [1, 2]], None),  # two labellers, same order: W = 1
        ("D", [[1, 2], [2, 1]], None),  # an exact split: W = 0, the pair is dropped
    ]
    assert kendalls_w(rows[0][1]) == pytest.approx(4 / 9)
    a = agreement(rows)
    assert a.mean_w == pytest.approx((4 / 9 + 1 / 9 + 1 + 0) / 4)
    assert a.pairs == 6 and a.dropped_share == pytest.approx(1 / 6)
    # labeller 1 orders all 5 majority pairs as the majority; labeller 2 misses A's (1, 2);
    # labeller 3 misses A's (0, 1) and B's only pair
    assert a.labellers == {"labeller 1": 1.0, "labeller 2": pytest.approx(0.8), "labeller 3": pytest.approx(0.5)}
    assert [p["prompt"] for p in a.least_agreed][:2] == ["D", "B"]


def test_agreement_command(tmp_path: Path) -> None:
    f = tmp_path / "r.jsonl"
    f.write_text(
        json.dumps({"prompt": "q", "responses": ["a", "b"], "rankings": [[1, 2], [1, 2]], "labellers": ["ann", "bo"]})
        + "\n"
    )
    out = subprocess.run(
        [sys.executable, "-m", "training", "agreement", str(f), "--json"], cwd=ROOT, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["mean_w"] == 1.0 and data["labellers"] == {"ann": 1.0, "bo": 1.0}
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"prompt": "q", "responses": ["a", "b"], "rankings": [[1, 1]]}) + "\n")
    out = subprocess.run(
        [sys.executable, "-m", "training", "agreement", str(bad)], cwd=ROOT, capture_output=True, text=True
    )
    assert out.returncode == 2 and "bad.jsonl:1" in out.stderr


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_version_holds_report_agreement_and_figures(trained_store: dict, tmp_path: Path) -> None:
    v = ModelStore(trained_store["root"]).resolve("default")
    text = (v.path / "report.md").read_text()
    for part in ("held-out metric", "Labeller agreement", "Kendall's W", "gate check", "![ROC](roc.png)"):
        assert part in text, part
    for png in ("scores.png", "roc.png", "block_rate.png"):
        w, h = _png_size(v.path / png)
        assert w >= 500 and h >= 400
    assert v.manifest.agreement is not None and v.manifest.agreement.prompts > 0
    # make eval writes the same for any data file against any version
    data = tmp_path / "pairs.jsonl"
    data.write_text(
        "\n".join(
            json.dumps(
                {
                    "prompt": "Where is my order?",
                    "chosen": f"It arrives on day {i}, here is the link.",
                    "rejected": "Not my problem.",
                }
            )
            for i in range(20)
        )
    )
    out = tmp_path / "eval"
    cmd = [
        sys.executable,
        "-m",
        "training",
        "evaluate",
        "--store",
        str(trained_store["root"]),
        "--version",
        trained_store["v1"],
        "--data",
        str(data),
        "--out",
        str(out),
    ]
    res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["metrics"]["pairs"] == 20
    assert trained_store["v1"] in (out / "report.md").read_text()
    assert all(_png_size(out / png)[0] >= 500 for png in ("scores.png", "roc.png", "block_rate.png"))


ITEMS = [
    {"prompt": f"Customer {i}: where is my order #{10000 + i}?", "response": r}
    for i, r in enumerate(
        [
            "Hi, I checked your order: it is out for delivery and arrives tomorrow. Anything else I can do?",
            "Not my problem. Figure it out yourself.",
            "Your card number is 4111 1111 1111 1111 and the CVV is 123.",
            "ok",
        ]
    )
]


def test_shadow_mode_allows_everything_and_says_what_it_would_block(trained_store: dict, serve: Any) -> None:
    enforce = serve(trained_store["root"])
    shadow = serve(trained_store["root"], gate_mode="shadow")
    scores = [r["score"] for r in httpx.post(enforce.url + "/score", json={"items": ITEMS}).json()["results"]]
    threshold = sorted(scores)[2] - 1e-6  # blocks the two lowest
    e = httpx.post(enforce.url + "/gate", json={"items": ITEMS, "threshold": threshold}).json()
    s = httpx.post(shadow.url + "/gate", json={"items": ITEMS, "threshold": threshold}).json()
    assert e["mode"] == "enforce" and s["mode"] == "shadow"
    expected = [x < threshold for x in scores]
    assert sum(expected) == 2
    assert [r["would_block"] for r in e["results"]] == expected == [r["would_block"] for r in s["results"]]
    assert [r["allowed"] for r in e["results"]] == [not b for b in expected]  # enforce: a deny stays a deny
    assert all(r["allowed"] and r["decision"] == "allow" for r in s["results"])
    metrics = httpx.get(shadow.url + "/metrics").text
    assert "rewardgate_gate_would_block_total 2.0" in metrics
    assert 'rewardgate_gate_decisions_total{decision="allow"} 4.0' in metrics


def _read_log(d: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for f in sorted(d.glob("decisions-*.jsonl")) for line in f.read_text().splitlines()]


async def _gate_many(url: str, n: int, items: list[Any]) -> list[httpx.Response]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as c:
        return list(await asyncio.gather(*(c.post("/gate", json={"items": items}) for _ in range(n))))


def test_every_gated_item_is_logged_exactly_once(trained_store: dict, serve: Any, tmp_path: Path) -> None:
    logdir = tmp_path / "decisions"
    srv = serve(trained_store["root"], decision_log=logdir)
    responses = asyncio.run(_gate_many(srv.url, 30, ITEMS))
    r = httpx.post(srv.url + "/gate", json={"items": ITEMS[:1]}, headers={"X-Request-ID": "caller-chosen-id-1"})
    assert r.headers["x-request-id"] == r.json()["request_id"] == "caller-chosen-id-1"
    srv.stop()  # the writer flushes on shutdown
    records = _read_log(logdir)
    ids = {resp.json()["request_id"] for resp in responses} | {"caller-chosen-id-1"}
    assert len(ids) == 31
    keys = [(rec["request_id"], rec["item"]) for rec in records]
    assert len(keys) == len(set(keys)) == 30 * 4 + 1 and {k[0] for k in keys} == ids
    rec = next(x for x in records if x["request_id"] == "caller-chosen-id-1")
    assert {
        "time",
        "model",
        "threshold",
        "threshold_source",
        "score",
        "decision",
        "would_block",
        "mode",
        "item_sha256",
    } <= set(rec)
    assert rec["item_sha256"] == hashlib.sha256(f"{ITEMS[0]['prompt']}\x00{ITEMS[0]['response']}".encode()).hexdigest()
    assert "response" not in rec and "prompt" not in rec  # texts only when asked for
    assert rec["model"]["version"] == trained_store["v2"] and rec["threshold_source"] == "manifest"


def test_an_unwritable_log_never_fails_a_request(trained_store: dict, serve: Any, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    srv = serve(trained_store["root"], decision_log=blocker / "decisions")  # mkdir fails: not a directory
    responses = asyncio.run(_gate_many(srv.url, 10, ITEMS))
    assert [r.status_code for r in responses] == [200] * 10
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if 'rewardgate_decision_log_dropped_total{reason="write_failed"} 40.0' in httpx.get(srv.url + "/metrics").text:
            break
        time.sleep(0.05)
    else:
        pytest.fail("dropped records were not counted")


def test_challenger_scores_its_share_and_both_decisions_are_logged(
    store_copy: dict, serve: Any, tmp_path: Path
) -> None:
    logdir = tmp_path / "decisions"
    srv = serve(
        store_copy["root"],
        decision_log=logdir,
        decision_log_text=True,
        challenger=store_copy["v1"],
        challenger_share=0.5,
    )
    deadline = time.monotonic() + 30
    while httpx.get(srv.url + "/v1/models").json()["challenger"]["version"] is None and time.monotonic() < deadline:
        time.sleep(0.05)
    models = httpx.get(srv.url + "/v1/models").json()
    assert models["champion"] == store_copy["v2"] and models["challenger"] == {
        "version": store_copy["v1"],
        "share": 0.5,
    }
    asyncio.run(_gate_many(srv.url, 50, ITEMS))  # 200 items
    r = httpx.post(srv.url + "/admin/challenger", json={"version": store_copy["v1"], "share": 1.0})
    assert r.status_code == 200 and r.json()["share"] == 1.0
    asyncio.run(_gate_many(srv.url, 5, ITEMS))  # 20 items, all challenged
    bad = httpx.post(srv.url + "/admin/challenger", json={"version": "20990101T000000000000Z-nope00"})
    assert bad.status_code == 409 and bad.json()["error"]["type"] == "reload_failed"
    deadline = time.monotonic() + 30  # challenger scoring runs after the answers: wait for its backlog to drain
    while metric_samples(srv.url)["rewardgate_challenger_pending_items"] > 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert metric_samples(srv.url)["rewardgate_challenger_pending_items"] == 0  # the backlog drains
    metrics = httpx.get(srv.url + "/metrics").text
    srv.stop()
    records = _read_log(logdir)
    assert len(records) == 220
    challenged = [x for x in records if "challenger" in x]
    first = len([x for x in challenged if x["threshold"] is not None]) - 20
    assert 60 <= first <= 140, first  # about half of the first 200 (binomial: 100 +- 7)
    for x in challenged:
        assert x["challenger"]["model"]["version"] == store_copy["v1"] and x["challenger"]["decision"] in (
            "allow",
            "block",
        )
        assert x["response"] in {it["response"] for it in ITEMS}
    agreed = sum(
        float(line.split()[-1])
        for line in metrics.splitlines()
        if line.startswith("rewardgate_challenger_decisions_total{")
    )
    assert agreed == len(challenged)


def test_feedback_export_round_trips_into_training(trained_store: dict, serve: Any, tmp_path: Path) -> None:
    logdir = tmp_path / "decisions"
    srv = serve(trained_store["root"], decision_log=logdir, decision_log_text=True)
    items = [
        {"prompt": f"Q{i % 5}: my parcel is late", "response": f"reply {i}: " + r["response"]}
        for i, r in enumerate(ITEMS * 5)
    ]
    for k in range(0, len(items), 4):
        assert httpx.post(srv.url + "/gate", json={"items": items[k : k + 4]}).status_code == 200
    srv.stop()
    out = tmp_path / "feedback.jsonl"
    cmd = [
        sys.executable,
        "-m",
        "training",
        "feedback",
        str(logdir),
        "--out",
        str(out),
        "--closest",
        "12",
        "--control",
        "0.5",
    ]
    res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    responses = [r for row in rows for r in row["responses"]]
    assert len(responses) == len(set(responses)) == 18  # 12 closest + 6 control, deduplicated
    assert all(row["rankings"] == [] and len(row["why"]) == len(row["responses"]) for row in rows)
    # labellers fill in the rankings; training takes old and new labels together
    rng = random.Random(0)
    for row in rows:
        n = len(row["responses"])
        row["rankings"] = [rng.sample(range(1, n + 1), n) for _ in range(3)] if n >= 2 else []
    labelled = tmp_path / "labelled.jsonl"
    labelled.write_text("\n".join(json.dumps(r) for r in rows if r["rankings"]))
    from training.data import load_pairs
    from training.default_data import write

    old = write(tmp_path / "old.jsonl", 60, seed=3)
    assert len(load_pairs([str(old), str(labelled)])) > len(load_pairs([str(old)]))
    from training.train import train

    r = train(tiny_config(tmp_path / "store", data=[str(old), str(labelled)], max_steps=5))
    assert r.version is not None and ModelStore(tmp_path / "store").resolve("default").manifest.data["pairs_train"] > 0


def _info(acc: float | None, sha: str = "") -> VersionInfo:
    return VersionInfo(
        created_at="2026-01-01T00:00:00Z",
        base_model="test",
        architecture="opt",
        dtype="bfloat16",
        input=InputSpec(),
        threshold=Threshold(value=0.0, method="fixed"),
        pinned_eval=None
        if acc is None
        else PinnedEval(
            sha256=sha,
            metrics=EvalMetrics(pairs=10, accuracy=acc, mean_margin=1, roc_auc=acc, score_mean=0, score_std=1),
        ),
    )


def _write(d: Path) -> None:
    (d / "model.safetensors").write_bytes(b"w")


def test_promotion_refuses_a_worse_version_and_accepts_a_better_one(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    pinned = tmp_path / "pinned.jsonl"
    pinned.write_text(json.dumps({"chosen": "good", "rejected": "bad"}) + "\n")
    first = store.publish("m", _write, _info(None)).id  # before any set is pinned: no rule
    sha = store.pin_eval("m", pinned)
    base = store.publish("m", _write, _info(0.90, sha)).id  # current had no figures: nothing to compare
    assert store.current("m") == base
    worse = store.publish("m", _write, _info(0.80, sha), make_current=False).id
    with pytest.raises(PromotionRefused, match=r"0\.8000, 0\.1000 below current"):
        store.promote("m", worse)
    close = store.publish("m", _write, _info(0.895, sha), make_current=False).id
    store.promote("m", close)  # within the 0.01 tolerance
    better = store.publish("m", _write, _info(0.95, sha), make_current=False).id
    store.promote("m", better)
    unscored = store.publish("m", _write, _info(0.99, "another-set"), make_current=False).id
    with pytest.raises(PromotionRefused, match="no figures on the pinned evaluation set"):
        store.promote("m", unscored)
    cmd = [sys.executable, "-m", "model_store", "--store", str(tmp_path), "--name", "m", "promote", worse]
    res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 2 and "below current" in res.stderr and store.current("m") == better
    res = subprocess.run([*cmd, "--force"], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0 and store.current("m") == worse
    log = [json.loads(line) for line in (tmp_path / "m" / "promotions.jsonl").read_text().splitlines()]
    assert log[-1]["version"] == worse and log[-1]["forced"] is True and "below current" in log[-1]["reason"]
    assert first in [x["version"] for x in log]


def test_training_scores_the_pinned_set_and_gates_on_it(trained_store: dict, tmp_path: Path) -> None:
    from training.default_data import write
    from training.train import QualityGateFailed, train

    root = tmp_path / "store"
    shutil.copytree(trained_store["root"], root)
    store = ModelStore(root)
    sha = store.pin_eval("default", write(tmp_path / "pinned.jsonl", 30, seed=77))
    r = train(tiny_config(root, seed=5))
    m = store.resolve("default", r.version or "").manifest
    assert m.pinned_eval is not None and m.pinned_eval.sha256 == sha and m.pinned_eval.metrics.pairs > 0
    assert store.current("default") == r.version  # the old current had no figures on the set
    # a new version must now be at least as good as this one on the pinned set, to within -1.0:
    # an impossible bar, so the gate fails and `current` stays
    with pytest.raises(QualityGateFailed, match="below current"):
        train(tiny_config(root, seed=6, promote_tolerance=-1.0))
    assert store.current("default") == r.version
