"""A served model version: tokenization, the forward pass, and its threshold."""

from __future__ import annotations

import time
from collections.abc import Sequence

import torch

from model_store import StoreError
from modeling import encode_items
from modeling.loader import LoadedModel


class Score(float):
    """An item's overall score, with its score per quality dimension beside it (``dims``, in the
    model's output order). It is the float the batcher and every route already pass on, so only
    the answers that show dimensions read more of it; a one-output model's scores are plain floats."""

    dims: tuple[float, ...]

    def __new__(cls, outputs: Sequence[float]) -> Score:
        s = super().__new__(cls, outputs[0])
        s.dims = tuple(outputs[1:])
        return s


def named(score: float, dimensions: list[str]) -> dict[str, float]:
    """``score``'s per-dimension scores by name: ``dimensions`` are its model's, in output order
    (none: a one-output model, whose scores are plain floats)."""
    if not dimensions:
        return {}
    if not isinstance(score, Score):
        raise TypeError("a score without the dimensions of its model")
    return dict(zip(dimensions, score.dims, strict=True))


class Scorer:
    """Everything needed to score with one version. Immutable once built: a reload builds a new
    one and swaps the reference, so in-flight work keeps the version it started with."""

    def __init__(self, loaded: LoadedModel) -> None:
        self.loaded = loaded
        self.name = loaded.name
        self.version = loaded.id
        self.device = str(loaded.device)
        self.dtype = str(loaded.dtype).removeprefix("torch.")
        self.packed = loaded.model.packed
        self.runtime = loaded.runtime  # torch, torch-int8, torch-bf16, onnx or onnx-int8
        self.manifest_threshold = loaded.manifest.threshold.value
        self.ref = {"name": self.name, "version": self.version}
        id2label = getattr(loaded.model.model.config, "id2label", None) or {}
        self.label = str(id2label.get(0, "LABEL_0"))  # what vLLM's and TEI's routes call the output
        # the quality dimensions of outputs 1.. (none for a one-output model), each with the
        # threshold calibrated for it at training time
        self.dimensions = loaded.model.dimensions
        cuts = {d.name: d.threshold.value for d in loaded.manifest.dimensions}
        missing = [d for d in self.dimensions if d not in cuts]
        if missing:
            raise StoreError(f"version {self.version}: the manifest has no threshold for the dimensions {missing}")
        self.dimension_thresholds = {d: cuts[d] for d in self.dimensions}

    def encode(self, items: list[tuple[str | None, str]]) -> tuple[list[list[int]], list[bool]]:
        """Token ids, and whether each item's response itself had to be cut to fit."""
        return encode_items(self.loaded.spec, self.loaded.tokenizer, items)

    def cost(self, count: int, total: int, width: int) -> int:
        """Tokens a batch of ``count`` items (``total`` real tokens, longest ``width``) computes,
        for the batch budget: the real tokens when packed, padded width x count otherwise."""
        return total if self.packed else width * count

    def computed_tokens(self, lengths: list[int]) -> int:
        """Tokens a formed batch really computed (a packed row's unused tail included)."""
        return self.loaded.model.computed_tokens(lengths)

    @torch.inference_mode()
    def forward(self, seqs: list[list[int]]) -> list[float]:
        if not self.dimensions:
            return self.loaded.model(seqs).tolist()
        return [Score(row) for row in self.loaded.model(seqs, all_outputs=True).tolist()]

    def dimension_scores(self, score: float) -> dict[str, float]:
        """The per-dimension scores of one of this scorer's scores, by name (empty without any)."""
        return named(score, self.dimensions)

    def warmup(self) -> float:
        t0 = time.perf_counter()
        seqs, _ = self.encode([("warm-up prompt", "warm-up response " * 8)] * 2)
        for _ in range(2):
            self.forward(seqs)
        if self.loaded.device.type == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - t0
