"""Evaluation figures and threshold calibration: pure functions of scores (numpy only)."""

from __future__ import annotations

from typing import Any

import numpy as np


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
