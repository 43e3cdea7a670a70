"""Score many token sequences in batches of a real-token budget (evaluation, calibration)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from .packed import PackedRewardModel


def batches_by_tokens(seqs: Sequence[Sequence[int]], budget: int) -> list[list[int]]:
    """Indices of ``seqs`` cut into batches of at most ``budget`` real tokens."""
    out: list[list[int]] = []
    cur: list[int] = []
    used = 0
    for i, s in enumerate(seqs):
        if cur and used + len(s) > budget:
            out.append(cur)
            cur, used = [], 0
        cur.append(i)
        used += len(s)
    if cur:
        out.append(cur)
    return out


@torch.inference_mode()
def score_all(
    model: PackedRewardModel, seqs: Sequence[Sequence[int]], budget: int = 16384, all_outputs: bool = False
) -> np.ndarray:
    """The overall score of each sequence; ``all_outputs``: a ``(len(seqs), num_outputs)`` array."""
    was_training = model.training
    model.eval()
    out = np.zeros((len(seqs), model.num_outputs) if all_outputs else len(seqs), dtype=np.float64)
    for idx in batches_by_tokens(seqs, budget):
        out[idx] = model([seqs[i] for i in idx], all_outputs).float().cpu().numpy()
    model.train(was_training)
    return out
