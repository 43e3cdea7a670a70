"""A batch of items as one row of real tokens: the ids end to end, each item's positions, and
where each item starts and ends (the rows a score is read from)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class PackedBatch:
    ids: torch.Tensor  # (tokens,) every item's ids, end to end
    positions: torch.Tensor  # (tokens,) position ids restarting at 0 for every item
    lengths: list[int]
    starts: torch.Tensor  # (items,) index of each item's first token
    ends: torch.Tensor  # (items,) index of each item's last token


def pack(seqs: Sequence[Sequence[int]], device: torch.device) -> PackedBatch:
    lengths = [len(s) for s in seqs]
    ids = torch.tensor([t for s in seqs for t in s], dtype=torch.long)
    positions = torch.cat([torch.arange(n) for n in lengths])
    ends = torch.tensor(lengths).cumsum(0) - 1
    starts = ends - torch.tensor(lengths) + 1
    if device.type == "cuda":
        # pinned: the copies overlap with the work already queued on the GPU
        ids, positions = ids.pin_memory(), positions.pin_memory()
    nb = device.type == "cuda"
    return PackedBatch(
        ids.to(device, non_blocking=nb),
        positions.to(device, non_blocking=nb),
        lengths,
        starts.to(device, non_blocking=nb),
        ends.to(device, non_blocking=nb),
    )
