"""Challenger cost: live /gate latency at half the saturated rate, with a challenger scoring
every gated item (share 1.0) against none, in one run. The challenger's work runs at lower
priority than live traffic; the target is a live p99 at most 10% higher."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx

from .common import log, percentile, short_items
from .load import drive
from .serve import Service


async def _open_loop(url: str, bodies: list[dict[str, Any]], rate: float) -> dict[str, Any]:
    """Send one request every 1/rate seconds whatever the answers do (open loop): latency as a
    caller at that load sees it."""
    lat: list[float] = []
    errors = 0

    async def one(c: httpx.AsyncClient, body: dict[str, Any]) -> None:
        nonlocal errors
        t0 = time.perf_counter()
        r = await c.post("/gate", json=body)
        lat.append(time.perf_counter() - t0)
        errors += r.status_code != 200

    limits = httpx.Limits(max_connections=512, max_keepalive_connections=512)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as c:
        tasks = []
        start = time.perf_counter()
        for i, body in enumerate(bodies):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(c, body)))
        await asyncio.gather(*tasks)
    return {
        "p50_ms": percentile(lat, 50) * 1e3,
        "p99_ms": percentile(lat, 99) * 1e3,
        "errors": errors,
        "requests": len(lat),
    }


def bench_challenger(store: Path, port: int, quick: bool) -> dict[str, Any]:
    from model_store import ModelStore

    current = ModelStore(store).current("default")
    items = short_items(2000 if not quick else 600, seed=5)
    bodies = [{"items": [{"prompt": p, "response": r} if p else r]} for p, r in items]
    out: dict[str, Any] = {}
    svc = Service(store, "default", port)
    try:
        sat = asyncio.run(drive("127.0.0.1", port, "/gate", bodies, 64))
        saturated = sat["done"] / sat["wall"]
    finally:
        svc.stop()
    rate = saturated / 2
    out["saturated_items_per_s"] = saturated
    out["half_load_requests_per_s"] = rate
    n = int(rate * (8 if quick else 20))
    for label, env in (
        ("no challenger", {}),
        ("challenger, share 1.0", {"challenger": current, "challenger_share": 1.0}),
    ):
        svc = Service(store, "default", port, **env)
        try:
            time.sleep(1.0)  # the challenger loads after the champion
            asyncio.run(_open_loop(svc.url, bodies[:50], rate))  # warm-up
            out[label] = asyncio.run(_open_loop(svc.url, (bodies * 10)[:n], rate))
        finally:
            svc.stop()
        log.info("challenger bench, %s: %s", label, out[label])
    out["p99_ratio"] = out["challenger, share 1.0"]["p99_ms"] / out["no challenger"]["p99_ms"]
    return out
