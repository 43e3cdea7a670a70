"""The reward model training and serving run: a ``*ForSequenceClassification`` model (num_labels=1,
or 1 + D: the overall reward and one per quality dimension)
and the forward strategy chosen for it (``modeling/forward/``), as one ``nn.Module``.

The strategy is chosen once, when the model is wrapped: a padding-free one where one fits the
architecture and scores like the Hugging Face forward on a probe, else padded. Sharded training
(FSDP, DeepSpeed) asks for the padded forward explicitly with ``PackedRewardModel.padded``.
Whatever the strategy, the result equals ``model(ids).logits[:, 0]`` of each item scored alone
(``all_outputs``: ``model(ids).logits``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from .forward import ForwardStrategy, Padded, choose


class PackedRewardModel(nn.Module):
    """``forward(seqs)`` returns one scalar reward per token sequence (the overall one);
    ``forward(seqs, all_outputs=True)`` every output, ``(len(seqs), num_labels)``."""

    model: Any  # a transformers model; strategies reach its submodules by name

    def __init__(self, model: nn.Module, strategy: ForwardStrategy | None = None) -> None:
        """``strategy``: None to choose the fastest that matches the Hugging Face forward."""
        super().__init__()
        self.model = model
        self.strategy = strategy if strategy is not None else choose(model)

    @classmethod
    def padded(cls, model: nn.Module) -> PackedRewardModel:
        """The plain Hugging Face forward, for wrappers that hook the modules' own forwards."""
        return cls(model, Padded())

    @property
    def packed(self) -> bool:
        """Whether a batch runs without padding every item to the longest one."""
        return self.strategy.packed

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def fuse_for_inference(self) -> None:
        """Inference-only caches of the strategy (one QKV weight per layer); training ignores them,
        and they are rebuilt from the weights on the next call if the weights change."""
        self.strategy.fuse_for_inference(self.model)

    def computed_tokens(self, lengths: list[int]) -> int:
        """Token positions a batch of items of these lengths really computes, padding included."""
        return self.strategy.computed_tokens(lengths)

    @property
    def num_outputs(self) -> int:
        return int(self.model.config.num_labels)

    @property
    def dimensions(self) -> list[str]:
        """The quality dimensions of outputs 1.. (the names training saved as ``id2label``)."""
        labels = self.model.config.id2label or {}
        return [str(labels.get(i, labels.get(str(i), f"dimension_{i}"))) for i in range(1, self.num_outputs)]

    def forward(self, seqs: Sequence[Sequence[int]], all_outputs: bool = False) -> torch.Tensor:
        # all_outputs is an argument, not a second method, so DDP's hooks see training's call
        if not seqs or any(len(s) == 0 for s in seqs):
            raise ValueError("every sequence needs at least one token")
        out = self.strategy.forward(self.model, seqs)
        return out if all_outputs else out[:, 0]
