"""Overload, answer integrity, reload churn, graceful shutdown and store faults, against the real
server on 127.0.0.1. Every load is bounded in count and time."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
import weakref
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.load import drive
from model_store import ModelStore
from model_store.store import sha256_file

from .conftest import free_port
from .test_api import metric_samples

ROOT = Path(__file__).resolve().parents[1]
WORDS = [
    "thanks",
    "order",
    "refund",
    "sorry",
    "help",
    "account",
    "password",
    "delivery",
    "please",
    "tomorrow",
    "rude",
    "no",
    "yes",
]


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def random_items(rng: random.Random, n: int) -> list[Any]:
    out: list[Any] = []
    for _ in range(n):
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 40)))
        out.append(text if rng.random() < 0.3 else {"prompt": "Q: " + rng.choice(WORDS), "response": text})
    return out


def solo_scores(url: str, items: list[Any]) -> list[float]:
    """Each item scored alone, one request at a time: the answer a batch must reproduce."""
    with httpx.Client(base_url=url, timeout=30) as c:
        return [c.post("/score", json={"items": [it]}).json()["results"][0]["score"] for it in items]


def test_overload_sheds_with_429_and_recovers(trained_store: dict, serve: Any) -> None:
    srv = serve(trained_store["root"], max_queue=24)
    port = srv.port
    body = {"items": ["a reply to judge " * 20]}
    warm = asyncio.run(drive("127.0.0.1", port, "/score", [body] * 20, 1))
    base_p50 = sorted(warm["latencies"])[10]
    rss0 = rss_mb()
    res = asyncio.run(drive("127.0.0.1", port, "/score", [body] * 600, 96, deadline_s=60))
    statuses = res["statuses"]
    assert res["done"] == 600
    assert set(statuses) <= {200, 429}, set(statuses)
    assert statuses.count(429) > 0, "the burst never filled the queue"
    assert statuses.count(200) > 0
    assert srv.app.state.rewardgate.batcher.peak_depth <= 24
    lat429 = [lat for lat, s in zip(res["latencies"], statuses, strict=True) if s == 429]
    assert sorted(lat429)[len(lat429) // 2] < 0.5, "429s must be prompt, not queued"
    after = asyncio.run(drive("127.0.0.1", port, "/score", [body] * 20, 1))
    assert sorted(after["latencies"])[10] < base_p50 * 3 + 0.02, "latency did not recover after the burst"
    assert rss_mb() - rss0 < 150


def test_no_cross_talk_between_concurrent_callers(trained_store: dict, serve: Any) -> None:
    srv = serve(trained_store["root"])
    rng = random.Random(7)
    pool = random_items(rng, 40)
    alone = dict(zip(range(40), solo_scores(srv.url, pool), strict=True))
    requests = [[rng.randrange(40) for _ in range(rng.randint(1, 6))] for _ in range(120)]
    res = asyncio.run(
        drive(
            "127.0.0.1",
            srv.port,
            "/score",
            [{"items": [pool[i] for i in req]} for req in requests],
            32,
            keep_bodies=True,
        )
    )
    assert res["errors"] == {}
    for req, raw in zip(requests, res["bodies"], strict=True):
        got = [r["score"] for r in json.loads(raw)["results"]]
        assert got == pytest.approx([alone[i] for i in req], abs=2e-3)


def test_reload_churn_under_load(store_copy: dict, serve: Any) -> None:
    root = store_copy["root"]
    srv = serve(root)
    items = random_items(random.Random(3), 4)
    expected = {}
    for v in (store_copy["v1"], store_copy["v2"]):
        assert httpx.post(srv.url + "/admin/reload", json={"version": v}, timeout=60).status_code == 200
        expected[v] = solo_scores(srv.url, items)
    stop = threading.Event()
    bad: list[Any] = []
    served = {store_copy["v1"]: 0, store_copy["v2"]: 0}

    def load() -> None:
        with httpx.Client(base_url=srv.url, timeout=30) as c:
            while not stop.is_set():
                r = c.post("/score", json={"items": items})
                if r.status_code != 200:
                    bad.append(r.status_code)
                    continue
                body = r.json()
                v = body["model"]["version"]
                served[v] += 1
                if [x["score"] for x in body["results"]] != pytest.approx(expected[v], abs=2e-3):
                    bad.append(("scored by another version than named", v))

    scorers = []
    threads = [threading.Thread(target=load) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        for i in range(10):
            v = (store_copy["v1"], store_copy["v2"])[i % 2]
            r = httpx.post(srv.url + "/admin/reload", json={"version": v}, timeout=60)
            assert r.status_code == 200, r.text
            scorers.append(weakref.ref(srv.app.state.rewardgate.registry.scorer))
            time.sleep(0.1)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert bad == []
    assert served[store_copy["v1"]] > 0 and served[store_copy["v2"]] > 0
    gc.collect()
    alive = [s for s in scorers if s() is not None]
    assert len(alive) <= 1, f"{len(alive)} old versions still in memory"


def start_app(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    """``python -m app`` as a real process (its own logging setup, its own signal handling)."""
    port = free_port()
    full = {**os.environ, "PORT": str(port), "PYTHONPATH": str(ROOT), **env}
    proc = subprocess.Popen(
        [sys.executable, "-m", "app"], cwd=ROOT, env=full, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120  # a loaded machine takes a while to import torch
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/readyz").status_code == 200:
                return proc, url
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError("python -m app did not become ready")


def _send_all(
    url: str, requests: int, items: int, timeout: float
) -> tuple[list[threading.Thread], list[tuple[int, Any]]]:
    """``requests`` concurrent /score calls of ``items`` items each, in threads; once all are queued
    or being scored (seen through /metrics, so however slowly the machine connects them), return.
    Each answer lands in the list as (status, body)."""
    answers: list[tuple[int, Any]] = []

    def call(i: int) -> None:
        texts = [f"reply {i}.{k} " + "long reply " * 30 for k in range(items)]
        try:
            r = httpx.post(url + "/score", json={"items": texts}, timeout=timeout)
        except httpx.HTTPError as exc:  # recorded, so the test says what went wrong
            answers.append((0, {"exception": repr(exc)}))
            return
        json_body = r.headers.get("content-type", "").startswith("application/json")
        body = r.json() if json_body else {"text": r.text}  # uvicorn's own 500 is plain text
        answers.append((r.status_code, {**body, "retry-after": r.headers.get("retry-after")}))

    threads = [threading.Thread(target=call, args=(i,)) for i in range(requests)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        m = metric_samples(url)
        # queued + scored + the one item of the batch being computed (batches of one item)
        if m.get("rewardgate_queue_depth", 0) + m.get("rewardgate_items_scored_total", 0) >= requests * items - 1:
            return threads, answers
        time.sleep(0.05)
    raise AssertionError("the requests never all reached the queue")


def test_sigterm_drains_in_flight_work_and_exits_0(trained_store: dict) -> None:
    """Work is still queued when SIGTERM lands (proven by the server's own count right after the
    signal, not by a clock): every request still gets all its scores, new work is refused with
    503, and the process exits 0. Nothing here depends on how fast the machine is: the drain
    timeout is far longer than the work, and no duration is asserted."""
    requests, items = 24, 32
    env = {
        "REWARDGATE_STORE": str(trained_store["root"]),
        "REWARDGATE_SHUTDOWN_GRACE_S": "3",  # the listener stays open meanwhile: the checks below
        "REWARDGATE_DRAIN_TIMEOUT_S": "600",
        "REWARDGATE_REQUEST_TIMEOUT_S": "600",  # a busy machine takes long: no 504 either
        "REWARDGATE_LOG_LEVEL": "warning",
        "REWARDGATE_MAX_BATCH_ITEMS": "1",  # one forward per item: hundreds of forwards queued
        "REWARDGATE_MAX_QUEUE": "10000",
    }
    proc, url = start_app(env)
    try:
        inflight, answers = _send_all(url, requests, items, timeout=600)  # the drain's length, not ours
        proc.send_signal(signal.SIGTERM)
        scored = metric_samples(url)["rewardgate_items_scored_total"]
        assert scored < requests * items, "all work was done before SIGTERM: nothing was in flight"
        ready = httpx.get(url + "/readyz")
        assert ready.status_code == 503 and ready.json()["error"]["type"] == "shutting_down"
        late = httpx.post(url + "/score", json={"items": ["late"]})
        assert late.status_code == 503 and late.json()["error"]["type"] == "shutting_down"
        assert late.headers["retry-after"] == "1"
        for t in inflight:
            t.join()
        assert [(status, len(body.get("results", []))) for status, body in answers] == [(200, items)] * requests
        assert proc.wait(timeout=120) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def test_work_left_when_drain_time_runs_out_gets_503_shutting_down(trained_store: dict) -> None:
    """A drain timeout far too short for the work queued: what finished is answered 200 with all
    its scores; everything else, the batch being computed included, 503 ``shutting_down`` with
    Retry-After (never 500); and the process still exits 0."""
    requests, items = 40, 64
    env = {
        "REWARDGATE_STORE": str(trained_store["root"]),
        "REWARDGATE_DRAIN_TIMEOUT_S": "1",
        "REWARDGATE_REQUEST_TIMEOUT_S": "600",  # only the drain deadline may cut work short
        "REWARDGATE_LOG_LEVEL": "warning",
        "REWARDGATE_MAX_BATCH_ITEMS": "1",  # 2560 forwards: more than any machine does in 1 s
        "REWARDGATE_MAX_QUEUE": "10000",
    }
    proc, url = start_app(env)
    try:
        inflight, answers = _send_all(url, requests, items, timeout=120)
        proc.send_signal(signal.SIGTERM)
        for t in inflight:
            t.join()
        assert len(answers) == requests
        kinds = sorted({(s, b.get("error", {}).get("type"), b.get("retry-after")) for s, b in answers}, key=str)
        assert set(kinds) <= {(200, None, None), (503, "shutting_down", "1")}, kinds
        assert (503, "shutting_down", "1") in kinds, "the drain deadline never cut any work short"
        assert all(len(b["results"]) == items for s, b in answers if s == 200)
        assert proc.wait(timeout=120) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def _damage(kind: str, root: Path, vid: str) -> None:
    vdir = root / "default" / "versions" / vid
    weights = vdir / "model.safetensors"
    if kind == "truncated weights":
        weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    elif kind == "flipped byte":
        data = bytearray(weights.read_bytes())
        data[100] ^= 1
        weights.write_bytes(bytes(data))
    elif kind == "missing manifest":
        (vdir / "manifest.json").unlink()
    elif kind == "future schema":
        m = json.loads((vdir / "manifest.json").read_text())
        m["schema_version"] = 2
        (vdir / "manifest.json").write_text(json.dumps(m))
    elif kind == "invalid manifest":
        m = json.loads((vdir / "manifest.json").read_text())
        m["threshold"] = "high"
        (vdir / "manifest.json").write_text(json.dumps(m))
    elif kind in ("weights that do not fit", "failing warm-up"):
        m = json.loads((vdir / "manifest.json").read_text())
        if kind == "failing warm-up":
            m["input"]["prefix_ids"] = [10**6]  # a token id past the embedding: the warm-up forward raises
        else:
            config = json.loads((vdir / "config.json").read_text())
            config["ffn_dim"] *= 2  # the saved fc1/fc2 no longer fit the model the config builds
            (vdir / "config.json").write_text(json.dumps(config))
            m["files"]["config.json"] = sha256_file(vdir / "config.json")
        (vdir / "manifest.json").write_text(json.dumps(m))
    elif kind == "current names a missing version":
        (root / "default" / "current").write_text("20300101T000000000000Z-abcdef\n")
        return
    (root / "default" / "current").write_text(vid + "\n")


@pytest.mark.parametrize(
    "kind, message",
    [
        ("truncated weights", "sha256"),
        ("flipped byte", "sha256"),
        ("missing manifest", "manifest.json is missing"),
        ("future schema", "schema_version 2"),
        ("current names a missing version", "has no version"),
        ("invalid manifest", "field 'threshold': input should be a valid dictionary"),
        ("weights that do not fit", "failed to load"),
        ("failing warm-up", "IndexError"),
    ],
)
def test_store_faults_keep_last_good_version(store_copy: dict, serve: Any, kind: str, message: str) -> None:
    root = store_copy["root"]
    srv = serve(root)
    _damage(kind, root, store_copy["v1"])
    r = httpx.post(srv.url + "/admin/reload")
    assert r.status_code == 409, r.text
    assert message in r.json()["error"]["message"]
    ok = httpx.post(srv.url + "/score", json={"items": ["x"]})
    assert ok.status_code == 200 and ok.json()["model"]["version"] == store_copy["v2"]
    assert httpx.get(srv.url + "/readyz").status_code == 200


def test_failed_initial_load_leaves_readyz_503_with_the_reason(store_copy: dict, serve: Any) -> None:
    _damage("failing warm-up", store_copy["root"], store_copy["v1"])
    srv = serve(store_copy["root"], wait_ready=False)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        r = httpx.get(srv.url + "/readyz")
        if "IndexError" in r.text:
            break
        time.sleep(0.05)
    assert r.status_code == 503 and r.json()["error"]["type"] == "not_ready", r.text
    assert "IndexError" in r.json()["error"]["message"]
    assert httpx.post(srv.url + "/score", json={"items": ["x"]}).status_code == 503


def test_watcher_survives_a_broken_version(store_copy: dict, serve: Any) -> None:
    """A broken `current` is logged and skipped; the watcher keeps watching and takes the next."""
    root = store_copy["root"]
    srv = serve(root, watch_interval_s=0.05)
    vdir = root / "default" / "versions" / store_copy["v1"]
    fixed = vdir.parent / "20990101T000000000000Z-fixed0"
    shutil.copytree(vdir, fixed)  # a good copy of v1, published later
    _damage("failing warm-up", root, store_copy["v1"])  # current -> the broken v1

    def metric(name: str) -> float:
        for line in httpx.get(srv.url + "/metrics").text.splitlines():
            if line.startswith(name):
                return float(line.split()[-1])
        return 0.0

    deadline = time.monotonic() + 30
    while metric('rewardgate_reloads_total{result="failed"}') < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert metric('rewardgate_reloads_total{result="failed"}') == 1
    assert httpx.post(srv.url + "/score", json={"items": ["x"]}).json()["model"]["version"] == store_copy["v2"]
    time.sleep(0.3)  # several more ticks: the broken version is not retried every tick
    assert metric('rewardgate_reloads_total{result="failed"}') == 1
    (root / "default" / "current").write_text(fixed.name + "\n")
    while time.monotonic() < deadline:
        if httpx.post(srv.url + "/score", json={"items": ["x"]}).json()["model"]["version"] == fixed.name:
            break
        time.sleep(0.05)
    else:
        pytest.fail("the watcher stopped after a failed reload")


def test_killed_training_publish_leaves_store_clean(store_copy: dict) -> None:
    root = store_copy["root"]
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from model_store import ModelStore\n"
        "def write(d):\n"
        "    (d / 'model.safetensors').write_bytes(b'x' * 1000)\n"
        "    print('writing', flush=True)\n"
        "    time.sleep(60)\n"
        "from model_store import VersionInfo\n"
        f"store = ModelStore({str(root)!r})\n"
        "m = store.resolve('default').manifest\n"
        "info = VersionInfo.model_validate(m.model_dump(exclude={'files', 'name', 'version', 'schema_version'}))\n"
        "store.publish('default', write, info)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "writing"
    proc.kill()
    proc.wait()
    store = ModelStore(root)
    assert store.list_versions("default") == sorted([store_copy["v1"], store_copy["v2"]])
    assert store.current("default") == store_copy["v2"]
    store.verify(store.resolve("default"))
