"""Bearer-token checks: API keys for scoring and model routes, admin keys for reload."""

from __future__ import annotations

import hmac

from fastapi import Request

from .exceptions import Forbidden, Unauthorized
from .state import state


def _token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.headers.get("x-api-key") or None


def _matches(token: str, keys: list[str]) -> bool:
    # compare against every key, so timing says nothing about which (or whether one) matched
    ok = False
    for k in keys:
        ok |= hmac.compare_digest(token.encode(), k.encode())
    return ok


def check(request: Request, keys: list[str]) -> None:
    if not keys:
        return
    token = _token(request)
    if token is None:
        raise Unauthorized("missing API key (Authorization: Bearer <key>)")
    if not _matches(token, keys):
        raise Forbidden("invalid API key")


async def require_api_key(request: Request) -> None:
    check(request, state(request).settings.api_key_list)


async def require_admin_key(request: Request) -> None:
    s = state(request).settings
    if s.admin_key_list:
        check(request, s.admin_key_list)
    elif s.api_key_list:
        # keys are configured but no admin key: reload must not be open to every API caller
        raise Forbidden("reload needs an admin key (REWARDGATE_ADMIN_KEYS)")


async def require_metrics_key(request: Request) -> None:
    s = state(request).settings
    if s.metrics_auth:
        check(request, s.api_key_list)
