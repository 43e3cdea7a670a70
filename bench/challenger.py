"""Challenger cost: live /gate latency at half the saturated rate, with a challenger scoring
every gated item (share 1.0) against none, in one run. The challenger's work runs at lower
priority than live traffic; the target is a live p99 at most 10% higher."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path
from typing import Any

import httpx

from .common import log, percentile, short_items
from .load import _read_response, drive, request_bytes
from .serve import Service


async def _open_loop(port: int, bodies: list[dict[str, Any]], rate: float) -> dict[str, Any]:
    """Send one request every 1/rate seconds whatever the answers do (open loop): latency as a
    caller at that load sees it, from the moment it meant to send. Keep-alive connections are
    reused from a pool on the thin raw-socket client (httpx's client CPU would be taken from the
    server on this 2-core machine)."""
    reqs = [request_bytes(f"127.0.0.1:{port}", "/gate", b) for b in bodies]
    pool: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    opened: list[asyncio.StreamWriter] = []
    lat: list[float] = []
    errors = 0
    statuses: dict[str, int] = {}

    async def one(req: bytes) -> None:
        nonlocal errors
        t0 = time.perf_counter()
        try:
            if pool:
                reader, writer = pool.pop()
            else:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                opened.append(writer)
            writer.write(req)
            status, _ = await _read_response(reader)
        except (OSError, asyncio.IncompleteReadError):  # a dropped connection: an error the caller sees
            errors += 1
            statuses["dropped"] = statuses.get("dropped", 0) + 1
            return
        lat.append(time.perf_counter() - t0)
        errors += status != 200
        statuses[str(status)] = statuses.get(str(status), 0) + 1
        pool.append((reader, writer))

    tasks = []
    start = time.perf_counter()
    for i, req in enumerate(reqs):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(req)))
    await asyncio.gather(*tasks)
    for w in opened:
        w.close()
    return {
        "p50_ms": percentile(lat, 50) * 1e3,
        "p99_ms": percentile(lat, 99) * 1e3,
        "errors": errors,
        "requests": len(lat),
        "connections": len(opened),
        "statuses": statuses,
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
            asyncio.run(_open_loop(port, bodies[:50], rate))  # warm-up
            out[label] = asyncio.run(_open_loop(port, (bodies * 10)[:n], rate))
            time.sleep(1.0)  # challenger work still queued finishes or is counted skipped
            text = httpx.get(svc.url + "/metrics", timeout=10).text
            out[label]["challenger"] = {
                k: float(v)
                for k, v in re.findall(r"^rewardgate_(challenger_\w+_total(?:\{[^}]*\})?) (\S+)$", text, re.M)
            }
        finally:
            svc.stop()
        log.info("challenger bench, %s: %s", label, out[label])
    out["p99_ratio"] = out["challenger, share 1.0"]["p99_ms"] / out["no challenger"]["p99_ms"]
    return out
