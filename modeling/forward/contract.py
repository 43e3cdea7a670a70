"""What every forward strategy promises: one score per token sequence, equal to the Hugging Face
forward of each item alone, for the architectures it says it fits.

A strategy holds no model: the model is passed to every call, so whoever wraps or moves the model
(DDP, ``.to()``, accelerate) never leaves a strategy pointing at a stale copy. Whatever a strategy
caches for speed (fused weights) it must recognise as stale itself.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

import torch


class ForwardStrategy(ABC):
    """One way to compute ``*ForSequenceClassification`` outputs for a batch: all ``num_labels``
    of them (the overall reward first, then one per quality dimension), so a model with one head
    per dimension runs every strategy as a single-output model does.

    ``forward`` follows the model's mode: in ``train()`` it applies the model's dropout and is
    differentiable; under ``torch.inference_mode``/``no_grad`` it may use inference-only caches.
    """

    name: ClassVar[str]  # shown in logs and benchmark tables
    packed: ClassVar[bool] = True  # False: every item of a batch costs as much as the longest

    @classmethod
    @abstractmethod
    def fits(cls, model: Any) -> bool:
        """Whether this strategy can run ``model``'s architecture at all (cheap: modules and config
        only). A strategy that fits is still checked against the Hugging Face forward before use."""

    @abstractmethod
    def forward(self, model: Any, seqs: Sequence[Sequence[int]]) -> torch.Tensor:
        """A float32 ``(len(seqs), num_labels)`` tensor: one row of outputs per sequence (every
        sequence has at least one token)."""

    def computed_tokens(self, lengths: list[int]) -> int:
        """Token positions a batch of items of these lengths really computes, padding included."""
        return sum(lengths)

    def fuse_for_inference(self, model: Any) -> None:  # noqa: B027 - optional for a strategy
        """Prepare inference-only caches (e.g. one QKV weight per layer); a no-op by default."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"
