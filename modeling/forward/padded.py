"""The plain Hugging Face forward: items right-padded to the batch's longest, with an attention
mask. Any ``*ForSequenceClassification`` model runs it; it is also the reference every packed
strategy is checked against, and what sharded training (FSDP, DeepSpeed) uses, since those hook
the modules' own forwards."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from .contract import ForwardStrategy


def pad_id_of(model: Any) -> int:
    pad = model.config.pad_token_id
    return int(pad) if pad is not None else 0


class Padded(ForwardStrategy):
    name = "padded"
    packed = False

    @classmethod
    def fits(cls, model: Any) -> bool:
        return True

    def forward(self, model: Any, seqs: Sequence[Sequence[int]]) -> torch.Tensor:
        width = max(len(s) for s in seqs)
        ids = torch.full((len(seqs), width), pad_id_of(model), dtype=torch.long)
        mask = torch.zeros((len(seqs), width), dtype=torch.long)
        for i, s in enumerate(seqs):
            ids[i, : len(s)] = torch.as_tensor(s, dtype=torch.long)
            mask[i, : len(s)] = 1
        dev = next(model.parameters()).device
        out = model(input_ids=ids.to(dev), attention_mask=mask.to(dev))
        return out.logits.float()

    def computed_tokens(self, lengths: list[int]) -> int:
        return len(lengths) * max(lengths)
