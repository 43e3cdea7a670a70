"""The batcher without a server: how batches are cut (app/batcher.py ``cut`` and ``_take``), and
what its drain answers when time runs out. The scorers are stand-ins that state their cost rule
(the two a real ``Scorer.cost`` has: real tokens when packed, padded width x items otherwise)."""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

import pytest

from app.batcher import BACKGROUND_BATCH_ITEMS, Batcher, Job, cut
from app.exceptions import ShuttingDown
from app.metrics import Metrics
from app.scorer import Scorer
from app.settings import Settings


class CostRule:
    """What the batcher asks of a scorer to cut a batch (and, for the drain test, a forward)."""

    def __init__(self, packed: bool, gate: threading.Event | None = None) -> None:
        self.packed = packed
        self.gate = gate

    def cost(self, count: int, total: int, width: int) -> int:
        return total if self.packed else width * count

    def computed_tokens(self, lengths: list[int]) -> int:
        return sum(lengths)

    def forward(self, seqs: list[list[int]]) -> list[float]:
        if self.gate is not None:
            self.gate.wait(30)
        return [float(len(s)) for s in seqs]


PACKED = cast(Scorer, CostRule(packed=True))
PADDED = cast(Scorer, CostRule(packed=False))


@pytest.fixture
def loop() -> Any:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def jobs(loop: asyncio.AbstractEventLoop, scorer: Scorer, *lengths: int) -> list[Job]:
    return [Job(list(range(n)), scorer, loop.create_future()) for n in lengths]


def lengths(batch: list[Job] | deque[Job]) -> list[int]:
    return [len(j.ids) for j in batch]


def test_packed_batches_fill_the_token_budget_and_keep_order(loop: Any) -> None:
    queue = deque(jobs(loop, PACKED, 40, 30, 30, 50, 10))
    batch, rest = cut(queue, max_items=100, max_tokens=100)
    assert lengths(batch) == [40, 30, 30] and lengths(rest) == [50, 10]  # 150 would pass 100
    batch, rest = cut(rest, max_items=100, max_tokens=100)
    assert lengths(batch) == [50, 10] and not rest


def test_padded_batches_count_width_times_items(loop: Any) -> None:
    # the same items: padded, 3 x 40 = 120 tokens are computed, so only two fit in 100
    batch, rest = cut(deque(jobs(loop, PADDED, 40, 30, 30, 50, 10)), max_items=100, max_tokens=100)
    assert lengths(batch) == [40, 30] and lengths(rest) == [30, 50, 10]
    # one long item widens the whole batch
    batch, rest = cut(deque(jobs(loop, PADDED, 10, 10, 60)), max_items=100, max_tokens=100)
    assert lengths(batch) == [10, 10] and lengths(rest) == [60]


def test_item_cap_and_a_first_item_over_budget(loop: Any) -> None:
    batch, rest = cut(deque(jobs(loop, PACKED, 1, 1, 1, 1, 1)), max_items=2, max_tokens=1000)
    assert lengths(batch) == [1, 1] and lengths(rest) == [1, 1, 1]
    # an item longer than the budget still goes, alone: it would otherwise never be scored
    batch, rest = cut(deque(jobs(loop, PACKED, 500, 1)), max_items=10, max_tokens=100)
    assert lengths(batch) == [500] and lengths(rest) == [1]


def test_a_batch_holds_one_version_and_gone_callers_are_dropped(loop: Any) -> None:
    other = cast(Scorer, CostRule(packed=True))  # a reload came between: another version
    queue = deque([*jobs(loop, PACKED, 5), *jobs(loop, other, 6), *jobs(loop, PACKED, 7, 8)])
    gone = jobs(loop, PACKED, 9)[0]
    gone.future.cancel()  # its caller left
    queue.appendleft(gone)
    batch, rest = cut(queue, max_items=10, max_tokens=1000)
    assert lengths(batch) == [5, 7, 8] and all(j.scorer is PACKED for j in batch)
    assert lengths(rest) == [6] and rest[0].scorer is other
    assert cut(deque([gone]), 10, 1000) == ([], deque())


def test_live_work_first_background_in_small_batches(loop: Any) -> None:
    settings = Settings(store="unused", max_batch_items=64, max_batch_tokens=800, device="cpu")
    with ThreadPoolExecutor(1) as executor:
        b = Batcher(settings, Metrics(), executor)
    b.background.extend(jobs(loop, PACKED, *[10] * 10))
    b.pending.extend(jobs(loop, PACKED, 10, 10))
    assert lengths(b._take()) == [10, 10]  # live items go first, all of them
    # no live item waits: challenger work, a few items at a time, a small share of the budget
    assert lengths(b._take()) == [10] * BACKGROUND_BATCH_ITEMS
    b.background = deque(jobs(loop, PACKED, 60, 60))
    assert lengths(b._take()) == [60]  # 120 would pass 800 // 8
    b.pending.extend(jobs(loop, PACKED, 10))
    assert lengths(b._take()) == [10]  # a live item that came meanwhile jumps the rest


def test_drain_answers_unfinished_work_shutting_down(loop: Any) -> None:
    """When drain time runs out: the batch being computed, the queued work and new work all get
    ``ShuttingDown`` (503 with Retry-After), never a cancellation (a bare 500)."""
    gate = threading.Event()
    slow = cast(Scorer, CostRule(packed=True, gate=gate))
    settings = Settings(store="unused", max_batch_items=1, device="cpu")
    executor = ThreadPoolExecutor(1)

    async def main() -> list[Any]:
        b = Batcher(settings, Metrics(), executor)
        b.start()
        first = asyncio.ensure_future(b.submit(slow, [[1, 2, 3]]))  # computed, held at the gate
        await asyncio.sleep(0.05)
        queued = asyncio.ensure_future(b.submit(slow, [[1], [2]]))
        await asyncio.sleep(0.05)
        assert b.busy and len(b.pending) == 2
        await b.stop(drain_timeout=0.2)
        late = asyncio.ensure_future(b.submit(slow, [[4]]))
        out = await asyncio.gather(first, queued, late, return_exceptions=True)
        gate.set()
        return out

    try:
        results = loop.run_until_complete(main())
    finally:
        gate.set()
        executor.shutdown(wait=True)
    assert [type(r) for r in results] == [ShuttingDown] * 3, results
    assert all(r.retry_after for r in results)


def test_drain_lets_work_that_finishes_in_time_finish(loop: Any) -> None:
    executor = ThreadPoolExecutor(1)

    async def main() -> list[float]:
        b = Batcher(Settings(store="unused", device="cpu"), Metrics(), executor)
        b.start()
        work = asyncio.ensure_future(b.submit(PACKED, [[1, 2], [3]]))
        await asyncio.sleep(0)  # queued
        await b.stop(drain_timeout=10)
        return await work

    try:
        assert loop.run_until_complete(main()) == [2.0, 1.0]
    finally:
        executor.shutdown(wait=True)
