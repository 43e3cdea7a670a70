"""The one way a version comes into service (app/registry.py, app/leases.py), on a real store with
the tiny real model: the store's lease on a version is released exactly once, when the last thing
serving it lets go, on every path (a failed load, a replaced champion, a removed or failed
challenger, a cancelled load, shutdown); and a reload that waits seconds on a slow store never
holds up /gate."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.exceptions import ReloadFailed
from app.metrics import Metrics
from app.registry import ModelRegistry
from app.settings import Settings
from model_store import ModelStore, Version

from .conftest import LiveServer

log = logging.getLogger(__name__)
NAME = "default"
ME = f"{socket.gethostname()}-{os.getpid()}"


class RecordingStore(ModelStore):
    """The real local store, recording every lease and release it is asked for (from whichever
    thread), and optionally holding ``verify`` until the test lets it go."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.calls: list[tuple[str, str]] = []
        self._mutex = threading.Lock()
        self.verify_gate: threading.Event | None = None
        self.verifying = threading.Event()

    def lease(self, name: str, version: str) -> None:
        with self._mutex:
            self.calls.append(("lease", version))
        super().lease(name, version)

    def release(self, name: str, version: str) -> None:
        with self._mutex:
            self.calls.append(("release", version))
        super().release(name, version)

    def verify(self, version: Version) -> None:
        self.verifying.set()
        if self.verify_gate is not None:
            self.verify_gate.wait(30)
        super().verify(version)

    def count(self, kind: str) -> Counter[str]:
        return Counter(v for k, v in self.calls if k == kind)

    def held(self, version: str) -> bool:
        """What ``gc`` sees: does this process hold a lease on ``version`` in the store?"""
        return ME in self.holders(NAME, version)


def fail_warmup(root: Path, vid: str) -> None:
    """A real load failure: a token id past the embedding, so the warm-up forward raises."""
    path = root / NAME / "versions" / vid / "manifest.json"
    m = json.loads(path.read_text())
    m["input"]["prefix_ids"] = [10**6]
    path.write_text(json.dumps(m))


def run(store: RecordingStore, scenario: Any) -> None:
    """Run ``scenario(registry)`` on a fresh registry over ``store``, shut the registry down as the
    app does, and check what the store saw: per version lease, release, lease, release...; every
    lease released exactly once, none twice, none left held."""
    torch_thread = ThreadPoolExecutor(1)

    async def main() -> None:
        registry = ModelRegistry(Settings(store=store.root), Metrics(), torch_thread, store=store)
        try:
            await scenario(registry)
        finally:
            await registry.close()

    try:
        asyncio.run(main())
    finally:
        torch_thread.shutdown(wait=True)
    for version in {v for _, v in store.calls}:
        kinds = [k for k, v in store.calls if v == version]
        assert kinds == ["lease", "release"] * (len(kinds) // 2) and len(kinds) % 2 == 0, (version, store.calls)
        assert not store.held(version)


def test_failed_load_releases_its_lease_and_keeps_the_served_one(store_copy: dict) -> None:
    root, v1, v2 = store_copy["root"], store_copy["v1"], store_copy["v2"]
    fail_warmup(root, v1)
    store = RecordingStore(root)

    async def scenario(reg: ModelRegistry) -> None:
        await reg.reload()
        with pytest.raises(ReloadFailed, match="IndexError"):
            await reg.reload(v1)
        assert store.calls == [("lease", v2), ("lease", v1), ("release", v1)]
        assert store.held(v2) and not store.held(v1)
        assert reg.require().version == v2

    run(store, scenario)


def test_replaced_champion_is_released_once_and_a_same_version_reload_keeps_it(store_copy: dict) -> None:
    root, v1, v2 = store_copy["root"], store_copy["v1"], store_copy["v2"]
    store = RecordingStore(root)

    async def scenario(reg: ModelRegistry) -> None:
        await reg.reload()
        await reg.reload(v1)
        assert store.calls == [("lease", v2), ("lease", v1), ("release", v2)]
        assert store.held(v1) and not store.held(v2)
        # the same version again: a new scorer beside the old one, the lease never let go
        await reg.reload(v1)
        assert store.calls == [("lease", v2), ("lease", v1), ("release", v2)]
        assert store.held(v1) and reg.leases.count(v1) == 1

    run(store, scenario)


def test_a_reload_keeps_the_version_the_challenger_still_serves(store_copy: dict) -> None:
    root, v1, v2 = store_copy["root"], store_copy["v1"], store_copy["v2"]
    store = RecordingStore(root)

    async def scenario(reg: ModelRegistry) -> None:
        await reg.reload()  # champion v2
        await reg.set_challenger(v1)
        await reg.reload(v1)  # champion v1 too
        await reg.reload(v2)  # champion back to v2: v1 is still the challenger's
        assert store.count("release")[v1] == 0 and store.held(v1), store.calls
        assert reg.leases.count(v1) == 1 and reg.leases.count(v2) == 1
        await reg.set_challenger(None)  # the removed challenger: released now, once
        assert store.count("release")[v1] == 1 and not store.held(v1)
        assert store.held(v2)

    run(store, scenario)


def test_failed_challenger_releases_its_lease_and_the_old_challenger_stays(store_copy: dict) -> None:
    root, v1, v2 = store_copy["root"], store_copy["v1"], store_copy["v2"]
    fail_warmup(root, v1)
    store = RecordingStore(root)

    async def scenario(reg: ModelRegistry) -> None:
        await reg.reload()
        await reg.set_challenger(v2, share=0.5)  # the champion's version as challenger: counted twice
        assert reg.leases.count(v2) == 2
        with pytest.raises(ReloadFailed, match=f"challenger {v1}"):
            await reg.set_challenger(v1)
        assert store.count("lease")[v1] == store.count("release")[v1] == 1 and not store.held(v1)
        assert reg.challenger is not None and reg.challenger.version == v2
        assert reg.challenger_info().share == 0.5

    run(store, scenario)


def test_shutdown_releases_champion_and_challenger_once(store_copy: dict) -> None:
    root, v1, v2 = store_copy["root"], store_copy["v1"], store_copy["v2"]
    store = RecordingStore(root)

    async def scenario(reg: ModelRegistry) -> None:
        await reg.reload()
        await reg.set_challenger(v1)
        assert store.held(v1) and store.held(v2)
        await reg.close()
        assert sorted(store.calls[-2:]) == [("release", v1), ("release", v2)]
        await reg.close()  # a second close lets go of nothing more

    run(store, scenario)


def test_a_load_cancelled_at_shutdown_releases_its_lease(store_copy: dict) -> None:
    root, v1 = store_copy["root"], store_copy["v1"]
    store = RecordingStore(root)
    store.verify_gate = threading.Event()

    async def scenario(reg: ModelRegistry) -> None:
        load = asyncio.create_task(reg.reload(v1))
        while not store.verifying.is_set():  # leased, now verifying in a worker thread
            await asyncio.sleep(0.01)
        assert store.held(v1)
        load.cancel()  # what the app's shutdown does to its initial load
        with pytest.raises(asyncio.CancelledError):
            await load
        store.verify_gate.set()
        assert reg.leases.count(v1) == 0 and not store.held(v1)

    run(store, scenario)
    assert store.calls == [("lease", v1), ("release", v1)]


class SlowStore(ModelStore):
    """The real local store, answering ``resolve`` and ``lease`` after 2 s, as an object store
    with retries may: the thread that calls it waits, as it would on the network."""

    DELAY_S = 2.0

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.leased_at: list[float] = []

    def resolve(self, name: str, version: str = "current") -> Version:
        time.sleep(self.DELAY_S)
        return super().resolve(name, version)

    def lease(self, name: str, version: str) -> None:
        time.sleep(self.DELAY_S)
        super().lease(name, version)
        self.leased_at.append(time.monotonic())


PACE_S = 0.02  # one /gate every 20 ms, whether or not the last one was answered


def paced_gates(url: str, stop: threading.Event) -> list[tuple[float, float, int]]:
    """Open-loop load: a /gate is sent every ``PACE_S`` on schedule, and its latency counts from
    when it was due. (A client that waits for each answer before the next sends one request into
    a stalled server and sees one slow answer, however long the stall.)"""
    out: list[tuple[float, float, int]] = []  # (due, answered, status), monotonic

    async def one(c: httpx.AsyncClient, due: float) -> None:
        r = await c.post("/gate", json={"items": ["Thanks, your refund is on its way."]})
        out.append((due, time.monotonic(), r.status_code))

    async def main() -> None:
        async with httpx.AsyncClient(base_url=url, timeout=30, limits=httpx.Limits(max_connections=500)) as c:
            tasks = []
            due = time.monotonic()
            while not stop.is_set():
                tasks.append(asyncio.create_task(one(c, due)))
                due += PACE_S
                await asyncio.sleep(max(0.0, due - time.monotonic()))
            await asyncio.gather(*tasks)

    asyncio.run(main())
    return out


def test_gate_keeps_answering_while_a_reload_waits_on_a_slow_store(store_copy: dict) -> None:
    store = SlowStore(store_copy["root"])
    srv = LiveServer(Settings(store=store_copy["root"]), wait_ready=False, store=store)
    try:
        srv.wait_ready(timeout=120)
        stop = threading.Event()
        answers: list[tuple[float, float, int]] = []
        client = threading.Thread(target=lambda: answers.extend(paced_gates(srv.url, stop)))
        client.start()
        try:
            time.sleep(0.3)
            started = time.monotonic()
            r = httpx.post(srv.url + "/admin/reload", json={"version": store_copy["v1"]}, timeout=120)
            assert r.status_code == 200 and r.json()["version"] == store_copy["v1"], r.text
        finally:
            stop.set()
            client.join()
        assert {status for _, _, status in answers} == {200}
        waited_until = store.leased_at[-1]  # resolve and lease done: from here on, verify and load
        assert waited_until - started >= 2 * SlowStore.DELAY_S - 0.1
        # requests due while the reload waited on the store, and not so late that the load itself
        # (on the thread that runs every forward: queued work waits for it, by design) delays them
        during = sorted(end - due for due, end, _ in answers if started <= due <= waited_until - 0.5)
        assert len(during) >= 100, len(during)
        p99 = during[int(0.99 * (len(during) - 1))]
        log.info("/gate during the store waits: %d answers, p99 %.1f ms", len(during), p99 * 1000)
        assert p99 < 0.1, f"/gate p99 {p99 * 1000:.0f} ms while the reload waited on the store"
    finally:
        srv.stop()
