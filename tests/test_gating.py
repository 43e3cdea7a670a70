"""What /gate decides (app/gating.py), without a server: the threshold's precedence, enforce and
shadow mode, the boundary, and the counts it leaves in the metrics."""

from __future__ import annotations

import pytest

from app import gating
from app.metrics import Metrics


def test_threshold_precedence_request_then_settings_then_manifest() -> None:
    assert gating.threshold_for(0.5, -1.0, 2.0) == (0.5, "request")
    assert gating.threshold_for(0.0, -1.0, 2.0) == (0.0, "request")  # 0 is a threshold, not "unset"
    assert gating.threshold_for(None, -1.0, 2.0) == (-1.0, "settings")
    assert gating.threshold_for(None, 0.0, 2.0) == (0.0, "settings")
    assert gating.threshold_for(None, None, 2.0) == (2.0, "manifest")


def test_enforce_blocks_below_the_threshold_and_allows_at_it() -> None:
    results = gating.decide([-1.0, 0.5, 0.5000001, 3.0], [False, True, False, False], 0.5, "enforce")
    assert [(r.allowed, r.decision, r.would_block) for r in results] == [
        (False, "block", True),
        (True, "allow", False),  # reaching the threshold is enough
        (True, "allow", False),
        (True, "allow", False),
    ]
    assert [r.score for r in results] == [-1.0, 0.5, 0.5000001, 3.0]
    assert [r.truncated for r in results] == [False, True, False, False]


def test_shadow_allows_everything_and_says_what_enforce_would_block() -> None:
    scores, cut = [-1.0, 0.5, 3.0], [False] * 3
    shadow = gating.decide(scores, cut, 0.5, "shadow")
    enforce = gating.decide(scores, cut, 0.5, "enforce")
    assert all(r.allowed and r.decision == "allow" for r in shadow)
    assert [r.would_block for r in shadow] == [r.would_block for r in enforce] == [True, False, False]


def test_scores_and_truncation_flags_must_pair_up() -> None:
    with pytest.raises(ValueError):
        gating.decide([1.0, 2.0], [False], 0.0, "enforce")


def test_tally_counts_decisions_and_would_block_in_every_mode() -> None:
    m = Metrics()
    gating.tally(m, gating.decide([-1.0, -2.0, 3.0], [False] * 3, 0.0, "enforce"))
    gating.tally(m, gating.decide([-1.0, 3.0], [False] * 2, 0.0, "shadow"))

    def value(name: str, **labels: str) -> float:
        v = m.registry.get_sample_value(name, labels)
        return 0.0 if v is None else v

    assert value("rewardgate_gate_decisions_total", decision="block") == 2
    assert value("rewardgate_gate_decisions_total", decision="allow") == 1 + 2
    assert value("rewardgate_gate_would_block_total") == 2 + 1


def test_request_id_keeps_a_sane_caller_id_and_replaces_anything_else() -> None:
    assert gating.request_id("abc-123_X.y:z") == "abc-123_X.y:z"
    for bad in (None, "", "has space", "x" * 65, "new\nline", "ünï"):
        rid = gating.request_id(bad)
        assert rid != bad and len(rid) == 32 and int(rid, 16) >= 0
