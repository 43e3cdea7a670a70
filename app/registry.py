"""The model registry: which version is served, and switching versions without dropping a request.

A reload loads and warms the new version beside the old one, then swaps one reference. Requests
already queued keep the scorer they were given, so they finish on the old version; the old one
is freed when the last of them is done. Any failure to load (a bad manifest, a weight that does
not fit, a failing warm-up, out of memory) is a ``ReloadFailed``: the old version keeps serving.

While a version is served, the registry holds a lease on it in the store, so ``python -m
model_store gc`` never deletes it from under a running service.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from model_store import StoreError, Version, check_name, open_store
from modeling.loader import load_version

from .exceptions import InvalidInput, NotReady, ReloadFailed
from .metrics import Metrics
from .scorer import Scorer
from .settings import Settings

log = logging.getLogger(__name__)
LEASE_RENEW_S = 3600.0  # well inside the object store's lease lifetime (model_store.object_store.LEASE_TTL_S)


class ModelRegistry:
    def __init__(self, settings: Settings, metrics: Metrics, torch_thread: ThreadPoolExecutor) -> None:
        self.settings = settings
        self.metrics = metrics
        self.store = open_store(settings.store, settings.store_options or None, settings.cache)
        self.torch_thread = torch_thread
        self.scorer: Scorer | None = None
        self.challenger: Scorer | None = None  # a second version scored off the request path
        self.challenger_share = settings.challenger_share
        self.last_error: str | None = None
        self._lock = asyncio.Lock()
        self._watch_task: asyncio.Task[None] | None = None

    def require(self) -> Scorer:
        if self.scorer is None:
            raise NotReady(f"no model loaded yet{': ' + self.last_error if self.last_error else ''}")
        return self.scorer

    def _load(self, version: Version) -> Scorer:
        s = self.settings
        loaded = load_version(
            self.store, s.model, version.id, device=s.device, dtype=s.dtype, verify=False, cpu_runtime=s.cpu_runtime
        )
        scorer = Scorer(loaded)
        took = scorer.warmup()
        log.info("warmed %s/%s in %.2fs", scorer.name, scorer.version, took)
        return scorer

    async def reload(self, version: str | None = None) -> dict[str, Any]:
        """Load ``version`` (default: the pinned one, else ``current``) and swap it in. On any
        failure the served version stays and ``ReloadFailed`` says why."""
        target = version or self.settings.version or "current"
        if target != "current":
            try:
                check_name(target)
            except StoreError as exc:
                self.metrics.reloads.labels("refused").inc()
                raise InvalidInput(str(exc)) from None
        async with self._lock:
            t0 = time.perf_counter()
            previous = self.scorer.version if self.scorer else None
            leased: str | None = None
            try:
                # Checksums in a side thread (pure hashing); loading and warm-up on the torch
                # thread, which runs every forward: torch ops issued from a second thread make
                # later CPU forwards ~40% slower (a second OpenMP team). Queued work waits for
                # the load; none fails. Versions are immutable once published, so verifying
                # before loading leaves no gap that matters.
                found = self.store.resolve(self.settings.model, target)
                self.store.lease(found.name, found.id)
                leased = found.id
                await asyncio.to_thread(self.store.verify, found)
                loop = asyncio.get_running_loop()
                scorer = await loop.run_in_executor(self.torch_thread, self._load, found)
            except Exception as exc:  # anything at all: a reload must never take the service down
                if leased and leased != previous:
                    self.store.release(self.settings.model, leased)
                reason = str(exc) if isinstance(exc, StoreError) else f"{type(exc).__name__}: {exc}"
                self.last_error = reason
                self.metrics.reloads.labels("failed").inc()
                log.error("reload of %s refused: %s", target, reason)
                raise ReloadFailed(f"{reason}; still serving {previous or 'nothing'}") from None
            self.scorer = scorer  # the swap: one reference, atomic for the event loop
            if previous and previous != scorer.version:
                self.store.release(self.settings.model, previous)
            self.last_error = None
            self.metrics.set_model(scorer.name, scorer.version, scorer.device, scorer.dtype, scorer.runtime)
            self.metrics.ready.set(1)
            self.metrics.reloads.labels("success").inc()
            gc.collect()  # the old version's tensors go as soon as its last batch is done
            return {"previous": previous, "version": scorer.version, "seconds": round(time.perf_counter() - t0, 3)}

    async def initial_load(self) -> None:
        """The first load, in the background: until it succeeds ``/readyz`` answers 503 with the
        reason (``last_error``); with a watcher, a later ``current`` is picked up."""
        try:
            await self.reload()
        except ReloadFailed as exc:
            log.error("no model served yet: %s", exc.message)
        await self.initial_challenger()

    async def set_challenger(self, version: str | None, share: float | None = None) -> dict[str, Any]:
        """Load ``version`` as the challenger (None removes it); ``share`` of gated items it scores."""
        if share is not None:
            self.challenger_share = share
        old = self.challenger
        if version is None:
            self.challenger = None
        else:
            try:
                check_name(version)
            except StoreError as exc:
                raise InvalidInput(str(exc)) from None
            async with self._lock:
                try:
                    found = self.store.resolve(self.settings.model, version)
                    self.store.lease(found.name, found.id)
                    await asyncio.to_thread(self.store.verify, found)
                    loop = asyncio.get_running_loop()
                    self.challenger = await loop.run_in_executor(self.torch_thread, self._load, found)
                except Exception as exc:
                    reason = str(exc) if isinstance(exc, StoreError) else f"{type(exc).__name__}: {exc}"
                    log.error("challenger %s refused: %s", version, reason)
                    raise ReloadFailed(f"challenger {version}: {reason}") from None
        replaced = old is not None and (self.challenger is None or old.version != self.challenger.version)
        if old is not None and replaced and (self.scorer is None or old.version != self.scorer.version):
            self.store.release(self.settings.model, old.version)
        log.info("challenger: %s at share %.2f", self.challenger and self.challenger.version, self.challenger_share)
        return self.challenger_info()

    def challenger_info(self) -> dict[str, Any]:
        c = self.challenger
        return {"version": c.version if c else None, "share": self.challenger_share if c else 0.0}

    async def initial_challenger(self) -> None:
        if self.settings.challenger:
            try:
                await self.set_challenger(self.settings.challenger)
            except (ReloadFailed, InvalidInput) as exc:
                log.error("no challenger: %s", exc.message)

    def close(self) -> None:
        for s in (self.scorer, self.challenger):
            if s is not None:
                self.store.release(self.settings.model, s.version)

    def start_watch(self) -> None:
        if self.settings.watch_interval_s > 0 and not self.settings.version:
            self._watch_task = asyncio.create_task(self._watch(), name="rewardgate-store-watch")

    async def stop_watch(self) -> None:
        if self._watch_task:
            self._watch_task.cancel()
            try:
                await self._watch_task
            except asyncio.CancelledError:
                pass

    async def _watch(self) -> None:
        failed: str | None = None
        renewed = time.monotonic()
        while True:
            await asyncio.sleep(self.settings.watch_interval_s)
            try:
                if time.monotonic() - renewed > LEASE_RENEW_S:
                    # an object store's leases expire unless renewed (a pod that died cannot release)
                    for s in (self.scorer, self.challenger):
                        if s is not None:
                            await asyncio.to_thread(self.store.lease, self.settings.model, s.version)
                    renewed = time.monotonic()
                current = await asyncio.to_thread(self.store.current, self.settings.model)
                served = self.scorer.version if self.scorer else None
                if current and current != served and current != failed:
                    await self.reload("current")
                    failed = None
            except ReloadFailed:
                failed = current  # logged by reload; do not retry a broken version every tick
            except Exception:  # the store may be mid-write or unmounted: keep watching
                log.exception("store watcher: checking %s failed; trying again", self.settings.model)

    def versions(self) -> dict[str, Any]:
        name = self.settings.model
        current = self.store.current(name)
        served = self.scorer.version if self.scorer else None
        out: list[dict[str, Any]] = []
        for vid in reversed(self.store.list_versions(name)):
            try:
                m = self.store.resolve(name, vid).manifest
            except StoreError as exc:
                out.append({"version": vid, "error": str(exc)})
                continue
            out.append(
                {
                    "version": vid,
                    "created_at": m.created_at,
                    "base_model": m.base_model,
                    "metrics": m.metrics.model_dump() if m.metrics else None,
                    "threshold": m.threshold.value,
                    "current": vid == current,
                    "served": vid == served,
                }
            )
        return {
            # OpenAI's list shape first, for vLLM-style clients that read data[0].id
            "object": "list",
            "data": [
                {
                    "id": name,
                    "object": "model",
                    "owned_by": "rewardgate",
                    "version": served,
                    "runtime": self.scorer.runtime if self.scorer else None,
                }
            ],
            "name": name,
            "current": current,
            "served": served,
            "runtime": self.scorer.runtime if self.scorer else None,
            "champion": served,
            "challenger": self.challenger_info(),
            "versions": out,
        }
