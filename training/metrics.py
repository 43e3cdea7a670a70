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
    chosen: np.ndarray,
    rejected: np.ndarray,
    method: str = "max_good_blocked",
    target_block_rate: float = 0.1,
    max_good_block_rate: float = 0.05,
    good: np.ndarray | None = None,
    bad: np.ndarray | None = None,
) -> dict[str, Any]:
    """The gate threshold (block below it), from held-out scores.

    ``max_good_blocked``: the highest cut that blocks at most ``max_good_block_rate`` of the good
    responses (``good``: those no labeller majority ranked below another; default ``chosen``),
    so the gate blocks as much as it can without getting in the way of good replies.
    ``youden``: the cut that best separates chosen from rejected (max of TPR - FPR).
    ``block_rate``: the cut that blocks ``target_block_rate`` of all held-out responses.
    The cut sits midway to the next lower score, so it does not hinge on one exact value."""
    scores = np.concatenate([chosen, rejected])
    good = chosen if good is None else good
    bad = rejected if bad is None else bad
    extra: dict[str, Any] = {}
    if method == "block_rate":
        value = float(np.quantile(scores, target_block_rate))
        extra["target_block_rate"] = target_block_rate
    else:
        if method == "max_good_blocked":
            ordered = np.sort(good)
            cut = float(ordered[min(len(ordered) - 1, int(np.floor(max_good_block_rate * len(ordered))))])
            extra["max_good_block_rate"] = max_good_block_rate
        elif method == "youden":
            best_j = -1.0
            cut = float(scores.min())
            for t in np.unique(scores):
                j = float(np.mean(chosen >= t) - np.mean(rejected >= t))
                if j > best_j:
                    cut, best_j = float(t), j
            extra["youden_j"] = best_j
        else:
            raise ValueError(f"unknown threshold method {method!r}")
        lower = scores[scores < cut]
        value = (cut + float(lower.max())) / 2 if len(lower) else cut
    return {
        "value": value,
        "method": method,
        **extra,
        "allow_rate_chosen": float(np.mean(chosen >= value)),
        "block_rate_rejected": float(np.mean(rejected < value)),
        "good_block_rate": float(np.mean(good < value)),
        "bad_block_rate": float(np.mean(bad < value)),
        "block_rate": float(np.mean(scores < value)),
    }


def extremes(pairs: list[tuple[str, str, str]]) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """From (prompt, chosen, rejected) triples: the responses of each prompt that a majority
    never ranked below another (good) and never above another (bad), keyed (prompt, text)."""
    chosen = {(p, c) for p, c, _ in pairs}
    rejected = {(p, r) for p, _, r in pairs}
    return chosen - rejected, rejected - chosen
