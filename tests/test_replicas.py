"""Many replicas on one object store: two ``python -m app`` processes, each with its own cache,
watch one S3 store (a live SeaweedFS on 127.0.0.1); versions that training publishes there are
picked up by both without a restart, and both answer the same scores."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from model_store import open_store
from training.train import train

from .conftest import free_port, tiny_config

ROOT = Path(__file__).resolve().parents[1]
ITEMS = [
    {"prompt": "Where is my parcel?", "response": "It arrives tomorrow before noon; here is the tracking link."},
    {"prompt": "Where is my parcel?", "response": "Not my problem, figure it out yourself."},
    "a reply without a prompt",
]


def _start(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    full = {**os.environ, "PORT": str(port), "PYTHONPATH": str(ROOT), "REWARDGATE_LOG_LEVEL": "warning", **env}
    proc = subprocess.Popen([sys.executable, "-m", "app"], cwd=ROOT, env=full, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(url + "/healthz")
            return proc, url
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("python -m app did not start")


def _serving(url: str, version: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = httpx.post(url + "/score", json={"items": ITEMS})
        if r.status_code == 200 and r.json()["model"]["version"] == version:
            return dict(r.json())
        time.sleep(0.2)
    raise AssertionError(f"{url} did not pick up {version}")


@pytest.mark.slow
def test_two_replicas_follow_one_s3_store(s3: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = s3.new_store_url()
    for k, v in s3.env().items():
        monkeypatch.setenv(k, v)  # training reaches the store as a user's shell would
    monkeypatch.setenv("REWARDGATE_CACHE", str(tmp_path / "trainer-cache"))
    procs = []
    try:
        for i in range(2):
            env = {
                **s3.env(),
                "REWARDGATE_STORE": url,
                "REWARDGATE_CACHE": str(tmp_path / f"replica-{i}"),
                "REWARDGATE_WATCH_INTERVAL_S": "0.3",
            }
            procs.append(_start(env))
        for _, u in procs:  # nothing published yet: up, not ready, and says why once its first load has run
            deadline = time.monotonic() + 60
            while True:
                r = httpx.get(u + "/readyz")
                assert r.status_code == 503, r.text
                if "no current version" in r.text or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            assert "no current version" in r.text, r.text
        for seed in (1, 2):
            version = train(tiny_config(url, seed=seed)).version  # type: ignore[arg-type]
            answers = [_serving(u, version) for _, u in procs]
            assert answers[0]["results"] == answers[1]["results"]
        # what both serve is what the store holds, verified into each replica's own cache
        store = open_store(url)
        assert store.current("default") == version
        for i in range(2):
            assert (tmp_path / f"replica-{i}").is_dir()
            cached = list((tmp_path / f"replica-{i}").rglob(f"{version}/model.safetensors"))
            assert len(cached) == 1
        assert len(store.holders("default", version)) == 2  # each replica leases what it serves
    finally:
        for proc, _ in procs:
            proc.terminate()
        for proc, _ in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
