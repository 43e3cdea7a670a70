"""Dynamic micro-batching: many callers, one forward pass.

``submit`` puts one job per item on a bounded queue and awaits their futures. One worker task
cuts batches by a token budget and an item cap and runs each forward in a single worker thread,
off the event loop. A lone caller never waits: when the worker is idle it starts at once, and
work that arrives during a forward forms the next batch. Under load (the last batch held several
items) the worker may wait up to ``max_wait_ms`` for the batch to fill as much as the last one.

Each job carries the scorer (model version) chosen when its request arrived, and a batch only
holds jobs of one scorer, so a response is scored by one version even across a hot reload.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import torch

from .exceptions import InferenceFailed, QueueFull, ShuttingDown, TimedOut, TooManyItems
from .metrics import Metrics
from .scorer import Scorer
from .settings import Settings

log = logging.getLogger(__name__)
BACKGROUND_QUEUE = 256  # challenger items waiting at most; beyond, new challenger work is skipped
BACKGROUND_BATCH_ITEMS = 4  # challenger items per forward at most: a live item waits for at most one such forward


@dataclass(eq=False)
class Job:
    ids: list[int]
    scorer: Scorer
    future: asyncio.Future[float]
    enqueued: float = field(default_factory=time.perf_counter)
    started: float = 0.0  # its batch's forward began
    finished: float = 0.0


@dataclass
class Timing:
    """Where a request's items spent their time (seconds; the slowest item of the request)."""

    queue: float = 0.0
    inference: float = 0.0

    def take(self, jobs: list[Job]) -> None:
        done = [j for j in jobs if j.finished]
        if done:
            self.queue = max(j.started - j.enqueued for j in done)
            self.inference = max(j.finished - j.started for j in done)


def cut(queue: deque[Job], max_items: int, max_tokens: int) -> tuple[list[Job], deque[Job]]:
    """The next batch from the head of ``queue``, and what stays queued, in order. A batch holds
    jobs of one scorer (the head's), at most ``max_items`` of them, and at most ``max_tokens`` as
    that scorer counts a batch's cost; the first job always fits, however long. Jobs whose caller
    is gone are dropped."""
    while queue and queue[0].future.done():
        queue.popleft()  # cancelled: its caller is gone
    if not queue:
        return [], queue
    scorer = queue[0].scorer
    batch: list[Job] = []
    total = width = 0
    keep: deque[Job] = deque()
    while queue:
        job = queue.popleft()
        if job.future.done():
            continue
        if job.scorer is not scorer:
            keep.append(job)  # another version (a reload came between): a later batch
            continue
        n = len(job.ids)
        full = len(batch) >= max_items
        if full or (batch and scorer.cost(len(batch) + 1, total + n, max(width, n)) > max_tokens):
            keep.append(job)
            keep.extend(queue)
            queue.clear()
            break
        batch.append(job)
        total += n
        width = max(width, n)
    return batch, keep


class Batcher:
    def __init__(self, settings: Settings, metrics: Metrics, executor: ThreadPoolExecutor) -> None:
        # On CPU, ~2k-token batches keep activations in cache and still beat one item per
        # forward; a GPU wants far larger batches to fill its cores.
        cuda = settings.device != "cpu" and torch.cuda.is_available()
        self.max_tokens = settings.max_batch_tokens or (32768 if cuda else 2048)
        self.max_items = settings.max_batch_items
        self.max_wait = settings.max_wait_ms / 1000
        self.max_queue = settings.max_queue
        self.timeout = settings.request_timeout_s
        self.metrics = metrics
        self.pending: deque[Job] = deque()
        self.background: deque[Job] = deque()  # low priority: scored only when no live item waits
        self.executor = executor  # the one torch thread (see main.py)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._last_batch = 1
        self.busy = False
        self.inflight: list[Job] = []  # the batch whose forward is running
        self.closed = False  # drain time ran out: no new work, unfinished work answered ShuttingDown
        self.peak_depth = 0  # high-water mark, for tests and soak runs

    # -- public -----------------------------------------------------------------------------
    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="rewardgate-batcher")

    async def drain(self, timeout: float) -> None:
        """Let queued and running work finish for up to ``timeout`` seconds; then every caller
        still waiting (queued, or in the batch being computed) gets ``ShuttingDown``, a 503 with
        Retry-After that tells it to try elsewhere, and new work is refused the same way. The
        forward already running is not interrupted (it cannot be); its result is dropped."""
        deadline = time.monotonic() + timeout
        while (self.pending or self.busy) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        self.closed = True
        err = ShuttingDown("the server is shutting down: drain time ran out before this work was done")
        for job in (*self.inflight, *self.pending, *self.background):
            if not job.future.done():
                job.future.set_exception(err)
        self.pending.clear()
        self.background.clear()

    async def stop(self, drain_timeout: float) -> None:
        """``drain``, then stop the worker."""
        await self.drain(drain_timeout)
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    @property
    def depth(self) -> int:
        return len(self.pending)

    async def submit(self, scorer: Scorer, seqs: list[list[int]], timing: Timing | None = None) -> list[float]:
        if self.closed:
            raise ShuttingDown("the server is shutting down")
        if len(seqs) > self.max_queue:  # no retry could ever cure this one
            raise TooManyItems(f"{len(seqs)} items; the whole queue holds at most {self.max_queue}")
        if len(self.pending) + len(seqs) > self.max_queue:
            raise QueueFull(f"queue full ({len(self.pending)} items waiting); retry shortly")
        loop = asyncio.get_running_loop()
        jobs = [Job(ids, scorer, loop.create_future()) for ids in seqs]
        self.pending.extend(jobs)
        self.peak_depth = max(self.peak_depth, len(self.pending))
        self.metrics.queue_depth.set(len(self.pending))
        self._wake.set()
        try:
            if len(jobs) == 1:  # the common case: skip gather's extra future
                return [await asyncio.wait_for(jobs[0].future, self.timeout)]
            return await asyncio.wait_for(asyncio.gather(*(j.future for j in jobs)), self.timeout)
        except TimeoutError:
            raise TimedOut(f"not scored within {self.timeout:g}s") from None
        finally:
            # Caller gone, timed out or failed: whatever is still queued is dropped before compute.
            for j in jobs:
                if not j.future.done():
                    j.future.cancel()
            if timing is not None:
                timing.take(jobs)

    def submit_background(self, scorer: Scorer, seqs: list[list[int]]) -> asyncio.Future[list[float]] | None:
        """Queue low-priority work (challenger scoring); None when its queue is full. The queue is
        short on purpose: when live traffic leaves too little idle time, challenger work is
        skipped (and counted) rather than piling up behind it."""
        if self.closed or len(self.background) + len(seqs) > min(self.max_queue, BACKGROUND_QUEUE):
            return None
        loop = asyncio.get_running_loop()
        jobs = [Job(ids, scorer, loop.create_future()) for ids in seqs]
        self.background.extend(jobs)
        self._wake.set()
        return asyncio.gather(*(j.future for j in jobs))

    # -- worker -----------------------------------------------------------------------------
    def _take(self) -> list[Job]:
        """The next batch: live work first; background work (challenger scoring) only when no
        live item waits, so it never delays a caller."""
        batch, self.pending = cut(self.pending, self.max_items, self.max_tokens)
        if not batch and self.background:
            # small batches: a live item that arrives meanwhile waits for at most one of them
            items = max(1, min(self.max_items, BACKGROUND_BATCH_ITEMS))
            batch, self.background = cut(self.background, items, max(1, self.max_tokens // 8))
        return batch

    async def _fill(self) -> None:
        """Under load, give the batch up to ``max_wait`` to grow to the last batch's size."""
        if self.max_wait <= 0 or self._last_batch <= 1:
            return
        deadline = time.perf_counter() + self.max_wait
        while len(self.pending) < min(self._last_batch, self.max_items):
            left = deadline - time.perf_counter()
            if left <= 0:
                return
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), left)
            except TimeoutError:
                return

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        m = self.metrics
        while True:
            if not self.pending and not self.background:
                self._wake.clear()
                await self._wake.wait()
            await self._fill()
            batch = self._take()
            m.queue_depth.set(len(self.pending))
            if not batch:
                continue
            scorer = batch[0].scorer
            seqs = [j.ids for j in batch]
            now = time.perf_counter()
            for j in batch:
                j.started = now
                m.queue_wait.observe(now - j.enqueued)
            self.busy, self.inflight = True, batch
            try:
                scores = await loop.run_in_executor(self.executor, scorer.forward, seqs)
            except Exception as exc:
                log.exception("forward pass of %d items failed", len(batch))
                err = InferenceFailed(f"the forward pass failed: {type(exc).__name__}")
                for j in batch:
                    if not j.future.done():
                        j.future.set_exception(err)
                continue
            finally:
                self.busy, self.inflight = False, []
            done = time.perf_counter()
            elapsed = done - now
            for j in batch:
                j.finished = done
            lengths = [len(s) for s in seqs]
            m.inference.observe(elapsed)
            m.batch_size.observe(len(batch))
            m.batch_tokens.observe(sum(lengths))
            m.real_tokens.inc(sum(lengths))
            m.computed_tokens.inc(scorer.computed_tokens(lengths))
            m.items.inc(len(batch))
            self._last_batch = len(batch)
            for j, s in zip(batch, scores, strict=True):
                if not j.future.done():
                    j.future.set_result(s)
