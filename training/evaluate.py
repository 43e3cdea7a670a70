"""Held-out evaluation and threshold calibration."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from model_store import PackedRewardModel


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
def score_all(model: PackedRewardModel, seqs: Sequence[Sequence[int]], budget: int = 16384) -> np.ndarray:
    was_training = model.training
    model.eval()
    out = np.zeros(len(seqs), dtype=np.float64)
    for idx in batches_by_tokens(seqs, budget):
        out[idx] = model([seqs[i] for i in idx]).float().cpu().numpy()
    model.train(was_training)
    return out


def roc_auc(pos: np.ndarray, neg: np.ndarray) -> float:
    """P(pos score > neg score), ties counting half (Mann-Whitney U)."""
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    allv = np.concatenate([pos, neg])
    order = allv.argsort(kind="mergesort")
    ranks = np.empty(len(allv))
    sorted_v = allv[order]
    # average ranks over ties
    i = 0
    while i < len(allv):
        j = i
        while j + 1 < len(allv) and sorted_v[j + 1] == sorted_v[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    u = ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2
    return float(u / (len(pos) * len(neg)))


def pair_metrics(chosen: np.ndarray, rejected: np.ndarray) -> dict[str, float]:
    scores = np.concatenate([chosen, rejected])
    return {
        "pairs": len(chosen),
        "accuracy": float(np.mean(chosen > rejected)) if len(chosen) else float("nan"),
        "mean_margin": float(np.mean(chosen - rejected)) if len(chosen) else float("nan"),
        "roc_auc": roc_auc(chosen, rejected),
        "score_mean": float(scores.mean()) if len(scores) else float("nan"),
        "score_std": float(scores.std()) if len(scores) else float("nan"),
    }


def calibrate_threshold(
    chosen: np.ndarray, rejected: np.ndarray, method: str = "youden", target_block_rate: float = 0.1
) -> dict[str, Any]:
    """``youden``: the cut that best separates chosen (allow) from rejected (block), i.e. max of
    TPR - FPR. ``block_rate``: the cut that blocks ``target_block_rate`` of held-out responses."""
    scores = np.concatenate([chosen, rejected])
    if method == "block_rate":
        t = float(np.quantile(scores, target_block_rate))
        return {
            "value": t,
            "method": "block_rate",
            "target_block_rate": target_block_rate,
            "block_rate": float(np.mean(scores < t)),
        }
    cands = np.unique(scores)
    best_t, best_j = float(cands[0]), -1.0
    for t in cands:
        j = float(np.mean(chosen >= t) - np.mean(rejected >= t))
        if j > best_j:
            best_t, best_j = float(t), j
    # midpoint to the next lower score: robust to the exact held-out values
    lower = scores[scores < best_t]
    value = (best_t + float(lower.max())) / 2 if len(lower) else best_t
    return {
        "value": value,
        "method": "youden",
        "youden_j": best_j,
        "allow_rate_chosen": float(np.mean(chosen >= value)),
        "block_rate_rejected": float(np.mean(rejected < value)),
        "block_rate": float(np.mean(scores < value)),
    }


def report(name: str, version: str, metrics: dict[str, Any], threshold: dict[str, Any], train: dict[str, Any]) -> str:
    lines = [
        f"# {name} {version}",
        "",
        "| held-out metric | value |",
        "|---|---|",
        *(f"| {k} | {v:.4f} |" if isinstance(v, float) else f"| {k} | {v} |" for k, v in metrics.items()),
        "",
        f"threshold: {threshold['value']:.4f} ({threshold['method']})",
        f"training: {train.get('steps')} steps, {train.get('pairs_seen')} pairs in {train.get('seconds', 0):.0f}s "
        f"({train.get('pairs_per_s', 0):.1f} pairs/s)",
    ]
    return "\n".join(lines) + "\n"
