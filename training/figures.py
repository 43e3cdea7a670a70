"""The PNG figures of a version's report: score histograms with the threshold, the ROC curve,
and the block rate against the threshold; for a model with quality dimensions, one histogram per
dimension of its own output on its own held-out pairs, with its own threshold."""

from __future__ import annotations

from pathlib import Path

import numpy as np

FIGURES = ("scores.png", "roc.png", "block_rate.png")


def dimension_figure(name: str) -> str:
    return f"scores_{name}.png"


def write_dimension_figures(
    scores: dict[str, tuple[np.ndarray, np.ndarray]], thresholds: dict[str, float], out: Path, title: str
) -> list[str]:
    """One score histogram per dimension (chosen against rejected on that dimension's pairs)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (chosen, rejected) in scores.items():
        allv = np.concatenate([chosen, rejected])
        bins = list(np.linspace(allv.min(), allv.max(), 30)) if allv.max() > allv.min() else 10
        fig, ax = plt.subplots(figsize=(7, 3.6))
        ax.hist(chosen, bins=bins, alpha=0.6, label=f"chosen on {name} ({len(chosen)})", color="tab:green")
        ax.hist(rejected, bins=bins, alpha=0.6, label=f"rejected on {name} ({len(rejected)})", color="tab:red")
        ax.axvline(thresholds[name], color="black", linestyle="--", label=f"threshold {thresholds[name]:.3g}")
        ax.set(xlabel=f"{name} score", ylabel="responses", title=f"{title}: {name}")
        ax.legend()
        fig.tight_layout()
        fig.savefig(out / dimension_figure(name))
        plt.close(fig)
        written.append(dimension_figure(name))
    return written


def write_figures(chosen: np.ndarray, rejected: np.ndarray, threshold: float, out: Path, title: str) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")  # files only, never a window
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    plt.rcParams.update({"font.size": 11, "figure.dpi": 110})
    allv = np.concatenate([chosen, rejected])
    bins = list(np.linspace(allv.min(), allv.max(), 40)) if allv.max() > allv.min() else 10

    fig, ax = plt.subplots(figsize=(7, 4.2))
    ax.hist(chosen, bins=bins, alpha=0.6, label=f"chosen ({len(chosen)})", color="tab:green")
    ax.hist(rejected, bins=bins, alpha=0.6, label=f"rejected ({len(rejected)})", color="tab:red")
    ax.axvline(threshold, color="black", linestyle="--", label=f"threshold {threshold:.3g}")
    ax.set(xlabel="score", ylabel="responses", title=f"{title}: scores of chosen and rejected responses")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / FIGURES[0])
    plt.close(fig)

    cuts = np.unique(allv)[::-1]
    tpr = [float(np.mean(chosen >= t)) for t in cuts]
    fpr = [float(np.mean(rejected >= t)) for t in cuts]
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, *fpr, 1], [0, *tpr, 1], color="tab:blue", label="model")
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="chance")
    ax.plot([np.mean(rejected >= threshold)], [np.mean(chosen >= threshold)], "ko", label="threshold")
    ax.set(
        xlabel="rejected allowed (false positive rate)",
        ylabel="chosen allowed (true positive rate)",
        title=f"{title}: ROC",
    )
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(out / FIGURES[1])
    plt.close(fig)

    grid = np.linspace(allv.min(), allv.max(), 200)
    fig, ax = plt.subplots(figsize=(7, 4.2))
    ax.plot(grid, [np.mean(allv < t) for t in grid], label="all responses", color="tab:blue")
    ax.plot(grid, [np.mean(chosen < t) for t in grid], label="chosen", color="tab:green")
    ax.plot(grid, [np.mean(rejected < t) for t in grid], label="rejected", color="tab:red")
    ax.axvline(threshold, color="black", linestyle="--", label=f"threshold {threshold:.3g}")
    ax.set(xlabel="threshold", ylabel="share blocked", ylim=(0, 1.02), title=f"{title}: block rate against threshold")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / FIGURES[2])
    plt.close(fig)
    return list(FIGURES)
