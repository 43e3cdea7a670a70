"""The model registry: which versions are served (the champion, and a challenger), and switching
versions without dropping a request.

Every version comes into service one way, ``_acquire``: resolve, lease, verify, load and warm,
none of it on the event loop (for an ``s3://`` store, resolving and leasing are network calls with
retries of up to seconds, during which the loop must keep answering). A reload loads and warms the
new version beside the old one, then swaps one reference. Requests already queued keep the scorer
they were given, so they finish on the old version; the old one is freed when the last of them is
done. Any failure to load (a bad manifest, a weight that does not fit, a failing warm-up, out of
memory) is a ``ReloadFailed``: the old version keeps serving.

While a version is served, the registry holds a lease on it in the store (``leases.py``: counted
per version, released exactly once), so ``python -m model_store gc`` never deletes it from under a
running service.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from concurrent.futures import ThreadPoolExecutor

from model_store import ModelStore, StoreError, Version, check_name, open_store
from modeling.loader import LoadedModel, load_files

from .exceptions import InvalidInput, NotReady, ReloadFailed, ShuttingDown
from .leases import Leases
from .metrics import Metrics
from .schemas import ChallengerInfo, ReloadResult
from .scorer import Scorer
from .settings import Settings

log = logging.getLogger(__name__)
LEASE_RENEW_S = 3600.0  # well inside the object store's lease lifetime (model_store.object_store.LEASE_TTL_S)


def _reason(exc: Exception) -> str:
    return str(exc) if isinstance(exc, StoreError) else f"{type(exc).__name__}: {exc}"


def _checked(version: str) -> str:
    try:
        return check_name(version)
    except StoreError as exc:
        raise InvalidInput(str(exc)) from None


class ModelRegistry:
    def __init__(
        self, settings: Settings, metrics: Metrics, torch_thread: ThreadPoolExecutor, store: ModelStore | None = None
    ) -> None:
        self.settings = settings
        self.metrics = metrics
        # ``store``: an already open store (tests wrap a real one); default: the one settings name
        self.store = store or open_store(settings.store, settings.store_options or None, settings.cache)
        self.leases = Leases(self.store, settings.model)
        self.torch_thread = torch_thread
        self.scorer: Scorer | None = None
        self.challenger: Scorer | None = None  # a second version scored off the request path
        self.challenger_share = settings.challenger_share
        self.last_error: str | None = None
        self._lock = asyncio.Lock()  # one acquisition at a time
        self._closed = False
        self._watch_task: asyncio.Task[None] | None = None

    def require(self) -> Scorer:
        if self.scorer is None:
            raise NotReady(f"no model loaded yet{': ' + self.last_error if self.last_error else ''}")
        return self.scorer

    # -- acquiring and letting go ---------------------------------------------------------------
    async def _acquire(self, target: str) -> Scorer:
        """The one way a version comes into service. On success its lease is held once for the
        returned scorer (``_retire`` drops it); on any failure, cancellation included, nothing
        stays held."""
        if self._closed:
            raise ShuttingDown("the server is shutting down")
        found = await asyncio.to_thread(self.store.resolve, self.settings.model, target)
        try:
            await self.leases.hold(found.id)  # counts before its first await: always owes one drop
            # Checksums in a side thread (pure hashing; for an object store, the download);
            # loading and warm-up on the torch thread, which runs every forward: torch ops issued
            # from a second thread make later CPU forwards ~40% slower (a second OpenMP team).
            # Queued work waits for the load; none fails. Versions are immutable once published,
            # so verifying before loading leaves no gap that matters.
            await asyncio.to_thread(self.store.verify, found)
            scorer = await asyncio.get_running_loop().run_in_executor(self.torch_thread, self._load, found)
            if self._closed:  # shut down while loading: nothing will serve it
                raise ShuttingDown("the server is shutting down")
            return scorer
        except BaseException:
            await self.leases.drop(found.id)
            raise

    async def _retire(self, scorer: Scorer | None) -> None:
        if scorer is not None:
            await self.leases.drop(scorer.version)

    def _load(self, version: Version) -> Scorer:
        """On the torch thread: from the version already resolved and verified, so no store call
        (slow for an object store) ever holds up the thread every forward runs on."""
        s = self.settings
        t0 = time.perf_counter()
        spec = version.manifest.input
        model, tokenizer, device, dtype = load_files(
            version.path, spec, s.device, s.dtype, version.id, cpu_runtime=s.cpu_runtime
        )
        loaded = LoadedModel(version=version, model=model, tokenizer=tokenizer, spec=spec, device=device, dtype=dtype)
        took = time.perf_counter() - t0
        scorer = Scorer(loaded)
        warm = scorer.warmup()
        log.info("loaded %s/%s on %s %s in %.1fs; warmed in %.2fs", version.name, version.id, device, dtype, took, warm)
        return scorer

    # -- the champion ---------------------------------------------------------------------------
    async def reload(self, version: str | None = None) -> ReloadResult:
        """Load ``version`` (default: the pinned one, else ``current``) and swap it in. On any
        failure the served version stays and ``ReloadFailed`` says why."""
        target = version or self.settings.version or "current"
        if target != "current":
            try:
                _checked(target)
            except InvalidInput:
                self.metrics.reloads.labels("refused").inc()
                raise
        async with self._lock:
            t0 = time.perf_counter()
            previous = self.scorer.version if self.scorer else None
            try:
                scorer = await self._acquire(target)
            except ShuttingDown:
                raise
            except Exception as exc:  # anything at all: a reload must never take the service down
                reason = _reason(exc)
                self.last_error = reason
                self.metrics.reloads.labels("failed").inc()
                log.error("reload of %s refused: %s", target, reason)
                raise ReloadFailed(f"{reason}; still serving {previous or 'nothing'}") from None
            old, self.scorer = self.scorer, scorer  # the swap: one reference, atomic for the event loop
            await self._retire(old)
            self.last_error = None
            self.metrics.set_model(scorer.name, scorer.version, scorer.device, scorer.dtype, scorer.runtime)
            self.metrics.ready.set(1)
            self.metrics.reloads.labels("success").inc()
            gc.collect()  # the old version's tensors go as soon as its last batch is done
            return ReloadResult(previous=previous, version=scorer.version, seconds=round(time.perf_counter() - t0, 3))

    async def initial_load(self) -> None:
        """The first load, in the background: until it succeeds ``/readyz`` answers 503 with the
        reason (``last_error``); with a watcher, a later ``current`` is picked up."""
        try:
            await self.reload()
        except (ReloadFailed, InvalidInput, ShuttingDown) as exc:  # InvalidInput: a malformed pinned version
            self.last_error = self.last_error or exc.message
            log.error("no model served yet: %s", exc.message)
        await self.initial_challenger()

    # -- the challenger -------------------------------------------------------------------------
    async def set_challenger(self, version: str | None, share: float | None = None) -> ChallengerInfo:
        """Load ``version`` as the challenger (None removes it); ``share`` of gated items it scores.
        When the version cannot be loaded, the challenger there was stays."""
        if share is not None:
            self.challenger_share = share
        if version is None:
            old, self.challenger = self.challenger, None
        else:
            _checked(version)
            async with self._lock:
                try:
                    scorer = await self._acquire(version)
                except ShuttingDown:
                    raise
                except Exception as exc:
                    reason = _reason(exc)
                    log.error("challenger %s refused: %s", version, reason)
                    raise ReloadFailed(f"challenger {version}: {reason}") from None
                old, self.challenger = self.challenger, scorer
        await self._retire(old)
        log.info("challenger: %s at share %.2f", self.challenger and self.challenger.version, self.challenger_share)
        return self.challenger_info()

    def challenger_info(self) -> ChallengerInfo:
        c = self.challenger
        return ChallengerInfo(version=c.version if c else None, share=self.challenger_share if c else 0.0)

    async def initial_challenger(self) -> None:
        if self.settings.challenger:
            try:
                await self.set_challenger(self.settings.challenger)
            except (ReloadFailed, InvalidInput, ShuttingDown) as exc:
                log.error("no challenger: %s", exc.message)

    # -- shutdown -------------------------------------------------------------------------------
    async def close(self) -> None:
        """Let go of every served version (their leases are released); a load still running
        lets go of its own when it ends."""
        self._closed = True
        held = (self.scorer, self.challenger)
        self.scorer = self.challenger = None
        for scorer in held:
            await self._retire(scorer)

    # -- following the store's `current` --------------------------------------------------------
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
            current: str | None = None
            try:
                if time.monotonic() - renewed > LEASE_RENEW_S:
                    await self.leases.renew()
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
