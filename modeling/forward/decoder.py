"""Any decoder with a ``score`` head, padding-free through transformers' packed sequences: items
packed into rows, position ids restarting per item and no attention mask, from which transformers
builds a mask that keeps each item's attention to itself; the score is read at each item's last
token. A model whose masks ignore position ids would let items attend to each other: the check at
load catches that, and the model is served padded."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from .contract import ForwardStrategy
from .padded import pad_id_of

ROW_TOKENS = 256  # shortest packed row: rows hold whole items, so a longer item makes a longer row


def rows_of(lengths: list[int]) -> tuple[list[list[int]], int]:
    """Item indices per packed row (first fit, longest first), and the rows' width (no
    all-padding columns)."""
    cap = max(max(lengths), ROW_TOKENS)
    rows: list[list[int]] = []
    room: list[int] = []
    for i in sorted(range(len(lengths)), key=lambda i: -lengths[i]):
        r = next((r for r, free in enumerate(room) if free >= lengths[i]), None)
        if r is None:
            rows.append([])
            room.append(cap)
            r = len(rows) - 1
        rows[r].append(i)
        room[r] -= lengths[i]
    return rows, cap - min(room)


class DecoderPacked(ForwardStrategy):
    name = "decoder-packed"

    @classmethod
    def fits(cls, model: Any) -> bool:
        return isinstance(getattr(model, "score", None), nn.Module)

    def computed_tokens(self, lengths: list[int]) -> int:
        rows, width = rows_of(lengths)
        return len(rows) * width

    def forward(self, model: Any, seqs: Sequence[Sequence[int]]) -> torch.Tensor:
        """transformers' mask is dense over a row, so one row for the whole batch would cost
        (all tokens)^2 in attention; rows of ROW_TOKENS bound that to (all tokens) x (row length).
        A row's unused tail is padding at position 0 throughout: each such token is a sequence of
        its own to that mask, attending only to itself, and no position runs past the model's."""
        dev = next(model.parameters()).device
        lengths = [len(s) for s in seqs]
        rows, width = rows_of(lengths)
        ids = torch.full((len(rows), width), pad_id_of(model), dtype=torch.long)
        pos = torch.zeros((len(rows), width), dtype=torch.long)
        end_row, end_col = [0] * len(seqs), [0] * len(seqs)
        for r, members in enumerate(rows):
            off = 0
            for i in members:
                n = lengths[i]
                ids[r, off : off + n] = torch.as_tensor(seqs[i], dtype=torch.long)
                pos[r, off : off + n] = torch.arange(n)
                end_row[i], end_col[i] = r, off + n - 1
                off += n
        out = model.base_model(input_ids=ids.to(dev), position_ids=pos.to(dev), use_cache=False)
        h = out[0][torch.tensor(end_row, device=dev), torch.tensor(end_col, device=dev)]
        return model.score(h).float()
