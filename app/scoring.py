"""The one path every scoring route takes (``/score``, ``/gate``, ``/classify``, ``/predict``, and
any new one): check limits, tokenize, queue for the batcher, wait for the scores or the caller
leaving. A route adds only its request and answer shapes."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from . import exceptions as ex
from .batcher import Timing
from .scorer import Scorer
from .settings import Settings
from .state import AppState, state

INLINE_TOKENIZE_CHARS = 4096  # below this, a thread hop costs more than tokenizing in place
AUTH_ERRORS = (ex.Unauthorized, ex.Forbidden)
SCORING_ERRORS = (
    *AUTH_ERRORS,
    ex.TooManyItems,
    ex.BodyTooLarge,
    ex.InvalidInput,
    ex.QueueFull,
    ex.InferenceFailed,
    ex.NotReady,
    ex.ShuttingDown,
    ex.TimedOut,
)

Item = tuple[str | None, str]  # (prompt or None, response)


async def get_state(request: Request) -> AppState:
    return state(request)


StateDep = Annotated[AppState, Depends(get_state)]


def check_items(items: list[Item], settings: Settings, where: str = "items") -> None:
    """The service's limits on items, whichever route's shape they came in."""
    if len(items) > settings.max_items:
        raise ex.TooManyItems(f"{len(items)} items; at most {settings.max_items} per request")
    for i, (prompt, response) in enumerate(items):
        for field, text in (("prompt", prompt), ("response", response)):
            if text is not None and len(text) > settings.max_chars:
                raise ex.InvalidInput(f"{where}.{i}.{field}: longer than {settings.max_chars} characters")
        if not response.strip():
            raise ex.InvalidInput(f"{where}.{i}.response: empty text")


def _ms(seconds: float) -> str:
    return str(round(seconds * 1000))


@dataclass
class Scored:
    """One request's scores, the version that gave them, and where its time went."""

    scorer: Scorer
    items: list[Item]
    scores: list[float]
    truncated: list[bool]
    tokens: int
    timing: Timing
    tokenization_s: float
    started: float

    def headers(self) -> dict[str, str]:
        """TEI's timing headers (milliseconds), on every scoring route."""
        return {
            "x-total-time": _ms(time.perf_counter() - self.started),
            "x-tokenization-time": _ms(self.tokenization_s),
            "x-queue-time": _ms(self.timing.queue),
            "x-inference-time": _ms(self.timing.inference),
        }


async def score_items(request: Request, st: AppState, items: list[Item], where: str = "items") -> Scored:
    """Check limits, tokenize, queue for the batcher, and wait for the scores (or the caller
    leaving)."""
    started = time.perf_counter()
    check_items(items, st.settings, where)
    if st.draining:
        raise ex.ShuttingDown("the server is shutting down")
    scorer = st.registry.require()  # pinned for the whole request, across reloads
    t0 = time.perf_counter()
    if sum(len(r) + len(p or "") for p, r in items) > INLINE_TOKENIZE_CHARS:
        seqs, truncated = await asyncio.to_thread(scorer.encode, items)
    else:
        seqs, truncated = scorer.encode(items)
    tokenization_s = time.perf_counter() - t0
    timing = Timing()
    work = asyncio.ensure_future(st.batcher.submit(scorer, seqs, timing))
    gone = asyncio.ensure_future(request.receive())  # resolves only when the client disconnects
    try:
        await asyncio.wait((work, gone), return_when=asyncio.FIRST_COMPLETED)
    finally:
        gone.cancel()
    if not work.done():
        work.cancel()  # the caller left: its queued items are dropped before compute
        raise ex.ClientClosed("client disconnected")
    scores = work.result()
    for s in scores:
        st.metrics.scores.observe(s)
    return Scored(scorer, items, scores, truncated, sum(len(q) for q in seqs), timing, tokenization_s, started)
