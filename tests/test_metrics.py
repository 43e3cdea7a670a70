"""Evaluation figures and threshold calibration against values worked by hand."""

import numpy as np
import pytest

from training.metrics import calibrate_threshold, pair_metrics, roc_auc


def test_roc_auc_hand_worked() -> None:
    # pos 3 beats 2 and 0; pos 1 beats 0 only: 3 of 4 orderings right
    assert roc_auc(np.array([3.0, 1.0]), np.array([2.0, 0.0])) == pytest.approx(0.75)
    # a tie counts half
    assert roc_auc(np.array([1.0, 2.0]), np.array([1.0])) == pytest.approx(0.75)
    assert np.isnan(roc_auc(np.array([]), np.array([1.0])))


def test_pair_metrics_hand_worked() -> None:
    m = pair_metrics(np.array([2.0, 1.0, 0.0]), np.array([1.0, 2.0, -1.0]))
    assert m["pairs"] == 3
    assert m["accuracy"] == pytest.approx(2 / 3)  # strict: a tie would not count
    assert m["mean_margin"] == pytest.approx(1 / 3)
    assert m["score_mean"] == pytest.approx(5 / 6)
    assert m["score_std"] == pytest.approx(np.std([2, 1, 0, 1, 2, -1]))
    assert pair_metrics(np.array([1.0]), np.array([1.0]))["accuracy"] == 0.0


def test_youden_threshold_hand_worked() -> None:
    # cut at 1.5: all chosen allowed, one rejected (2.5) allowed: J = 1 - 1/3, the best;
    # the stored value is the midpoint to the next lower score (1.0)
    t = calibrate_threshold(np.array([3.0, 2.0, 1.5]), np.array([1.0, 0.0, 2.5]), "youden")
    assert t["method"] == "youden"
    assert t["youden_j"] == pytest.approx(2 / 3)
    assert t["value"] == pytest.approx(1.25)
    assert t["allow_rate_chosen"] == 1.0 and t["block_rate_rejected"] == pytest.approx(2 / 3)


def test_block_rate_threshold_hand_worked() -> None:
    scores = np.arange(10, dtype=float)  # chosen 0..4, rejected 5..9
    t = calibrate_threshold(scores[:5], scores[5:], "block_rate", target_block_rate=0.2)
    assert t["value"] == pytest.approx(1.8)  # numpy's linear quantile of 0..9 at 0.2
    assert t["block_rate"] == pytest.approx(0.2)


def test_max_good_blocked_threshold_hand_worked() -> None:
    good = np.array([float(i) for i in range(20)])  # 0..19: blocking at most 5% means one of them
    bad = np.array([-5.0, -1.0, 0.5])
    t = calibrate_threshold(good, bad, "max_good_blocked", max_good_block_rate=0.05, good=good, bad=bad)
    # the cut is the second-lowest good score (1.0), moved midway to the next lower score (0.5)
    assert t["value"] == pytest.approx(0.75)
    assert t["good_block_rate"] == pytest.approx(0.05) and t["bad_block_rate"] == pytest.approx(1.0)
    assert t["max_good_block_rate"] == 0.05


def test_extremes_are_best_and_worst_ranked() -> None:
    from training.metrics import extremes

    good, bad = extremes([("p", "a", "b"), ("p", "b", "c"), ("p", "a", "c"), ("q", "x", "y")])
    assert good == {("p", "a"), ("q", "x")} and bad == {("p", "c"), ("q", "y")}
