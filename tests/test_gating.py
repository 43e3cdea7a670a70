"""What /gate decides (app/gating.py), without a server: the threshold's precedence, enforce and
shadow mode, the boundary, quality dimensions (reasons, which of them gate, per-request
thresholds), and the counts it leaves in the metrics."""

from __future__ import annotations

import pytest

from app import gating
from app.exceptions import InvalidInput
from app.metrics import Metrics
from app.scorer import Score


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


# a model with two quality dimensions, calibrated at 0 (privacy) and -1 (tone)
CALIBRATED = {"privacy": 0.0, "tone": -1.0}


def test_reasons_name_the_dimensions_below_their_thresholds_worst_first_then_overall() -> None:
    dims = gating.Dimensions.of(CALIBRATED, "none")
    scores = [Score([2.0, 1.0, 0.0]), Score([2.0, -0.5, -3.0]), Score([-1.0, -2.0, -1.5])]
    results = gating.decide(scores, [False] * 3, 0.0, "enforce", dims)
    assert results[0].scores == {"privacy": 1.0, "tone": 0.0} and results[0].reasons == []
    assert [(r.dimension, r.score, r.threshold) for r in results[1].reasons] == [
        ("tone", -3.0, -1.0),  # 2 below its threshold: first
        ("privacy", -0.5, 0.0),
    ]
    assert [r.dimension for r in results[2].reasons] == ["privacy", "tone", "overall"]
    # with no dimension gating (the default), the overall score alone blocks
    assert [r.decision for r in results] == ["allow", "allow", "block"]


def test_which_dimensions_gate_is_the_setting() -> None:
    below_on_tone = [Score([2.0, 1.0, -3.0])]
    for setting, blocked in (("none", False), ("all", True), ("tone", True), ("privacy", False), ("spelling", False)):
        dims = gating.Dimensions.of(CALIBRATED, setting)
        (res,) = gating.decide(below_on_tone, [False], 0.0, "enforce", dims)
        assert res.would_block is blocked and res.allowed is not blocked, setting
        assert [r.dimension for r in res.reasons] == ["tone"]  # reported whether or not it gates
    shadow = gating.decide(below_on_tone, [False], 0.0, "shadow", gating.Dimensions.of(CALIBRATED, "all"))
    assert shadow[0].allowed and shadow[0].would_block and shadow[0].reasons[0].dimension == "tone"
    assert gating.gating_dimensions(" privacy , tone ", ["privacy", "tone"]) == {"privacy", "tone"}


def test_a_request_overrides_a_dimension_threshold_and_cannot_name_one_the_model_lacks() -> None:
    dims = gating.Dimensions.of(CALIBRATED, "all", {"privacy": 5.0})
    assert dims.thresholds == {"privacy": 5.0, "tone": -1.0}
    (res,) = gating.decide([Score([2.0, 1.0, 0.0])], [False], 0.0, "enforce", dims)
    assert [(r.dimension, r.threshold) for r in res.reasons] == [("privacy", 5.0)] and res.decision == "block"
    with pytest.raises(InvalidInput, match="spelling"):
        gating.Dimensions.of(CALIBRATED, "all", {"spelling": 0.0})
    with pytest.raises(InvalidInput, match="none"):
        gating.Dimensions.of({}, "all", {"privacy": 0.0})  # a one-output model has no dimension to override


def test_a_one_output_model_answers_as_it_always_did() -> None:
    (res,) = gating.decide([-1.0], [False], 0.0, "enforce")
    assert res.scores is None and [r.dimension for r in res.reasons] == ["overall"]
    assert set(res.model_dump(mode="json")) == {"score", "allowed", "decision", "would_block", "reasons", "truncated"}


def test_tally_counts_decisions_by_reason() -> None:
    m = Metrics()
    dims = gating.Dimensions.of(CALIBRATED, "all")
    gating.tally(m, gating.decide([Score([1.0, -1.0, 0.0]), Score([1.0, 1.0, 0.0])], [False] * 2, 0.0, "enforce", dims))
    gating.tally(m, gating.decide([-1.0], [False], 0.0, "enforce"))

    def value(**labels: str) -> float:
        return m.registry.get_sample_value("rewardgate_gate_decision_reasons_total", labels) or 0.0

    assert value(decision="block", reason="privacy") == 1
    assert value(decision="allow", reason="none") == 1
    assert value(decision="block", reason="overall") == 1


def test_request_id_keeps_a_sane_caller_id_and_replaces_anything_else() -> None:
    assert gating.request_id("abc-123_X.y:z") == "abc-123_X.y:z"
    for bad in (None, "", "has space", "x" * 65, "new\nline", "ünï"):
        rid = gating.request_id(bad)
        assert rid != bad and len(rid) == 32 and int(rid, 16) >= 0
