"""What a trained model is judged by before it is published: held-out pairwise figures, the
calibrated threshold, the figures per part of validation, the hand-written gate check, the
pinned evaluation set and the quality gate. Scores come from the weights that are saved."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from model_store import Dimension, EvalMetrics, GateCheck, InputSpec, PinnedEval, Store, Threshold, VersionInfo
from modeling import PackedRewardModel, encode
from modeling.scoring import score_all

from . import gate_check
from .config import TrainConfig
from .data import Pair, load_pairs
from .dimensions import MEANINGS
from .metrics import calibrate_threshold, extremes, pair_metrics


@dataclass
class Evaluation:
    metrics: EvalMetrics
    threshold: Threshold
    subsets: dict[str, EvalMetrics]
    gate_check: GateCheck | None
    pinned: PinnedEval | None
    chosen: np.ndarray  # validation scores, for the figures
    rejected: np.ndarray
    dimensions: list[Dimension] = field(default_factory=list)  # in output order
    # each dimension's validation scores (chosen, rejected) on its own pairs, for its figure
    dimension_scores: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)


def encode_pairs(spec: InputSpec, tokenizer: Any, pairs: list[Pair]) -> tuple[list[list[int]], list[list[int]]]:
    chosen = encode(spec, tokenizer, [(p.prompt, p.chosen) for p in pairs])
    rejected = encode(spec, tokenizer, [(p.prompt, p.rejected) for p in pairs])
    return chosen, rejected


@dataclass
class Judge:
    """Scores items with a model as it will be saved, in token-budgeted batches; an item is
    scored once however many figures read it (validation and its parts share theirs)."""

    model: PackedRewardModel
    spec: InputSpec
    tokenizer: Any
    batch_tokens: int
    _seen: dict[tuple[str | None, str], np.ndarray] = field(default_factory=dict)  # every output of an item

    def outputs(self, items: list[tuple[str | None, str]]) -> np.ndarray:
        """``(len(items), num_outputs)``: the overall score, then one per dimension."""
        new = list(dict.fromkeys(i for i in items if i not in self._seen))
        if new:
            scores = score_all(self.model, encode(self.spec, self.tokenizer, new), self.batch_tokens, all_outputs=True)
            self._seen.update(zip(new, scores, strict=True))
        return np.array([self._seen[i] for i in items], dtype=np.float64).reshape(len(items), -1)

    def items(self, items: list[tuple[str | None, str]], output: int = 0) -> np.ndarray:
        return self.outputs(items)[:, output]

    def pairs(self, pairs: list[Pair], output: int = 0) -> tuple[np.ndarray, np.ndarray]:
        # chosen and rejected in one call: the batches fill up and each distinct item is scored once
        items = list(dict.fromkeys([(p.prompt, p.chosen) for p in pairs] + [(p.prompt, p.rejected) for p in pairs]))
        scores = dict(zip(items, self.items(items, output), strict=True))
        return (
            np.array([scores[(p.prompt, p.chosen)] for p in pairs]),
            np.array([scores[(p.prompt, p.rejected)] for p in pairs]),
        )


def evaluate(
    cfg: TrainConfig, judge: Judge, validation: list[Pair], subsets: dict[str, list[Pair]], store: Store
) -> Evaluation:
    """Held-out metrics, the calibrated threshold, metrics per part of validation and, for the
    default data, the hand-written gate check."""
    # the overall output is judged on the overall preferences (all pairs, for data without any)
    overall = [p for p in validation if p.dimension is None] or validation
    sc, sr = judge.pairs(overall)
    threshold = _calibrated(cfg, overall, sc, sr)
    dimensions = []
    dimension_scores: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    # A dimension's threshold is set against the good replies (those the overall preference never
    # ranks below another), as the overall one is: "blocks at most 5% of good replies on privacy".
    # Its own passing replies would include the ones failing other dimensions, which score lower
    # on it too, and pull its cut down until it rarely names the failure it is for.
    good_keys, _ = extremes([(p.prompt or "", p.chosen, p.rejected) for p in overall])
    good = list(dict.fromkeys((p.prompt, p.chosen) for p in overall if (p.prompt or "", p.chosen) in good_keys))
    for i, name in enumerate(judge.model.dimensions, 1):
        mine = [p for p in validation if p.dimension == name]
        if not mine:
            raise ValueError(f"no validation pairs for the dimension {name!r}: it cannot be calibrated")
        dc, dr = judge.pairs(mine, i)
        dimension_scores[name] = (dc, dr)
        dimensions.append(
            Dimension(
                name=name,
                meaning=MEANINGS.get(name, ""),
                threshold=_calibrated(cfg, mine, dc, dr, judge.items(good, i)),
                metrics=EvalMetrics(**pair_metrics(dc, dr)),
            )
        )
    parts = {
        name: EvalMetrics(**pair_metrics(*judge.pairs([p for p in part if p.dimension is None] or part)))
        for name, part in subsets.items()
    }
    check = None
    paths = gate_check.packaged() if cfg.gate_check == "auto" and not cfg.data else []
    if cfg.gate_check not in ("auto", ""):
        paths = [Path(cfg.gate_check)]
    if paths:
        check = gate_check.run(judge.items, threshold.value, paths, outputs=judge.outputs, dimensions=dimensions)
    pinned = None
    found = store.pinned_eval(cfg.name)
    if found is not None:
        pinned_pairs = load_pairs([str(found[0])], "auto", cfg.seed)
        pinned = PinnedEval(sha256=found[1], metrics=EvalMetrics(**pair_metrics(*judge.pairs(pinned_pairs))))
    return Evaluation(
        EvalMetrics(**pair_metrics(sc, sr)), threshold, parts, check, pinned, sc, sr, dimensions, dimension_scores
    )


def _calibrated(
    cfg: TrainConfig, pairs: list[Pair], sc: np.ndarray, sr: np.ndarray, good_scores: np.ndarray | None = None
) -> Threshold:
    """The threshold of one output, from its held-out pairs' scores (``sc``, ``sr``); ``good_scores``:
    the good replies' scores on it (default: the best-ranked replies of ``pairs``)."""
    by_text = {(p.prompt or "", p.chosen): c for p, c in zip(pairs, sc, strict=True)}
    by_text |= {(p.prompt or "", p.rejected): r for p, r in zip(pairs, sr, strict=True)}
    good, bad = extremes([(p.prompt or "", p.chosen, p.rejected) for p in pairs])
    return Threshold(
        **calibrate_threshold(
            sc,
            sr,
            cfg.threshold_method,
            cfg.target_block_rate,
            cfg.max_good_block_rate,
            good=np.array([by_text[k] for k in sorted(good)]) if good_scores is None else good_scores,
            bad=np.array([by_text[k] for k in sorted(bad)]),
        )
    )


def quality_gate(cfg: TrainConfig, ev: Evaluation, store: Store) -> tuple[bool, str]:
    """Whether the version may become current: held-out accuracy at least ``min_accuracy`` and,
    when the model name has a pinned evaluation set, the store's promotion rule."""
    if ev.metrics.accuracy < cfg.min_accuracy:
        return False, f"held-out accuracy {ev.metrics.accuracy:.3f} < min_accuracy {cfg.min_accuracy}"
    refusal = store.promotion_refusal(cfg.name, _info_stub(ev), cfg.promote_tolerance)
    return (refusal is None, refusal or "")


def _info_stub(ev: Evaluation) -> VersionInfo:
    """Just enough of a ``VersionInfo`` for the promotion rule, before the version exists."""
    return VersionInfo(
        created_at="",
        base_model="",
        architecture="",
        dtype="",
        input=InputSpec(),
        threshold=ev.threshold,
        pinned_eval=ev.pinned,
    )
