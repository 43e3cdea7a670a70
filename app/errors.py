"""The one table from service errors to HTTP, and the one error shape:
``{"error": {"type", "message"}}``. The README's error table and the OpenAPI responses are built
from (and tested against) ``ERRORS``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from . import exceptions as ex
from .schemas import ErrorResponse


@dataclass(frozen=True)
class HttpError:
    status: int
    type: str
    when: str


ERRORS: dict[type[ex.ServiceError], HttpError] = {
    ex.Unauthorized: HttpError(
        401, "unauthorized", "API keys are configured and none was sent (`Authorization: Bearer <key>`)"
    ),
    ex.Forbidden: HttpError(403, "forbidden", "wrong key, or reload without the admin key"),
    ex.NotFound: HttpError(
        404, "not_found", "unknown route, or a `/classify` or `/v1/rerank` `model` this server does not serve"
    ),
    ex.MethodNotAllowed: HttpError(405, "method_not_allowed", "the route does not take this method"),
    ex.ReloadFailed: HttpError(
        409, "reload_failed", "the asked version failed to load, verify or warm up; the old one keeps serving"
    ),
    ex.TooManyItems: HttpError(
        413,
        "too_many_items",
        "more than `REWARDGATE_MAX_ITEMS` items, or more than the whole queue (`REWARDGATE_MAX_QUEUE`) can hold",
    ),
    ex.BodyTooLarge: HttpError(413, "too_large", "a body over `REWARDGATE_MAX_BODY_BYTES`"),
    ex.UnsupportedMediaType: HttpError(415, "unsupported_media_type", "the body is not JSON"),
    ex.InvalidInput: HttpError(
        422,
        "invalid_input",
        "malformed JSON, wrong types, unknown fields, empty items, a field over `REWARDGATE_MAX_CHARS`",
    ),
    ex.QueueFull: HttpError(
        429, "queue_full", "the queue holds `REWARDGATE_MAX_QUEUE` items; retry after `Retry-After` seconds"
    ),
    ex.ClientClosed: HttpError(
        499, "client_closed", "the caller disconnected before its answer was ready (logged, never seen by it)"
    ),
    ex.InferenceFailed: HttpError(
        500, "inference_failed", "the forward pass of the batch failed (each caller in it gets this)"
    ),
    ex.NotReady: HttpError(503, "not_ready", "no model loaded yet, or the last load failed (the message says why)"),
    ex.ShuttingDown: HttpError(
        503,
        "shutting_down",
        "the server is draining on SIGTERM, or its drain time (`REWARDGATE_DRAIN_TIMEOUT_S`) ran out before the work was done; retry after `Retry-After` seconds, on another replica",
    ),
    ex.TimedOut: HttpError(504, "timeout", "the item waited longer than `REWARDGATE_REQUEST_TIMEOUT_S`"),
}
INTERNAL = HttpError(500, "internal_error", "a bug: anything not in this table")
_BY_STATUS = {e.status: e for e in reversed(ERRORS.values())}  # for errors Starlette raises itself


def error_body(type: str, message: str) -> bytes:
    return json.dumps({"error": {"type": type, "message": message}}).encode()


def to_response(exc: ex.ServiceError, extra_headers: dict[str, str] | None = None) -> JSONResponse:
    kind = ERRORS.get(type(exc), INTERNAL)
    headers = dict(extra_headers or {})
    if exc.retry_after is not None:
        headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, ex.Unauthorized):
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse({"error": {"type": kind.type, "message": exc.message}}, kind.status, headers=headers)


def responses(*errors: type[ex.ServiceError]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for a route that can raise ``errors``."""
    out: dict[int | str, dict[str, Any]] = {}
    for e in errors:
        kind = ERRORS[e]
        entry = out.setdefault(kind.status, {"model": ErrorResponse, "description": ""})
        entry["description"] = "; ".join(filter(None, [entry["description"], f"`{kind.type}`: {kind.when}"]))
    return out


def _describe(exc: RequestValidationError) -> str:
    parts = []
    for e in exc.errors()[:5]:
        loc = ".".join(str(x) for x in e.get("loc", ()) if x != "body")
        parts.append(f"{loc or 'body'}: {e.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def install(app: FastAPI) -> None:
    @app.exception_handler(ex.ServiceError)
    async def _service_error(_: Request, exc: ex.ServiceError) -> JSONResponse:
        return to_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        # Never echo the input back: it may be long or sensitive.
        return to_response(ex.InvalidInput(_describe(exc)))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:  # FastAPI's "error parsing the body" (bad UTF-8, too deep): invalid input
            return to_response(ex.InvalidInput("the body is not valid JSON"))
        kind = _BY_STATUS.get(exc.status_code, INTERNAL)
        body = {"error": {"type": kind.type, "message": str(exc.detail)}}
        return JSONResponse(body, exc.status_code, headers=dict(exc.headers or {}))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        return to_response(ex.ServiceError(type(exc).__name__))
