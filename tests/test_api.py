"""The real app on a tiny real model under uvicorn on 127.0.0.1."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import torch
from prometheus_client.parser import text_string_to_metric_families
from transformers import AutoModelForSequenceClassification

from model_store import ModelStore
from modeling import encode
from modeling.loader import load_tokenizer

ITEMS = [
    {
        "prompt": "Mei: I was charged twice this month.",
        "response": "Hi Mei, thanks for reaching out! To sort this out, I have reversed it.",
    },
    "Stop emailing us about this, we already told you what to do.",
    {"prompt": "Noah: How do I cancel my subscription?", "response": "Settings, Subscription, Cancel."},
    {"response": "Thank you for your message. Your request has been noted."},
]

EXPECTED_METRICS = [
    "rewardgate_requests",
    "rewardgate_request_latency_seconds",
    "rewardgate_queue_wait_seconds",
    "rewardgate_inference_seconds",
    "rewardgate_batch_size",
    "rewardgate_batch_tokens",
    "rewardgate_queue_depth",
    "rewardgate_items_scored",
    "rewardgate_gate_decisions",
    "rewardgate_score",
    "rewardgate_model_info",
    "rewardgate_reloads",
    "rewardgate_real_tokens",
    "rewardgate_computed_tokens",
]


def direct_scores(path: Path, items: list[Any]) -> list[float]:
    """A plain Hugging Face forward of the saved files, one item at a time."""
    store = ModelStore(path.parents[2])
    v = store.resolve(path.parents[1].name, path.name)
    spec = v.manifest.input
    tok = load_tokenizer(path)
    pairs = [(None, it) if isinstance(it, str) else (it.get("prompt"), it["response"]) for it in items]
    model = AutoModelForSequenceClassification.from_pretrained(str(path), dtype=torch.float32).eval()
    with torch.no_grad():
        return [model(torch.tensor([s])).logits[0, 0].item() for s in encode(spec, tok, pairs)]


def metric_samples(url: str) -> dict[str, float]:
    text = httpx.get(url + "/metrics").text
    out: dict[str, float] = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            key = s.name + ("{" + ",".join(f"{k}={v}" for k, v in sorted(s.labels.items())) + "}" if s.labels else "")
            out[key] = s.value
    return out


def test_score_matches_direct_forward_in_order(trained_store: dict, serve: Any) -> None:
    srv = serve(trained_store["root"])
    r = httpx.post(srv.url + "/score", json={"items": ITEMS})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model"] == {"name": "default", "version": trained_store["v2"]}
    got = [x["score"] for x in body["results"]]
    path = trained_store["root"] / "default" / "versions" / trained_store["v2"]
    assert got == pytest.approx(direct_scores(path, ITEMS), abs=1e-4)
    # order is kept: the reversed request gives the reversed scores
    rev = httpx.post(srv.url + "/score", json={"items": ITEMS[::-1]}).json()
    assert [x["score"] for x in rev["results"]] == pytest.approx(got[::-1], abs=1e-4)


def test_gate_threshold_precedence(trained_store: dict, serve: Any) -> None:
    manifest = ModelStore(trained_store["root"]).resolve("default").manifest
    srv = serve(trained_store["root"])
    scores = [x["score"] for x in httpx.post(srv.url + "/score", json={"items": ITEMS}).json()["results"]]
    g = httpx.post(srv.url + "/gate", json={"items": ITEMS}).json()
    assert g["threshold_source"] == "manifest" and g["threshold"] == pytest.approx(manifest.threshold.value)
    for s, res in zip(scores, g["results"], strict=True):
        assert res["allowed"] == (s >= g["threshold"]) and res["decision"] == ("allow" if res["allowed"] else "block")
    mid = sorted(scores)[1] + 1e-6
    g = httpx.post(srv.url + "/gate", json={"items": ITEMS, "threshold": mid}).json()
    assert g["threshold_source"] == "request" and sum(r["allowed"] for r in g["results"]) == 2
    env_srv = serve(trained_store["root"], threshold=-1e9)
    g = httpx.post(env_srv.url + "/gate", json={"items": ITEMS}).json()
    assert g["threshold_source"] == "settings" and all(r["allowed"] for r in g["results"])
    g = httpx.post(env_srv.url + "/gate", json={"items": ITEMS, "threshold": 1e9}).json()
    assert g["threshold_source"] == "request" and not any(r["allowed"] for r in g["results"])


def _err(r: httpx.Response, status: int) -> dict:
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"type", "message"}
    return body["error"]


def test_error_statuses(trained_store: dict, serve: Any) -> None:
    srv = serve(trained_store["root"], max_items=3, max_chars=50, max_body_bytes=4096)
    u = srv.url
    _err(httpx.post(u + "/score", json={"items": []}), 422)
    _err(httpx.post(u + "/score", json={"items": [""]}), 422)
    _err(httpx.post(u + "/score", json={"items": ["ok"], "extra": 1}), 422)
    _err(httpx.post(u + "/score", json={"items": [{"response": "x", "bogus": 1}]}), 422)
    _err(httpx.post(u + "/score", json={"items": [{"prompt": "p"}]}), 422)
    _err(httpx.post(u + "/score", content=b"not json", headers={"content-type": "application/json"}), 422)
    _err(httpx.post(u + "/gate", json={"items": ["ok"], "threshold": "high"}), 422)
    assert "longer than 50" in _err(httpx.post(u + "/score", json={"items": ["x" * 51]}), 422)["message"]
    assert _err(httpx.post(u + "/score", json={"items": ["a"] * 4}), 413)["type"] == "too_many_items"
    _err(
        httpx.post(
            u + "/score", content=b'{"items": ["' + b"a" * 5000 + b'"]}', headers={"content-type": "application/json"}
        ),
        413,
    )
    _err(httpx.get(u + "/nope"), 404)
    # the server still answers after all that
    assert httpx.post(u + "/score", json={"items": ["fine"]}).status_code == 200


def _block_torch_thread(srv: Any, seconds: float) -> None:
    """Occupy the one torch thread with real waiting, so queued work cannot start."""
    srv.app.state.rewardgate.torch_thread.submit(time.sleep, seconds)
    time.sleep(0.05)


def _post_in_background(url: str, items: list[str], out: list[httpx.Response]) -> threading.Thread:
    t = threading.Thread(target=lambda: out.append(httpx.post(url + "/score", json={"items": items}, timeout=30)))
    t.start()
    return t


def test_queue_full_429_and_timeout_504(trained_store: dict, serve: Any) -> None:
    srv = serve(trained_store["root"], max_queue=2, request_timeout_s=0.5)
    _block_torch_thread(srv, 1.5)
    waiting: list[httpx.Response] = []
    first = _post_in_background(srv.url, ["a"], waiting)  # taken into a batch, waits for the thread
    time.sleep(0.1)
    second = _post_in_background(srv.url, ["b", "c"], waiting)  # fills the queue of 2
    time.sleep(0.1)
    r = httpx.post(srv.url + "/score", json={"items": ["d"]})
    err = _err(r, 429)
    assert err["type"] == "queue_full" and "2 items waiting" in err["message"] and r.headers["retry-after"] == "1"
    first.join()
    second.join()
    assert sorted(_err(w, 504)["type"] for w in waiting) == ["timeout", "timeout"]
    time.sleep(1.0)
    assert httpx.post(srv.url + "/score", json={"items": ["a"]}).status_code == 200
    # more items than the whole queue can ever hold: no retry cures that, so 413, not 429
    r = httpx.post(srv.url + "/score", json={"items": ["a", "b", "c"]})
    assert _err(r, 413)["type"] == "too_many_items" and "whole queue" in r.text and "retry-after" not in r.headers


def test_not_ready_503(tmp_path: Path, serve: Any) -> None:
    srv = serve(tmp_path / "empty", wait_ready=False)
    time.sleep(0.3)
    assert httpx.get(srv.url + "/healthz").status_code == 200
    assert "no current version" in _err(httpx.get(srv.url + "/readyz"), 503)["message"]
    _err(httpx.post(srv.url + "/score", json={"items": ["a"]}), 503)


def test_auth(trained_store: dict, serve: Any) -> None:
    srv = serve(trained_store["root"], api_keys="k1,k2", admin_keys="adm")
    u = srv.url
    assert _err(httpx.post(u + "/score", json={"items": ["a"]}), 401)["type"] == "unauthorized"
    assert _err(httpx.post(u + "/score", json={"items": ["a"]}, headers={"Authorization": "Bearer nope"}), 403)
    assert httpx.post(u + "/gate", json={"items": ["a"]}, headers={"Authorization": "Bearer k2"}).status_code == 200
    _err(httpx.get(u + "/v1/models"), 401)
    assert httpx.get(u + "/v1/models", headers={"Authorization": "Bearer k1"}).status_code == 200
    _err(httpx.post(u + "/admin/reload", headers={"Authorization": "Bearer k1"}), 403)
    assert httpx.post(u + "/admin/reload", headers={"Authorization": "Bearer adm"}).status_code == 200
    assert httpx.get(u + "/healthz").status_code == 200 and httpx.get(u + "/metrics").status_code == 200
    r = httpx.post(u + "/score", json={"items": ["a"]}, headers={"Authorization": "Bearer secret-key-xyz"})
    assert "secret-key-xyz" not in r.text


def test_concurrent_requests_are_batched(trained_store: dict, serve: Any) -> None:
    srv = serve(trained_store["root"])

    async def run() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=srv.url, timeout=30, limits=httpx.Limits(max_connections=64)) as c:
            return await asyncio.gather(*(c.post("/score", json={"items": [f"reply number {i}"]}) for i in range(64)))

    before = metric_samples(srv.url)
    rs = asyncio.run(run())
    assert all(r.status_code == 200 for r in rs)
    after = metric_samples(srv.url)
    items = after["rewardgate_batch_size_sum"] - before["rewardgate_batch_size_sum"]
    batches = after["rewardgate_batch_size_count"] - before["rewardgate_batch_size_count"]
    assert items == 64
    assert batches < 64, "no request shared a forward pass"
    largest = min(
        float(k.split("le=")[1].rstrip("}"))
        for k, v in after.items()
        if k.startswith("rewardgate_batch_size_bucket") and v == after["rewardgate_batch_size_count"]
    )
    assert largest > 1


def model_info(url: str) -> dict[str, str]:
    """The labels of the one ``rewardgate_model_info`` sample the server exports."""
    text = httpx.get(url + "/metrics").text
    (sample,) = [
        s for f in text_string_to_metric_families(text) if f.name == "rewardgate_model_info" for s in f.samples
    ]
    assert sample.value == 1
    return dict(sample.labels)


def weights_where(srv: Any) -> tuple[str, str]:
    """Where the served model's weights really are: read from its tensors."""
    param = next(srv.app.state.rewardgate.registry.scorer.loaded.model.model.parameters())
    return param.device.type, str(param.dtype).removeprefix("torch.")


def test_metrics_parse_and_hold_every_metric(trained_store: dict, serve: Any) -> None:
    srv = serve(trained_store["root"])
    httpx.post(srv.url + "/gate", json={"items": ITEMS})
    text = httpx.get(srv.url + "/metrics").text
    names = {f.name for f in text_string_to_metric_families(text)}
    missing = [m for m in EXPECTED_METRICS if m not in names]
    assert not missing, missing
    # The documented `auto` rule, written out here rather than asked of the service's own
    # pick_device: CUDA in bf16 when there is a GPU, else CPU in fp32.
    expected = ("cuda", "bfloat16") if torch.cuda.is_available() else ("cpu", "float32")
    info = model_info(srv.url)
    assert info == {"device": expected[0], "dtype": expected[1], "name": "default", "version": trained_store["v2"]}
    assert weights_where(srv) == expected  # and the label says where the weights really are
    assert metric_samples(srv.url)["rewardgate_items_scored_total"] >= 4
    # asked for explicitly, the label follows the setting, and so do the weights
    bf16 = serve(trained_store["root"], device="cpu", dtype="bfloat16")
    assert (model_info(bf16.url)["device"], model_info(bf16.url)["dtype"]) == ("cpu", "bfloat16")
    assert weights_where(bf16) == ("cpu", "bfloat16")


def test_models_route_lists_versions(trained_store: dict, serve: Any) -> None:
    srv = serve(trained_store["root"])
    body = httpx.get(srv.url + "/v1/models").json()
    assert [v["version"] for v in body["versions"]] == [trained_store["v2"], trained_store["v1"]]
    assert body["served"] == body["current"] == trained_store["v2"]


def test_reload_under_load_zero_failures(store_copy: dict, serve: Any) -> None:
    root = store_copy["root"]
    srv = serve(root)
    stop = threading.Event()
    seen: set[str] = set()
    failures: list[Any] = []

    def load() -> None:
        with httpx.Client(base_url=srv.url, timeout=30) as c:
            while not stop.is_set():
                r = c.post("/score", json={"items": ITEMS})
                if r.status_code != 200:
                    failures.append((r.status_code, r.text))
                else:
                    seen.add(r.json()["model"]["version"])

    threads = [threading.Thread(target=load) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.3)
    r = httpx.post(srv.url + "/admin/reload", json={"version": store_copy["v1"]}, timeout=60)
    assert r.status_code == 200 and r.json()["version"] == store_copy["v1"], r.text
    time.sleep(0.3)
    ModelStore(root).promote("default", store_copy["v2"])
    r = httpx.post(srv.url + "/admin/reload", timeout=60)
    assert r.json()["version"] == store_copy["v2"]
    time.sleep(0.3)
    stop.set()
    for t in threads:
        t.join()
    assert failures == []
    assert seen == {store_copy["v1"], store_copy["v2"]}
    assert httpx.post(srv.url + "/score", json={"items": ["x"]}).json()["model"]["version"] == store_copy["v2"]


def test_corrupted_version_is_refused_old_keeps_serving(store_copy: dict, serve: Any) -> None:
    root = store_copy["root"]
    srv = serve(root)
    weights = root / "default" / "versions" / store_copy["v1"] / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    r = httpx.post(srv.url + "/admin/reload", json={"version": store_copy["v1"]})
    err = _err(r, 409)
    assert "sha256" in err["message"] and store_copy["v2"] in err["message"]
    ok = httpx.post(srv.url + "/score", json={"items": ["still here"]})
    assert ok.status_code == 200 and ok.json()["model"]["version"] == store_copy["v2"]
    assert metric_samples(srv.url)["rewardgate_reloads_total{result=failed}"] == 1
    for bad in ["../../etc", "/etc/passwd", "a/../b"]:
        _err(httpx.post(srv.url + "/admin/reload", json={"version": bad}), 422)


def test_store_watcher_picks_up_new_current(store_copy: dict, serve: Any) -> None:
    root = store_copy["root"]
    srv = serve(root, watch_interval_s=0.1)
    ModelStore(root).promote("default", store_copy["v1"])
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if httpx.post(srv.url + "/score", json={"items": ["x"]}).json()["model"]["version"] == store_copy["v1"]:
            break
        time.sleep(0.1)
    else:
        pytest.fail("watcher did not switch to the new current version")


def test_client_retries_and_fail_modes(trained_store: dict, serve: Any) -> None:
    from app.client import AsyncRewardGateClient, RewardGateClient, RewardGateError
    from tests.conftest import free_port

    srv = serve(trained_store["root"])
    with RewardGateClient(srv.url) as c:
        scores = c.score(ITEMS)
        assert len(scores) == 4
        d = c.gate(ITEMS, threshold=sorted(scores)[1] + 1e-6)
        assert d.allowed.count(True) == 2 and not d.degraded
        with pytest.raises(RewardGateError) as e:
            c.score([""])
        assert e.value.status == 422
    dead = f"http://127.0.0.1:{free_port()}"
    with RewardGateClient(dead, retries=1, backoff=0.01, fail_open=False) as c:
        d = c.gate(["x", "y"])
        assert d.degraded and d.allowed == [False, False]
    with RewardGateClient(dead, retries=0, fail_open=True) as c:
        assert c.gate(["x"]).allowed == [True]

    async def run() -> None:
        async with AsyncRewardGateClient(srv.url) as ac:
            assert (await ac.score(ITEMS)) == pytest.approx(scores, abs=1e-5)
        async with AsyncRewardGateClient(dead, retries=0, fail_open=True) as ac:
            assert (await ac.gate(["x"])).degraded

    asyncio.run(run())


def test_client_honours_retry_after_on_429(trained_store: dict, serve: Any) -> None:
    from app.client import RewardGateClient

    srv = serve(trained_store["root"], max_queue=1)
    _block_torch_thread(srv, 3.0)
    waiting: list[httpx.Response] = []
    first = _post_in_background(srv.url, ["a"], waiting)
    time.sleep(0.1)
    second = _post_in_background(srv.url, ["b"], waiting)  # the queue of one is now full
    time.sleep(0.1)
    # the backoff alone would wait 0.01 s; the server's Retry-After says 1 s
    with RewardGateClient(srv.url, retries=1, backoff=0.01, max_delay=5.0, fail_open=False) as c:
        t0 = time.monotonic()
        d = c.gate(["c"])
        took = time.monotonic() - t0
    assert d.degraded and d.allowed == [False] and "429" in (d.error or "")
    assert 1.0 <= took < 2.0, took
    first.join()
    second.join()
    assert [w.status_code for w in waiting] == [200, 200]


def test_failed_batch_fails_each_caller_clearly(trained_store: dict, serve: Any) -> None:
    """A real fault in the forward pass (a weight of the wrong shape, not a mock) fails every
    caller in the batch with one clear error; a reload puts things right."""
    srv = serve(trained_store["root"])
    head = srv.app.state.rewardgate.registry.scorer.loaded.model.model.score
    head.weight = torch.nn.Parameter(torch.zeros(1, 3))  # the forward now raises inside torch

    async def run() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=srv.url, timeout=30) as c:
            return await asyncio.gather(*(c.post("/score", json={"items": [f"item {i}"]}) for i in range(8)))

    for r in asyncio.run(run()):
        err = _err(r, 500)
        assert err["type"] == "inference_failed" and "forward pass failed" in err["message"]
    assert httpx.post(srv.url + "/admin/reload", timeout=60).status_code == 200
    assert httpx.post(srv.url + "/score", json={"items": ["ok"]}).status_code == 200
