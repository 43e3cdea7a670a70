"""The GPU path of the hand-written packed strategies (``modeling/forward/varlen.py``): one
variable-length attention kernel per layer on CUDA. Without a GPU: the real kernel's call checked
on the meta device, and the packed strategies, routed through a CPU stand-in that follows the
kernel's documented contract, equal to the Hugging Face forward of each item alone."""

from __future__ import annotations

from typing import Any

import pytest
import torch
import torch.nn.functional as F
import transformers as tf

from modeling import PackedRewardModel
from modeling.forward import varlen
from tests.test_forward import DECODER, SEQS, build, hf_alone

needs_kernel = pytest.mark.skipif(varlen.kernel() is None, reason="this torch has no torch.nn.attention.varlen")
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def _stand_in(calls: list[int]) -> Any:
    """``varlen_attn`` as documented (q, k, v: (tokens, heads, head_dim); cu_seq_q/cu_seq_k: where
    each sequence starts; window (-1, 0): causal, aligned so a sequence's last query sees all its
    keys), one SDPA call per sequence on CPU."""

    def run(
        q: Any,
        k: Any,
        v: Any,
        cu_q: Any,
        cu_k: Any,
        max_q: int,
        max_k: int,
        *,
        scale: float | None,
        window_size: Any,
        enable_gqa: bool = False,
    ) -> Any:
        calls.append(len(cu_q) - 1)
        outs = []
        for i in range(len(cu_q) - 1):
            qs, ks, vs = (
                t[a:b].transpose(0, 1)[None]
                for t, a, b in ((q, cu_q[i], cu_q[i + 1]), (k, cu_k[i], cu_k[i + 1]), (v, cu_k[i], cu_k[i + 1]))
            )
            m, n = qs.shape[2], ks.shape[2]
            mask = None
            if window_size == (-1, 0):  # bottom-right aligned, as FlashAttention's causal
                mask = torch.ones(m, n, dtype=torch.bool).tril(n - m)
            o = F.scaled_dot_product_attention(qs, ks, vs, attn_mask=mask, scale=scale, enable_gqa=enable_gqa)
            outs.append(o[0].transpose(0, 1))
        return torch.cat(outs)

    return run


@pytest.mark.parametrize("family", ["bert", "roberta", "opt", "opt-post-ln"])
def test_packed_strategies_read_the_variable_length_kernel_right(family: str, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    monkeypatch.setattr(varlen, "kernel", lambda: _stand_in(calls))
    monkeypatch.setattr(varlen, "runs_on", lambda q, dropout_p, head_dim=64: dropout_p == 0.0)
    hf = build(family)
    with torch.no_grad():
        ref = hf_alone(hf, SEQS)
        got = PackedRewardModel(hf)(SEQS)
    torch.testing.assert_close(got, ref, atol=1e-4, rtol=1e-4)
    layers = hf.config.num_hidden_layers
    # (the probe that chose the strategy went through it before)
    assert calls[-layers:] == [len(SEQS)] * layers, "every layer's attention went through the kernel, once"


def test_the_kernel_serves_only_cuda_half_precision_without_dropout() -> None:
    q = torch.zeros(4, 8)
    assert not varlen.runs_on(q, 0.0)  # CPU: the per-item loop
    assert not varlen.runs_on(q.bfloat16(), 0.0)
    assert varlen.cu_seqlens([3, 1, 5], torch.device("cpu")).tolist() == [0, 3, 4, 9]


@needs_kernel
def test_the_real_kernel_takes_the_call_as_made(monkeypatch: pytest.MonkeyPatch) -> None:
    """On the meta device, the real ``varlen_attn`` checks the arguments and gives the shapes."""
    lengths, heads, hd = [5, 2, 9], 4, 8
    t = sum(lengths)
    q = torch.empty(t, heads * hd, device="meta", dtype=torch.bfloat16)
    out = varlen.attend_varlen(q, q, q, lengths, heads, causal=True, one_query=False)
    assert out.shape == (t, heads * hd)
    first = torch.empty(len(lengths), heads * hd, device="meta", dtype=torch.bfloat16)
    assert varlen.attend_varlen(first, q, q, lengths, heads, causal=False, one_query=True).shape == (3, heads * hd)


@pytest.mark.gpu
@needs_cuda
@needs_kernel
@pytest.mark.parametrize("family", ["bert", "opt", "llama"])
def test_on_cuda_the_packed_forward_in_bf16_matches_the_padded_one(
    family: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = varlen.kernel()
    calls: list[int] = []

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)  # type: ignore[misc]

    monkeypatch.setattr(varlen, "kernel", lambda: counted)
    hf = build(family).cuda().to(torch.bfloat16)
    model = PackedRewardModel(hf)
    assert model.strategy.name == {"bert": "encoder-packed", "opt": "opt-packed", "llama": "decoder-varlen"}[family]
    with torch.no_grad():
        ref = torch.stack([hf(torch.tensor([s], device="cuda")).logits[0, 0] for s in SEQS]).float()
        calls.clear()
        got = model(SEQS).float()
    assert len(calls) == hf.config.num_hidden_layers, "each layer's attention ran in the kernel"
    torch.testing.assert_close(got, ref, atol=5e-2, rtol=5e-2)


@pytest.mark.parametrize("family", ["gpt2", "llama", "qwen3"])
def test_decoders_run_one_row_through_the_kernel_as_transformers_attention(
    family: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """transformers' decoders, with the kernel named as their attention for the packed forward
    only: equal to each item alone, and the model's own attention is back afterwards."""
    calls: list[int] = []
    monkeypatch.setattr(varlen, "kernel", lambda: _stand_in(calls))
    monkeypatch.setattr(varlen, "runs_on", lambda q, dropout_p, head_dim=64: dropout_p == 0.0)
    if family == "qwen3":  # the shape issue 19 names for the GPU benchmark
        torch.manual_seed(0)
        hf = tf.AutoModelForSequenceClassification.from_config(tf.Qwen3Config(**DECODER)).eval()
    else:
        hf = build(family)
    own = hf.config._attn_implementation
    model = PackedRewardModel(hf)
    assert model.strategy.name == "decoder-varlen"
    with torch.no_grad():
        ref = hf_alone(hf, SEQS)
        got = model(SEQS)
    torch.testing.assert_close(got, ref, atol=1e-4, rtol=1e-4)
    layers = hf.config.num_hidden_layers
    assert calls[-layers:] == [len(SEQS)] * layers
    assert hf.config._attn_implementation == own


def test_off_cuda_decoders_keep_transformers_rows() -> None:
    assert PackedRewardModel(build("llama")).strategy.name == "decoder-packed"
