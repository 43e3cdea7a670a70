"""Training batches of preference pairs that share their items.

A prompt ranked with k responses gives up to k(k-1)/2 pairs but only k distinct items. Pairs are
batched by prompt and every distinct (prompt, response) item is scored once per batch, so a batch
of 32 pairs from rankings data costs about as many forwards as its distinct items (often a third
of 64), and each pair's Bradley-Terry term reads the two scores it needs.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass

from .data import Pair

Item = tuple[str | None, str]


@dataclass(frozen=True)
class PairIndex:
    """The distinct items of a list of pairs, and each pair's chosen and rejected item."""

    items: list[Item]
    chosen: list[int]
    rejected: list[int]

    @classmethod
    def of(cls, pairs: list[Pair]) -> PairIndex:
        index: dict[Item, int] = {}
        chosen = [index.setdefault((p.prompt, p.chosen), len(index)) for p in pairs]
        rejected = [index.setdefault((p.prompt, p.rejected), len(index)) for p in pairs]
        return cls(list(index), chosen, rejected)


@dataclass(frozen=True)
class Batch:
    pairs: list[int]  # indices into the pair list
    items: list[int]  # the distinct items those pairs need, each once
    chosen: list[int]  # per pair: the position of its chosen item in ``items``
    rejected: list[int]


def _batch(pairs: list[int], index: PairIndex) -> Batch:
    items = sorted({index.chosen[i] for i in pairs} | {index.rejected[i] for i in pairs})
    at = {item: k for k, item in enumerate(items)}
    return Batch(pairs, items, [at[index.chosen[i]] for i in pairs], [at[index.rejected[i]] for i in pairs])


def prompt_batches(
    pairs: list[Pair], index: PairIndex, lengths: list[int], batch_size: int, rng: random.Random, group: bool
) -> list[Batch]:
    """Shuffled batches of ``batch_size`` pairs that keep a prompt's pairs together (but for the
    prompts cut at a batch's edge). With ``group``, prompts of similar item length share
    batches (sorted within shuffled windows of 50 batches, as HF's group_by_length), so a padded
    forward wastes little."""
    by_prompt: dict[str | None, list[int]] = defaultdict(list)
    for i, p in enumerate(pairs):
        by_prompt[p.prompt].append(i)
    groups = list(by_prompt.values())
    rng.shuffle(groups)
    if group:

        def size(g: list[int]) -> int:
            return max(lengths[index.chosen[i]] + lengths[index.rejected[i]] for i in g)

        window = max(1, batch_size * 50 // max(1, len(pairs) // max(1, len(groups))))
        groups = [g for w in range(0, len(groups), window) for g in sorted(groups[w : w + window], key=size)]
    # Every batch but the last is full (a prompt that does not fit is split over two batches):
    # steps then see exactly batch_size pairs, as the schedule and DDP's equal shares assume.
    flat = [i for g in groups for i in g]
    batches = [flat[i : i + batch_size] for i in range(0, len(flat), batch_size)]
    rng.shuffle(batches)
    return [_batch(b, index) for b in batches]
