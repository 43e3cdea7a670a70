"""vLLM's /classify and TEI's /predict on rewardgate, through real uvicorn: the shapes of those
projects' documented examples, the same scores as /score, the same limits, auth and metrics, and
TEI's timing headers on every scoring route."""

from __future__ import annotations

import math
from typing import Any

import httpx
import pytest

from .test_api import metric_samples

TEXTS = ["Hi Sam, your refund of $20 is on its way.", "Not my problem, figure it out yourself."]
PAIR = ["Where is my order #123?", "It left the warehouse today and arrives tomorrow."]
TIMING = ("x-total-time", "x-tokenization-time", "x-queue-time", "x-inference-time")


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def scores(url: str, items: list[Any]) -> list[float]:
    r = httpx.post(url + "/score", json={"items": items})
    assert r.status_code == 200, r.text
    return [x["score"] for x in r.json()["results"]]


def test_classify_answers_in_vllms_shape(trained_store: dict, serve: Any) -> None:
    srv = serve(trained_store["root"])
    raw = scores(srv.url, TEXTS)
    # vLLM's documented request: {"model": ..., "input": [...]}
    r = httpx.post(srv.url + "/classify", json={"model": "default", "input": TEXTS})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"id", "object", "created", "model", "data", "usage"}
    assert body["id"].startswith("classify-") and body["object"] == "list" and body["model"] == "default"
    assert isinstance(body["created"], int)
    assert [set(d) for d in body["data"]] == [{"index", "label", "probs", "num_classes"}] * 2
    assert [d["index"] for d in body["data"]] == [0, 1]
    assert all(d["num_classes"] == 1 and d["label"] == "LABEL_0" for d in body["data"])
    assert [d["probs"][0] for d in body["data"]] == pytest.approx([sigmoid(s) for s in raw], abs=1e-6)
    usage = body["usage"]
    assert usage["prompt_tokens"] == usage["total_tokens"] > 0 and usage["completion_tokens"] == 0
    assert "prompt_tokens_details" in usage
    # a single string, and the raw reward with use_activation false
    one = httpx.post(srv.url + "/classify", json={"input": TEXTS[1], "use_activation": False}).json()
    assert len(one["data"]) == 1 and one["data"][0]["probs"] == pytest.approx([raw[1]], abs=1e-6)
    # a model this server does not serve, and the usual errors in the usual shape
    r = httpx.post(srv.url + "/classify", json={"model": "gpt-4", "input": "hi"})
    assert r.status_code == 404 and r.json()["error"]["type"] == "not_found" and "gpt-4" in r.text
    r = httpx.post(srv.url + "/classify", json={"input": []})
    assert r.status_code == 422 and r.json()["error"]["type"] == "invalid_input"
    r = httpx.post(srv.url + "/classify", json={"input": ["x"] * 65})
    assert r.status_code == 413 and r.json()["error"]["type"] == "too_many_items"
    r = httpx.post(srv.url + "/classify", json={"input": "   "})
    assert r.status_code == 422 and "input.0.response" in r.text


def test_predict_answers_in_teis_shape(trained_store: dict, serve: Any) -> None:
    srv = serve(trained_store["root"])
    # TEI's documented example: {"inputs": "I like you."} -> [{"score": ..., "label": ...}]
    r = httpx.post(srv.url + "/predict", json={"inputs": "I like you."})
    assert r.status_code == 200, r.text
    body = r.json()
    assert isinstance(body, list) and len(body) == 1 and set(body[0]) == {"score", "label"}
    (raw,) = scores(srv.url, ["I like you."])
    assert body[0]["score"] == pytest.approx(sigmoid(raw), abs=1e-6) and body[0]["label"] == "LABEL_0"
    # raw_scores: the reward itself
    r = httpx.post(srv.url + "/predict", json={"inputs": "I like you.", "raw_scores": True})
    assert r.json()[0]["score"] == pytest.approx(raw, abs=1e-6)
    # as in TEI, two strings are one pair: here (prompt, response)
    (pair_raw,) = scores(srv.url, [{"prompt": PAIR[0], "response": PAIR[1]}])
    r = httpx.post(srv.url + "/predict", json={"inputs": PAIR, "raw_scores": True})
    assert r.json() == [{"score": pytest.approx(pair_raw, abs=1e-6), "label": "LABEL_0"}]
    # a batch of pairs and texts: one list of predictions per input, in order
    batch = [PAIR, [TEXTS[0]], TEXTS[1]]
    r = httpx.post(srv.url + "/predict", json={"inputs": batch, "raw_scores": True})
    assert r.status_code == 200, r.text
    want = scores(srv.url, [{"prompt": PAIR[0], "response": PAIR[1]}, TEXTS[0], TEXTS[1]])
    assert [[p["score"] for p in preds] for preds in r.json()] == [[pytest.approx(w, abs=1e-6)] for w in want]
    r = httpx.post(srv.url + "/predict", json={"inputs": [["a", "b", "c"]]})
    assert r.status_code == 422 and r.json()["error"]["type"] == "invalid_input"
    r = httpx.post(srv.url + "/predict", json={"inputs": "hi", "surprise": 1})
    assert r.status_code == 422


def test_timing_headers_on_every_scoring_route(trained_store: dict, serve: Any) -> None:
    srv = serve(trained_store["root"])
    calls = [
        ("/score", {"items": TEXTS}),
        ("/gate", {"items": TEXTS}),
        ("/classify", {"input": TEXTS}),
        ("/predict", {"inputs": TEXTS[0]}),
    ]
    for route, body in calls:
        r = httpx.post(srv.url + route, json=body)
        assert r.status_code == 200, (route, r.text)
        got = {h: int(r.headers[h]) for h in TIMING}
        assert all(v >= 0 for v in got.values()), (route, got)
        assert got["x-total-time"] >= got["x-inference-time"] and got["x-total-time"] >= got["x-queue-time"]
    # a forward that takes real time shows up as inference time
    long = ["word " * 80] * 64
    r = httpx.post(srv.url + "/score", json={"items": long})
    assert int(r.headers["x-inference-time"]) > 0


def test_compat_routes_share_auth_and_metrics(trained_store: dict, serve: Any) -> None:
    srv = serve(trained_store["root"], api_keys="k1")
    for route, body in (("/classify", {"input": "hi"}), ("/predict", {"inputs": "hi"})):
        assert httpx.post(srv.url + route, json=body).status_code == 401
        before = metric_samples(srv.url).get("rewardgate_items_scored_total", 0.0)
        r = httpx.post(srv.url + route, json=body, headers={"Authorization": "Bearer k1"})
        assert r.status_code == 200
        after = metric_samples(srv.url)
        assert after["rewardgate_items_scored_total"] == before + 1
        assert after[f"rewardgate_requests_total{{route={route},status=200}}"] >= 1


def test_openapi_lists_the_compat_routes(trained_store: dict, serve: Any) -> None:
    srv = serve(trained_store["root"])
    spec = httpx.get(srv.url + "/openapi.json").json()
    assert "/classify" in spec["paths"] and "/predict" in spec["paths"]
    assert spec["components"]["schemas"]["ClassifyRequest"]["examples"][0]["input"]


def test_models_list_has_openais_shape(trained_store: dict, serve: Any) -> None:
    """vLLM's own client example reads ``/v1/models`` -> ``data[0].id`` and sends it as ``model``."""
    srv = serve(trained_store["root"])
    models = httpx.get(srv.url + "/v1/models").json()
    assert models["object"] == "list" and models["data"][0]["id"] == "default"
    r = httpx.post(srv.url + "/classify", json={"model": models["data"][0]["id"], "input": "hi"})
    assert r.status_code == 200 and r.json()["model"] == "default"
