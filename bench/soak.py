"""``make soak``: N minutes of mixed load with reloads against the real service, then a report.

    python -m bench.soak --minutes 5 --concurrency 16

Two versions of the default model (copied from the store's current version, or trained small if
the store is empty) are served from a temporary store and promoted back and forth every few
seconds while callers send /score and /gate requests of 1-8 items. Every answer is checked against
that version's own scores for those items (computed alone, before the run): a mismatch counts as
a lost or mixed-up answer. Prints requests served, errors by status, p50/p99 latency, RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from model_store import ModelStore, VersionInfo

from .common import percentile, short_items
from .serve import Service


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def two_versions(root: Path) -> tuple[str, str]:
    src = ModelStore()
    store = ModelStore(root)
    if src.current("default"):
        v = src.resolve("default")
        ids = []
        for _ in range(2):

            def write(d: Path, v: Any = v) -> None:
                for p in v.path.iterdir():
                    if p.name != "manifest.json":
                        shutil.copy2(p, d / p.name)

            info = VersionInfo.model_validate(
                v.manifest.model_dump(exclude={"files", "version", "name", "schema_version"})
            )
            ids.append(store.publish("default", write, info).id)
        return ids[0], ids[1]
    from training.config import TrainConfig
    from training.train import train

    cfg = {"store": str(root), "default_prompts": 200, "epochs": 1.0}
    a = train(TrainConfig.from_dict({**cfg, "seed": 1})).version
    b = train(TrainConfig.from_dict({**cfg, "seed": 2})).version
    return a, b


async def soak(
    url: str,
    pool: list[Any],
    expected: dict[str, dict[int, float]],
    minutes: float,
    concurrency: int,
    versions: tuple[str, str],
    store: ModelStore,
) -> dict[str, Any]:
    end = time.monotonic() + minutes * 60
    lat: list[float] = []
    statuses: dict[int, int] = {}
    mismatches = 0
    reloads = {"ok": 0, "failed": 0}
    rng = random.Random(0)

    async def caller(client: httpx.AsyncClient) -> None:
        nonlocal mismatches
        while time.monotonic() < end:
            idx = [rng.randrange(len(pool)) for _ in range(rng.randint(1, 8))]
            route = rng.choice(["/score", "/gate"])
            t0 = time.perf_counter()
            r = await client.post(route, json={"items": [pool[i] for i in idx]})
            lat.append(time.perf_counter() - t0)
            statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
            if r.status_code == 200:
                body = r.json()
                exp = expected[body["model"]["version"]]
                got = [x["score"] for x in body["results"]]
                if len(got) != len(idx) or any(abs(g - exp[i]) > 2e-3 for g, i in zip(got, idx, strict=False)):
                    mismatches += 1

    async def reloader(client: httpx.AsyncClient) -> None:
        i = 0
        while time.monotonic() < end:
            await asyncio.sleep(3)
            store.promote("default", versions[i % 2])
            r = await client.post("/admin/reload", timeout=120)
            reloads["ok" if r.status_code == 200 else "failed"] += 1
            i += 1

    limits = httpx.Limits(max_connections=concurrency + 2)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
        await asyncio.gather(reloader(client), *(caller(client) for _ in range(concurrency)))
    return {
        "requests": len(lat),
        "statuses": statuses,
        "mismatches": mismatches,
        "reloads": reloads,
        "p50_ms": percentile(lat, 50) * 1e3,
        "p99_ms": percentile(lat, 99) * 1e3,
    }


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    p.add_argument("--minutes", type=float, default=5.0)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--port", type=int, default=8766)
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="rewardgate-soak-") as d:
        root = Path(d)
        versions = two_versions(root)
        store = ModelStore(root)
        pool: list[Any] = [{"prompt": q, "response": r} if q else r for q, r in short_items(200, seed=11)]
        svc = Service(root, "default", args.port)
        try:
            expected: dict[str, dict[int, float]] = {}
            with httpx.Client(base_url=svc.url, timeout=60) as c:
                for v in versions:
                    c.post("/admin/reload", json={"version": v}).raise_for_status()
                    expected[v] = {
                        i: c.post("/score", json={"items": [it]}).json()["results"][0]["score"]
                        for i, it in enumerate(pool)
                    }
            rss0 = rss_mb(svc.proc.pid)
            res = asyncio.run(soak(svc.url, pool, expected, args.minutes, args.concurrency, versions, store))
            res["rss_start_mb"], res["rss_end_mb"] = rss0, rss_mb(svc.proc.pid)
        finally:
            svc.stop()
    unexpected = {k: v for k, v in res["statuses"].items() if k != 200}
    print(json.dumps(res, indent=2))
    print(
        f"\nsoak {args.minutes:g} min, concurrency {args.concurrency}: {res['requests']} requests served, "
        f"errors by status {unexpected or 'none'}, {res['mismatches']} lost or mismatched answers, "
        f"{res['reloads']['ok']} reloads ok / {res['reloads']['failed']} failed, p50 {res['p50_ms']:.1f} ms, "
        f"p99 {res['p99_ms']:.1f} ms, RSS {res['rss_start_mb']:.0f} -> {res['rss_end_mb']:.0f} MB"
    )


if __name__ == "__main__":
    main()
