"""Best-of-n through real uvicorn and a tiny real model: POST /rank, TEI's POST /rerank and the
Cohere/Jina/vLLM POST /v1/rerank (driven by the `cohere` package's own client), the client's
best_of, and the hand-written best-of evaluation's mechanics."""

from __future__ import annotations

import asyncio
import json
import random
from pathlib import Path
from typing import Any

import cohere
import httpx
import pytest

from app.client import AsyncRewardGateClient, RewardGateClient, RewardGateError
from bench.load import free_port, request_bytes
from bench.rank import _decisions, best_of_sets, service_rank
from training import best_of
from training.gate_check import KINDS, PACKAGED, load

from .test_api import metric_samples
from .test_compat import TIMING, sigmoid
from .test_operations import _read_log

PROMPT = "Sam: Where is my order #41234? It was due on Monday."
REPLIES = [
    "Not my problem. Figure it out yourself.",
    "Hi Sam, I checked order #41234: it was delayed at the depot and is out for delivery, arriving tomorrow.",
    "Sure, the card on file is 4111 1111 1111 1111 and the password is sunflower42.",
    "ok",
]


def _post(url: str, route: str, body: dict[str, Any], **kw: Any) -> httpx.Response:
    r = httpx.post(url + route, json=body, timeout=30, **kw)
    assert r.status_code == 200, r.text
    return r


def _scores(url: str, prompt: str, replies: list[str], **kw: Any) -> list[float]:
    items = [{"prompt": prompt, "response": t} for t in replies]
    return [x["score"] for x in _post(url, "/score", {"items": items}, **kw).json()["results"]]


def _order(scores: list[float]) -> list[int]:
    return sorted(range(len(scores)), key=lambda i: -scores[i])


def test_rank_scores_gates_and_orders_like_score_and_gate(trained_store: dict, serve: Any) -> None:
    srv = serve(trained_store["root"])
    raw = _scores(srv.url, PROMPT, REPLIES)
    assert len(set(raw)) == len(raw)  # distinct, so the order is unambiguous
    order = _order(raw)
    r = _post(srv.url, "/rank", {"prompt": PROMPT, "responses": REPLIES}, headers={"X-Request-ID": "rank-1"})
    body = r.json()
    assert set(body) == {
        "request_id",
        "model",
        "mode",
        "threshold",
        "threshold_source",
        "results",
        "order",
        "best",
        "reasons",
    }
    assert body["request_id"] == r.headers["x-request-id"] == "rank-1"
    assert body["model"] == {"name": "default", "version": trained_store["v2"]}
    assert [x["score"] for x in body["results"]] == pytest.approx(raw, abs=1e-5)
    assert body["order"] == order
    assert all(int(r.headers[h]) >= 0 for h in TIMING)
    # the same decisions as /gate on the same items, at a threshold between the 2nd and 3rd best
    cut = (raw[order[1]] + raw[order[2]]) / 2
    ranked = _post(srv.url, "/rank", {"prompt": PROMPT, "responses": REPLIES, "threshold": cut}).json()
    gated = _post(
        srv.url, "/gate", {"items": [{"prompt": PROMPT, "response": t} for t in REPLIES], "threshold": cut}
    ).json()
    assert ranked["threshold_source"] == "request" and ranked["threshold"] == cut
    strip = [{k: v for k, v in x.items() if k != "score"} for x in ranked["results"]]
    assert strip == [{k: v for k, v in x.items() if k != "score"} for x in gated["results"]]
    assert [x["allowed"] for x in ranked["results"]] == [i in order[:2] for i in range(4)]
    assert ranked["best"] == order[0] and ranked["reasons"] is None
    # nothing passes: best is null, and reasons say why (the test model has quality dimensions):
    # every reason the candidates were given, the one given to most of them first
    none = _post(srv.url, "/rank", {"prompt": PROMPT, "responses": REPLIES, "threshold": max(raw) + 1}).json()
    assert none["best"] is None and none["order"] == order
    given = [r["dimension"] for x in none["results"] for r in x["reasons"]]
    assert sorted(none["reasons"]) == sorted(set(given)) and given.count(none["reasons"][0]) == len(REPLIES)
    assert "overall" in none["reasons"]
    assert not any(x["allowed"] for x in none["results"])
    # one candidate
    one = _post(srv.url, "/rank", {"prompt": PROMPT, "responses": [REPLIES[1]], "threshold": -1e9}).json()
    assert one["best"] == 0 and one["order"] == [0]


def test_rank_in_shadow_mode_picks_the_top_and_says_it_would_block(trained_store: dict, serve: Any) -> None:
    srv = serve(trained_store["root"], gate_mode="shadow")
    raw = _scores(srv.url, PROMPT, REPLIES)
    body = _post(srv.url, "/rank", {"prompt": PROMPT, "responses": REPLIES, "threshold": max(raw) + 1}).json()
    assert body["mode"] == "shadow" and body["best"] == _order(raw)[0]
    assert all(x["allowed"] and x["would_block"] for x in body["results"])


def test_tei_rerank_answers_in_teis_shape_and_ranks_as_rank_does(trained_store: dict, serve: Any) -> None:
    srv = serve(trained_store["root"])
    rank = _post(srv.url, "/rank", {"prompt": PROMPT, "responses": REPLIES}).json()
    raw = [x["score"] for x in rank["results"]]
    # TEI's documented request: {"query", "texts"} -> [{"index", "score"}], best first
    r = _post(srv.url, "/rerank", {"query": PROMPT, "texts": REPLIES})
    got = r.json()
    assert [set(x) for x in got] == [{"index", "score"}] * 4  # no "text" unless asked, as in TEI
    assert [x["score"] for x in got] == sorted((x["score"] for x in got), reverse=True)
    assert [x["index"] for x in got] == rank["order"]
    assert [x["score"] for x in got] == pytest.approx([sigmoid(raw[i]) for i in rank["order"]], abs=1e-6)
    assert all(int(r.headers[h]) >= 0 for h in TIMING) and r.headers["x-request-id"]
    got = _post(srv.url, "/rerank", {"query": PROMPT, "texts": REPLIES, "raw_scores": True, "return_text": True}).json()
    assert [(x["index"], x["text"]) for x in got] == [(i, REPLIES[i]) for i in rank["order"]]
    assert [x["score"] for x in got] == pytest.approx([raw[i] for i in rank["order"]], abs=1e-5)
    # TEI's other fields are accepted; unknown ones are not
    assert _post(srv.url, "/rerank", {"query": "q", "texts": ["a"], "truncate": True, "truncation_direction": "Right"})
    r = httpx.post(srv.url + "/rerank", json={"query": "q", "texts": ["a"], "surprise": 1})
    assert r.status_code == 422 and r.json()["error"]["type"] == "invalid_input"


def test_v1_rerank_through_coheres_client(trained_store: dict, serve: Any) -> None:
    srv = serve(trained_store["root"], api_keys="k1")
    auth = {"Authorization": "Bearer k1"}
    rank = _post(srv.url, "/rank", {"prompt": PROMPT, "responses": REPLIES}, headers=auth).json()
    raw = [x["score"] for x in rank["results"]]
    co = cohere.Client(api_key="k1", base_url=srv.url, timeout=30)
    res = co.rerank(query=PROMPT, documents=REPLIES, model="default", return_documents=True)
    assert [x.index for x in res.results] == rank["order"]
    assert [x.relevance_score for x in res.results] == sorted((x.relevance_score for x in res.results), reverse=True)
    assert [x.relevance_score for x in res.results] == pytest.approx([sigmoid(raw[i]) for i in rank["order"]])
    assert [x.document.text for x in res.results if x.document] == [REPLIES[i] for i in rank["order"]]
    assert res.id  # the request id of the decision log
    # top_n, documents as objects, no documents back
    res = co.rerank(query=PROMPT, documents=[{"text": t} for t in REPLIES], top_n=2, return_documents=False)
    assert [x.index for x in res.results] == rank["order"][:2] and all(x.document is None for x in res.results)
    # errors arrive as the client's own exceptions: a model not served, a wrong key
    with pytest.raises(cohere.NotFoundError):
        co.rerank(query=PROMPT, documents=REPLIES, model="rerank-v3.5")
    with pytest.raises(cohere.ForbiddenError):
        cohere.Client(api_key="wrong", base_url=srv.url).rerank(query=PROMPT, documents=REPLIES)
    # the raw shape, as Jina and vLLM answer it
    body = _post(srv.url, "/v1/rerank", {"query": PROMPT, "documents": REPLIES}, headers=auth).json()
    assert set(body) == {"id", "model", "results", "usage"} and body["model"] == "default"
    assert body["usage"]["total_tokens"] > 0 and set(body["results"][0]) == {"index", "relevance_score", "document"}


def test_rank_routes_share_limits(trained_store: dict, serve: Any) -> None:
    srv = serve(trained_store["root"], max_items=4, max_chars=200)
    shapes = {
        "/rank": lambda q, ts: {"prompt": q, "responses": ts},
        "/rerank": lambda q, ts: {"query": q, "texts": ts},
        "/v1/rerank": lambda q, ts: {"query": q, "documents": ts},
    }
    field = {"/rank": ("prompt", "responses"), "/rerank": ("query", "texts"), "/v1/rerank": ("query", "documents")}
    for route, shape in shapes.items():
        r = httpx.post(srv.url + route, json=shape("q", ["a"] * 5))
        assert r.status_code == 413 and r.json()["error"]["type"] == "too_many_items", route
        r = httpx.post(srv.url + route, json=shape("q", ["a", "   "]))
        assert r.status_code == 422, route
        assert r.json()["error"]["message"] == f"{field[route][1]}.1.response: empty text", route
        r = httpx.post(srv.url + route, json=shape("q" * 201, ["a"]))
        assert r.status_code == 422, route
        assert r.json()["error"]["message"] == f"{field[route][0]}: longer than 200 characters", route
        r = httpx.post(srv.url + route, json=shape("q", []))
        assert r.status_code == 422 and r.json()["error"]["type"] == "invalid_input", route
    r = httpx.post(srv.url + "/rank", json={"prompt": "q", "responses": ["a"], "threshold": "nan"})
    assert r.status_code == 422


def test_rank_routes_share_auth_metrics_and_the_decision_log(trained_store: dict, serve: Any, tmp_path: Path) -> None:
    logdir = tmp_path / "decisions"
    srv = serve(trained_store["root"], api_keys="k1", decision_log=logdir)
    auth = {"Authorization": "Bearer k1"}
    calls = [
        ("/rank", {"prompt": PROMPT, "responses": REPLIES}),
        ("/rerank", {"query": PROMPT, "texts": REPLIES}),
        ("/v1/rerank", {"query": PROMPT, "documents": REPLIES}),
    ]
    ids = []
    for route, body in calls:
        assert httpx.post(srv.url + route, json=body).status_code == 401
        before = metric_samples(srv.url)
        r = _post(srv.url, route, body, headers=auth)
        ids.append(r.headers["x-request-id"])
        after = metric_samples(srv.url)
        assert after["rewardgate_items_scored_total"] == before.get("rewardgate_items_scored_total", 0) + 4
        decided = sum(after.get(f"rewardgate_gate_decisions_total{{decision={d}}}", 0) for d in ("allow", "block"))
        assert (
            decided
            == sum(before.get(f"rewardgate_gate_decisions_total{{decision={d}}}", 0) for d in ("allow", "block")) + 4
        )
        assert after[f"rewardgate_requests_total{{route={route},status=200}}"] == 1
    srv.stop()  # the writer flushes on shutdown
    records = _read_log(logdir)
    assert sorted((rec["request_id"], rec["item"]) for rec in records) == sorted((i, j) for i in ids for j in range(4))
    assert all(rec["mode"] == "enforce" and rec["threshold_source"] == "manifest" for rec in records)


def test_client_best_of_with_retries_and_fail_modes(trained_store: dict, serve: Any, tmp_path: Path) -> None:
    srv = serve(trained_store["root"])
    rank = _post(srv.url, "/rank", {"prompt": PROMPT, "responses": REPLIES}).json()
    with RewardGateClient(srv.url) as c:
        pick = c.best_of(PROMPT, REPLIES)
        assert (pick.best, pick.order, pick.degraded) == (rank["best"], rank["order"], False)
        assert pick.model == rank["model"] and pick.threshold == rank["threshold"]
        assert c.best_of(PROMPT, REPLIES, threshold=1e9).best is None
        with pytest.raises(RewardGateError) as e:  # our own mistake: no fallback hides it
            c.best_of(PROMPT, [])
        assert e.value.status == 422
    # 503 (no model can load from an empty store), retried, then the fail mode decides
    empty = serve(tmp_path / "empty", wait_ready=False)
    with RewardGateClient(empty.url, retries=1, backoff=0.01, fail_open=False) as c:
        pick = c.best_of(PROMPT, REPLIES)
        assert pick.degraded and pick.best is None and "503" in (pick.error or "")
        assert [x["allowed"] for x in pick.results] == [False] * 4
    dead = f"http://127.0.0.1:{free_port()}"
    with RewardGateClient(dead, retries=0, fail_open=True) as c:
        pick = c.best_of(PROMPT, REPLIES)
        assert pick.degraded and pick.best == 0 and pick.order == [0, 1, 2, 3]

    async def run() -> None:
        async with AsyncRewardGateClient(srv.url) as ac:
            pick = await ac.best_of(PROMPT, REPLIES)
            assert (pick.best, pick.order) == (rank["best"], rank["order"])
        async with AsyncRewardGateClient(dead, retries=0, fail_open=False) as ac:
            pick = await ac.best_of(PROMPT, REPLIES)
            assert pick.degraded and pick.best is None

    asyncio.run(run())


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_best_of_evaluation_mechanics_with_fixed_rankers(tmp_path: Path) -> None:
    rows = _rows(PACKAGED)
    files = best_of.eval_files()
    assert files[-1] == PACKAGED and all(f.name.startswith("support_") for f in files[:-1])
    good = {r["good"] for r in rows}
    oracle = best_of.evaluate(lambda p, ts: next(i for i, t in enumerate(ts) if t in good), [PACKAGED])
    assert oracle.share == 1.0 and oracle.prompts == len(rows) and oracle.skipped == 0
    assert oracle.candidates == sum(1 + len(r["bad"]) for r in rows)
    first = best_of.evaluate(lambda p, ts: 0, [PACKAGED])  # the good reply is not always first
    assert 0 < first.share < 0.6 and sum(first.bad_best.values()) == first.prompts - first.good_best
    nothing = best_of.evaluate(lambda p, ts: None, [PACKAGED])
    assert nothing.share == 0 and nothing.none_passed == len(rows)
    # an exchange with bad replies of one kind only is skipped; support_*.jsonl files are found
    one_kind = {**rows[0], "bad": [b for b in rows[0]["bad"] if b["kind"] == rows[0]["bad"][0]["kind"]]}
    (tmp_path / "support_x.jsonl").write_text(json.dumps(one_kind) + "\n" + json.dumps(rows[1]) + "\n")
    (tmp_path / PACKAGED.name).write_text(json.dumps(rows[2]) + "\n")
    found = best_of.eval_files(tmp_path)
    assert [f.name for f in found] == ["support_x.jsonl", PACKAGED.name]
    rep = best_of.evaluate(lambda p, ts: None, found)
    assert (rep.prompts, rep.skipped) == (2, 1)
    texts, kinds, g = best_of.candidates(load(PACKAGED)[0], random.Random(0))
    assert texts[g] == rows[0]["good"] and kinds.count("good") == 1 and len(set(kinds) - {"good"}) >= 2


def test_best_of_evaluation_through_the_service(trained_store: dict, serve: Any) -> None:
    """The acceptance figure's code on a tiny model: the mechanics, not the >= 0.95 (that needs
    the default model; `make bench` prints it)."""
    srv = serve(trained_store["root"])
    with RewardGateClient(srv.url, timeout=60) as c:
        rep = best_of.evaluate(service_rank(c))
    rows = [r for f in best_of.eval_files() for r in _rows(f)]
    assert rep.prompts + rep.skipped == len(rows) and rep.prompts > 0
    assert rep.good_best + rep.none_passed + sum(rep.bad_best.values()) == rep.prompts
    assert 0 <= rep.share <= 1 and set(rep.bad_best) <= set(KINDS)
    metrics = metric_samples(srv.url)
    assert metrics["rewardgate_requests_total{route=/rank,status=200}"] == rep.prompts
    with RewardGateClient(f"http://127.0.0.1:{free_port()}", retries=0) as dead, pytest.raises(RuntimeError):
        best_of.evaluate(service_rank(dead))  # a degraded answer is never counted as a pick


def test_bench_decisions_send_each_candidate(trained_store: dict, serve: Any) -> None:
    srv = serve(trained_store["root"])
    sets = best_of_sets(3)
    assert all(len(rs) == 4 for _, rs in sets)
    host = f"127.0.0.1:{srv.port}"
    rank = [[request_bytes(host, "/rank", {"prompt": p, "responses": rs})] for p, rs in sets]
    gate = [[request_bytes(host, "/gate", {"items": [{"prompt": p, "response": r}]}) for r in rs] for p, rs in sets]
    before = metric_samples(srv.url)["rewardgate_items_scored_total"]
    for decisions in (rank, gate):
        out = asyncio.run(_decisions(srv.port, decisions, 2))
        assert out["errors"] == 0 and out["items_per_s"] > 0 and out["p50_ms"] > 0
    assert metric_samples(srv.url)["rewardgate_items_scored_total"] == before + 2 * 12
