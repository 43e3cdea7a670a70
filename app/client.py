"""A small client for the chatbot backend (sync and async).

    client = RewardGateClient("http://127.0.0.1:8000", api_key="...", fail_open=False)
    decision = client.gate([{"prompt": q, "response": reply}])
    if decision.results[0]["allowed"]: show(reply)
    pick = client.best_of(q, replies)          # best-of-n through POST /rank
    if pick.best is not None: show(replies[pick.best])

Retries 429 and 503 (and connection errors) honouring ``Retry-After``; when the service still
cannot answer, ``fail_open`` decides: True allows every item, False blocks every item; the result
says ``degraded=True`` either way (``best_of``: fail open picks the first reply, fail closed none).
``score()`` has no safe default, so it raises instead.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

Item = dict[str, str] | str
RETRY_STATUSES = (429, 503)


class RewardGateError(RuntimeError):
    def __init__(self, message: str, status: int | None = None, type: str | None = None) -> None:
        super().__init__(message)
        self.status, self.type = status, type


@dataclass
class GateDecision:
    results: list[dict[str, Any]]
    threshold: float | None = None
    model: dict[str, str] = field(default_factory=dict)
    degraded: bool = False
    error: str | None = None

    @property
    def allowed(self) -> list[bool]:
        return [bool(r["allowed"]) for r in self.results]


@dataclass
class BestOf:
    """``/rank``'s answer: ``best`` is the index of the best allowed reply, or None."""

    best: int | None
    order: list[int]
    results: list[dict[str, Any]]
    threshold: float | None = None
    model: dict[str, str] = field(default_factory=dict)
    degraded: bool = False
    error: str | None = None
    reasons: list[str] | None = None


def _delay(resp: httpx.Response | None, attempt: int, backoff: float, max_delay: float) -> float:
    if resp is not None:
        ra = resp.headers.get("retry-after")
        if ra:
            try:
                return min(float(ra), max_delay)
            except ValueError:
                pass
    return min(backoff * 2**attempt, max_delay)


def _raise_for(resp: httpx.Response) -> None:
    try:
        err = resp.json()["error"]
        raise RewardGateError(f"{resp.status_code} {err['type']}: {err['message']}", resp.status_code, err["type"])
    except (ValueError, KeyError, TypeError):
        raise RewardGateError(f"HTTP {resp.status_code}", resp.status_code) from None


def _degraded(items: Sequence[Any], fail_open: bool, error: str) -> GateDecision:
    d = "allow" if fail_open else "block"
    return GateDecision(
        [{"score": None, "allowed": fail_open, "decision": d} for _ in items], degraded=True, error=error
    )


def _unavailable(exc: RewardGateError) -> str:
    """The fallback's reason when the service could not answer; re-raises our own mistakes (bad
    input, bad key), which no fallback may hide."""
    if exc.status is not None and exc.status not in RETRY_STATUSES and exc.status < 500:
        raise exc
    return str(exc)


def _best_of(data: dict[str, Any]) -> BestOf:
    return BestOf(
        data["best"], data["order"], data["results"], data["threshold"], data["model"], reasons=data.get("reasons")
    )


def _best_of_degraded(responses: Sequence[str], fail_open: bool, error: str) -> BestOf:
    gate = _degraded(responses, fail_open, error)
    best = 0 if fail_open and responses else None
    return BestOf(best, list(range(len(responses))), gate.results, degraded=True, error=error)


class _Base:
    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        timeout: float = 5.0,
        retries: int = 3,
        backoff: float = 0.1,
        max_delay: float = 2.0,
        fail_open: bool = False,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.timeout, self.retries, self.backoff, self.max_delay = timeout, retries, backoff, max_delay
        self.fail_open = fail_open

    @staticmethod
    def _gate_body(items: Sequence[Item], threshold: float | None) -> dict[str, Any]:
        body: dict[str, Any] = {"items": list(items)}
        if threshold is not None:
            body["threshold"] = threshold
        return body

    @staticmethod
    def _rank_body(prompt: str, responses: Sequence[str], threshold: float | None) -> dict[str, Any]:
        body: dict[str, Any] = {"prompt": prompt, "responses": list(responses)}
        if threshold is not None:
            body["threshold"] = threshold
        return body


class RewardGateClient(_Base):
    def __init__(self, base_url: str, **kw: Any) -> None:
        super().__init__(base_url, **kw)
        self._http = httpx.Client(base_url=self.base_url, headers=self.headers, timeout=self.timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> RewardGateClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        resp: httpx.Response | None = None
        for attempt in range(self.retries + 1):
            try:
                resp = self._http.post(path, json=body)
            except httpx.TransportError as exc:
                if attempt == self.retries:
                    raise RewardGateError(f"cannot reach rewardgate: {exc}") from exc
                time.sleep(_delay(None, attempt, self.backoff, self.max_delay))
                continue
            if resp.status_code in RETRY_STATUSES and attempt < self.retries:
                time.sleep(_delay(resp, attempt, self.backoff, self.max_delay))
                continue
            if resp.status_code >= 400:
                _raise_for(resp)
            return resp.json()  # type: ignore[no-any-return]
        raise AssertionError("unreachable")

    def score(self, items: Sequence[Item]) -> list[float]:
        return [r["score"] for r in self._post("/score", {"items": list(items)})["results"]]

    def gate(self, items: Sequence[Item], threshold: float | None = None) -> GateDecision:
        try:
            data = self._post("/gate", self._gate_body(items, threshold))
        except RewardGateError as exc:
            return _degraded(items, self.fail_open, _unavailable(exc))
        return GateDecision(data["results"], data["threshold"], data["model"])

    def best_of(self, prompt: str, responses: Sequence[str], threshold: float | None = None) -> BestOf:
        """Best-of-n through ``POST /rank``: the best reply the gate allows (``best``, an index)."""
        try:
            data = self._post("/rank", self._rank_body(prompt, responses, threshold))
        except RewardGateError as exc:
            return _best_of_degraded(responses, self.fail_open, _unavailable(exc))
        return _best_of(data)


class AsyncRewardGateClient(_Base):
    def __init__(self, base_url: str, **kw: Any) -> None:
        super().__init__(base_url, **kw)
        self._http = httpx.AsyncClient(base_url=self.base_url, headers=self.headers, timeout=self.timeout)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncRewardGateClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        resp: httpx.Response | None = None
        for attempt in range(self.retries + 1):
            try:
                resp = await self._http.post(path, json=body)
            except httpx.TransportError as exc:
                if attempt == self.retries:
                    raise RewardGateError(f"cannot reach rewardgate: {exc}") from exc
                await asyncio.sleep(_delay(None, attempt, self.backoff, self.max_delay))
                continue
            if resp.status_code in RETRY_STATUSES and attempt < self.retries:
                await asyncio.sleep(_delay(resp, attempt, self.backoff, self.max_delay))
                continue
            if resp.status_code >= 400:
                _raise_for(resp)
            return resp.json()  # type: ignore[no-any-return]
        raise AssertionError("unreachable")

    async def score(self, items: Sequence[Item]) -> list[float]:
        return [r["score"] for r in (await self._post("/score", {"items": list(items)}))["results"]]

    async def gate(self, items: Sequence[Item], threshold: float | None = None) -> GateDecision:
        try:
            data = await self._post("/gate", self._gate_body(items, threshold))
        except RewardGateError as exc:
            return _degraded(items, self.fail_open, _unavailable(exc))
        return GateDecision(data["results"], data["threshold"], data["model"])

    async def best_of(self, prompt: str, responses: Sequence[str], threshold: float | None = None) -> BestOf:
        try:
            data = await self._post("/rank", self._rank_body(prompt, responses, threshold))
        except RewardGateError as exc:
            return _best_of_degraded(responses, self.fail_open, _unavailable(exc))
        return _best_of(data)
