"""CPU runtimes (``modeling/forward/runtimes.py``): each scores a batch of mixed-length items as the
fp32 Hugging Face forward scores each item alone, within the tolerance it states; a runtime that
cannot run (package missing, an architecture it does not know, scores off its tolerance) falls
back to torch and says so; the service says which runtime serves."""

from __future__ import annotations

import logging
import sys
from typing import Any

import httpx
import pytest
import torch
from pydantic import ValidationError

from app.settings import Settings
from model_store import ModelStore
from modeling import PackedRewardModel
from modeling.forward import runtimes
from modeling.forward.runtimes import TOLERANCE, make_runtime, runtime_of
from modeling.loader import load_version
from tests.test_forward import SEQS, build, hf_alone

try:
    import onnxruntime  # noqa: F401

    HAS_ORT = True
except ImportError:
    HAS_ORT = False
needs_ort = pytest.mark.skipif(not HAS_ORT, reason="onnxruntime is not installed (pip install 'rewardgate[cpu-int8]')")

needs_bf16 = pytest.mark.skipif(not runtimes.cpu_has_bf16(), reason="this CPU has no native bf16 (AVX-512 BF16 or AMX)")

CONVERTED = [
    pytest.param("torch-int8", id="torch-int8"),
    pytest.param("torch-bf16", id="torch-bf16", marks=needs_bf16),
    pytest.param("onnx", id="onnx", marks=needs_ort),
    pytest.param("onnx-int8", id="onnx-int8", marks=needs_ort),
]


@pytest.mark.parametrize("runtime", CONVERTED)
def test_runtime_scores_like_the_fp32_forward_within_its_tolerance(runtime: str) -> None:
    hf = build("bert")
    strategy = make_runtime(runtime, hf)
    assert runtime_of(strategy) == runtime
    with torch.no_grad():
        ref = hf_alone(hf, SEQS)
    with torch.inference_mode():
        got = PackedRewardModel(hf, strategy)(SEQS)
    tol = TOLERANCE[runtime]
    torch.testing.assert_close(got, ref, atol=tol, rtol=tol)
    if runtime == "onnx":  # fp32 throughout: as close as the packed torch path
        torch.testing.assert_close(got, ref, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("runtime", CONVERTED)
def test_runtime_follows_the_weights(runtime: str) -> None:
    hf = build("bert")
    model = PackedRewardModel(hf, make_runtime(runtime, hf))
    with torch.no_grad():
        before = model(SEQS)
        hf.classifier.bias += 1.0  # a change in place: the converted copy is stale
        after = model(SEQS)
    torch.testing.assert_close(after, before + 1.0, atol=TOLERANCE[runtime], rtol=0)


def test_torch_int8_stays_packed_and_int8() -> None:
    hf = build("bert")
    strategy = make_runtime("torch-int8", hf)
    assert strategy.packed and strategy.computed_tokens([3, 5]) == 8
    copied = strategy._current(hf)  # type: ignore[attr-defined]
    assert not [m for m in copied.modules() if type(m) is torch.nn.Linear], "a linear layer stayed fp32"
    assert [m for m in copied.modules() if isinstance(m, runtimes.Int8Linear)]


@pytest.mark.parametrize(
    "runtime", ["torch", pytest.param("torch-int8", id="torch-int8"), pytest.param("torch-bf16", marks=needs_bf16)]
)
def test_an_item_scores_the_same_alone_as_in_any_batch(runtime: str) -> None:
    """A gate's answer must not hang on what else was in the batch: the runtimes `auto` may pick
    score each item as they score it alone (int8 included: its activation range is pinned)."""
    hf = build("bert")
    model = PackedRewardModel(hf, make_runtime(runtime, hf))
    with torch.inference_mode():
        together = model(SEQS)
        alone = torch.cat([model([s]) for s in SEQS])
        reversed_ = model(SEQS[::-1]).flip(0)
    torch.testing.assert_close(together, alone, atol=1e-5, rtol=0)
    torch.testing.assert_close(together, reversed_, atol=1e-5, rtol=0)


@needs_bf16
def test_torch_bf16_stays_packed_on_a_bf16_copy() -> None:
    hf = build("bert")
    strategy = make_runtime("torch-bf16", hf)
    assert strategy.packed and runtime_of(strategy) == "torch-bf16"
    assert {p.dtype for p in strategy._current(hf).parameters()} == {torch.bfloat16}  # type: ignore[attr-defined]
    assert {p.dtype for p in hf.parameters()} == {torch.float32}  # the served weights are untouched
    assert PackedRewardModel(hf, strategy)(SEQS).dtype == torch.float32


def test_torch_bf16_is_refused_where_the_cpu_would_emulate_it(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(runtimes, "cpu_has_bf16", lambda: False)
    hf = build("bert")
    with caplog.at_level(logging.WARNING, "modeling.forward.runtimes"):
        strategy = make_runtime("torch-bf16", hf)
    assert runtime_of(strategy) == "torch"
    assert "no native bf16" in caplog.text


def test_auto_is_bf16_where_native_else_int8_where_vnni_else_fp32(monkeypatch: pytest.MonkeyPatch) -> None:
    hf = build("bert")
    native = runtimes.cpu_has_bf16()  # a bf16 copy can only be checked where bf16 is native
    cases = (
        (True, True, "torch-bf16"),
        (True, False, "torch-bf16"),
        (False, True, "torch-int8"),
        (False, False, "torch"),
    )
    for bf16, vnni, expected in cases:
        monkeypatch.setattr(runtimes, "cpu_has_bf16", lambda bf16=bf16: bf16)
        monkeypatch.setattr(runtimes, "cpu_has_vnni", lambda vnni=vnni: vnni)
        assert runtimes.resolve("auto") == expected
        if expected != "torch-bf16" or native:
            assert runtime_of(make_runtime("auto", hf)) == expected
    monkeypatch.delenv("REWARDGATE_CPU_RUNTIME", raising=False)
    assert Settings().cpu_runtime == "auto"  # what a user gets


def test_int8_quantizes_activations_at_full_range_only_with_vnni(monkeypatch: pytest.MonkeyPatch) -> None:
    hf = build("bert")
    for vnni in (True, False):
        monkeypatch.setattr(runtimes, "cpu_has_vnni", lambda vnni=vnni: vnni)
        copied = runtimes.TorchInt8(hf)._current(hf)
        assert {m.reduce_range for m in copied.modules() if isinstance(m, runtimes.Int8Linear)} == {not vnni}


def test_missing_package_falls_back_to_torch_with_a_log_line(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import onnxruntime raises ImportError
    hf = build("bert")
    with caplog.at_level(logging.WARNING, "modeling.forward.runtimes"):
        strategy = make_runtime("onnx-int8", hf)
    assert runtime_of(strategy) == "torch" and strategy.name == "encoder-packed"
    assert "onnxruntime is not installed" in caplog.text and "serving with torch" in caplog.text


def test_an_architecture_onnx_does_not_know_falls_back(caplog: pytest.LogCaptureFixture) -> None:
    hf = build("opt")
    with caplog.at_level(logging.WARNING, "modeling.forward.runtimes"):
        strategy = make_runtime("onnx", hf)
    assert strategy.name == "opt-packed"
    assert "does not run opt models" in caplog.text


def test_a_runtime_off_its_tolerance_is_not_used(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(runtimes.TOLERANCE, "torch-int8", 1e-9)  # int8 is never that close
    hf = build("bert")
    with caplog.at_level(logging.WARNING, "modeling.forward.runtimes"):
        strategy = make_runtime("torch-int8", hf)
    assert runtime_of(strategy) == "torch"
    assert "differ from the fp32 forward" in caplog.text


def test_an_unknown_runtime_is_refused() -> None:
    with pytest.raises(ValidationError):
        Settings(cpu_runtime="tensorrt")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown CPU runtime"):
        make_runtime("tensorrt", build("bert"))


def test_a_loaded_version_serves_with_its_runtime(trained_store: dict[str, Any]) -> None:
    store = ModelStore(trained_store["root"])
    loaded = load_version(store, "default", "current", device="cpu", cpu_runtime="torch-int8")
    assert loaded.runtime == "torch-int8"
    assert load_version(store, "default", "current", device="cpu").runtime == "torch"


def test_the_service_says_which_runtime_serves(trained_store: dict[str, Any], serve: Any) -> None:
    srv = serve(trained_store["root"], device="cpu", cpu_runtime="torch-int8")
    body = httpx.get(srv.url + "/v1/models").json()
    assert body["runtime"] == body["data"][0]["runtime"] == "torch-int8"
    metrics = httpx.get(srv.url + "/metrics").text
    assert 'rewardgate_model_runtime{runtime="torch-int8"} 1.0' in metrics
    scores = httpx.post(srv.url + "/score", json={"items": [{"prompt": "hi", "response": "hello there"}]})
    assert scores.status_code == 200
