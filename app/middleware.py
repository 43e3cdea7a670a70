"""Pure ASGI middleware (cheaper than BaseHTTPMiddleware on the hot path): a body-size limit and
request metrics."""

from __future__ import annotations

import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import exceptions as ex
from .errors import ERRORS, error_body
from .metrics import Metrics


async def _send_error(send: Send, exc: ex.ServiceError) -> None:
    kind = ERRORS[type(exc)]
    body = error_body(kind.type, exc.message)
    await send(
        {
            "type": "http.response.start",
            "status": kind.status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """Refuse bodies over ``limit`` bytes with 413 before the app parses them."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        for k, v in scope["headers"]:
            if k == b"content-length":
                try:
                    declared = int(v)
                except ValueError:
                    await _send_error(send, ex.InvalidInput("invalid Content-Length"))
                    return
                if declared > self.limit:
                    await _send_error(send, ex.BodyTooLarge(f"body over {self.limit} bytes"))
                    return
        chunks: list[bytes] = []
        size = 0
        while True:
            msg = await receive()
            if msg["type"] == "http.disconnect":
                return
            chunk = msg.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await _send_error(send, ex.BodyTooLarge(f"body over {self.limit} bytes"))
                return
            chunks.append(chunk)
            if not msg.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: waits for the disconnect

        await self.app(scope, replay, send)


class RequestMetrics:
    """Requests and latency by route. ``routes`` are the app's own paths; anything else is
    labelled "other", so a scan of random URLs cannot grow the label set."""

    def __init__(self, app: ASGIApp, metrics: Metrics, routes: frozenset[str]) -> None:
        self.app, self.metrics, self.routes = app, metrics, routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route = scope["path"] if scope["path"] in self.routes else "other"
        status: dict[str, Any] = {"code": 500}
        t0 = time.perf_counter()

        async def send_wrapper(msg: Message) -> None:
            if msg["type"] == "http.response.start":
                status["code"] = msg["status"]
            await send(msg)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            self.metrics.requests.labels(route, str(status["code"])).inc()
            self.metrics.latency.labels(route).observe(time.perf_counter() - t0)
