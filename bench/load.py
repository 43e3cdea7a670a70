"""A bounded closed-loop HTTP load generator on raw asyncio streams (keep-alive HTTP/1.1).

httpx costs about a millisecond of client CPU per request; on a 2-core machine that CPU is taken
from the server being measured, so the benchmark uses this much thinner client instead.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from typing import Any


def free_port(below: int = 65536) -> int:
    """A TCP port free on 127.0.0.1 now (``below``: for servers that derive port + 10000)."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port < below:
            return port


def request_bytes(host: str, path: str, body: Any, headers: dict[str, str] | None = None) -> bytes:
    data = json.dumps(body).encode()
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(data)}\r\n{extra}\r\n"
    )
    return head.encode() + data


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        k, _, v = line.partition(":")
        if k.lower() == "content-length":
            length = int(v)
    body = await reader.readexactly(length) if length else b""
    return status, body


async def drive(
    host: str,
    port: int,
    path: str,
    bodies: list[Any],
    concurrency: int,
    deadline_s: float = 300,
    headers: dict[str, str] | None = None,
    keep_bodies: bool = False,
) -> dict[str, Any]:
    """Send each body once, ``concurrency`` at a time; per-request latency, statuses, wall time."""
    reqs = [request_bytes(f"{host}:{port}", path, b, headers) for b in bodies]
    lat: list[float] = [0.0] * len(reqs)
    statuses: list[int] = [0] * len(reqs)
    answers: list[bytes] = [b""] * len(reqs) if keep_bodies else []
    nxt = 0
    end = time.monotonic() + deadline_s

    async def worker() -> None:
        nonlocal nxt
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while nxt < len(reqs) and time.monotonic() < end:
                i = nxt
                nxt += 1
                t0 = time.perf_counter()
                writer.write(reqs[i])
                status, body = await asyncio.wait_for(_read_response(reader), max(0.1, end - time.monotonic()))
                lat[i] = time.perf_counter() - t0
                statuses[i] = status
                if keep_bodies:
                    answers[i] = body
        finally:
            writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall = time.perf_counter() - t0
    done = [i for i, s in enumerate(statuses) if s]
    errors: dict[int, int] = {}
    for i in done:
        if statuses[i] != 200:
            errors[statuses[i]] = errors.get(statuses[i], 0) + 1
    return {
        "wall": wall,
        "latencies": [lat[i] for i in done],
        "statuses": statuses,
        "errors": errors,
        "done": len(done),
        "bodies": answers,
    }
