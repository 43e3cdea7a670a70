"""Store leases on the versions this process serves, counted per version.

The champion and the challenger may be one version, and a reload holds the old and the new one
for a moment: each holder counts once. The store's lease is taken when a version's count leaves
0 and released when it returns to 0, so a version is released exactly once, and never while
something here still serves it (``python -m model_store gc`` keeps leased versions).

Store calls are network round trips for an object store (with retries of up to seconds): they run
in a worker thread, never on the event loop, one at a time, so a lease and a release of the same
version can never overtake each other.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from typing import Protocol

log = logging.getLogger(__name__)


class LeaseStore(Protocol):
    """What leasing needs of a model store."""

    def lease(self, name: str, version: str) -> None: ...

    def release(self, name: str, version: str) -> None: ...


class Leases:
    def __init__(self, store: LeaseStore, name: str) -> None:
        self._store = store
        self._name = name
        self._counts: Counter[str] = Counter()  # holders per version: the truth
        self._leased: set[str] = set()  # what the store was told, brought in line with the counts
        self._lock = asyncio.Lock()

    def count(self, version: str) -> int:
        return self._counts[version]

    async def hold(self, version: str) -> None:
        """One more holder of ``version``. Counted before anything is awaited, so a caller that is
        cancelled here still owes exactly one ``drop``."""
        self._counts[version] += 1
        await self._settle(version)

    async def drop(self, version: str) -> None:
        """One holder fewer; the last one releases the store's lease."""
        if self._counts[version] <= 0:
            raise RuntimeError(f"lease on {version} dropped more often than held")
        self._counts[version] -= 1
        if not self._counts[version]:
            del self._counts[version]
        await self._settle(version)

    async def renew(self) -> None:
        """Touch every held lease again: an object store's leases expire unless renewed (a pod
        that died cannot release)."""
        async with self._lock:
            for version in sorted(self._leased):
                await asyncio.to_thread(self._store.lease, self._name, version)

    async def _settle(self, version: str) -> None:
        # Shielded: when the caller is cancelled (a shutdown during a reload) the store call still
        # completes and is recorded, so the store and the counts never disagree.
        await asyncio.shield(self._settle_now(version))

    async def _settle_now(self, version: str) -> None:
        async with self._lock:
            wanted = self._counts[version] > 0
            if wanted == (version in self._leased):
                return
            if wanted:
                await asyncio.to_thread(self._store.lease, self._name, version)
                self._leased.add(version)
                log.debug("leased %s/%s", self._name, version)
            else:
                await asyncio.to_thread(self._store.release, self._name, version)
                self._leased.discard(version)
                log.debug("released %s/%s", self._name, version)
