"""Decoders with a ``score`` head (GPT-2, Llama, Qwen, Mistral, ...) on CUDA: every item in one
packed row, and each layer's attention in one variable-length kernel (``varlen.py``) instead of the
mask transformers builds over a row. transformers calls the attention function its config names
and hands it the keyword arguments the model was called with: this strategy registers one,
``rewardgate-varlen``, passes each item's start (``cu_seq_lens_q``/``_k``) and names the function
only for the duration of its own forward, so the padded forward of the same model (the probe's
reference, the fallback) keeps the model's own attention. transformers builds no mask for an
attention function it has no mask function for.

It fits where ``varlen.runs_on`` holds for the model's device and dtype; elsewhere the row
strategy (``decoder.py``) serves. A model whose attention needs what the kernel is not given
(a sliding window, soft-capping, attention sinks) raises inside the function, so the probe fails
and the model is served by the next strategy.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

from . import varlen
from .contract import ForwardStrategy

NAME = "rewardgate-varlen"


def _attention(
    module: nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    dropout: float = 0.0,
    scaling: float | None = None,
    is_causal: bool | None = None,
    **kwargs: Any,
) -> tuple[torch.Tensor, None]:
    """transformers' attention-function contract: q (1, heads, tokens, head_dim), k and v (1,
    kv_heads, tokens, head_dim); returns (1, tokens, heads, head_dim)."""
    window = kwargs.get("sliding_window")
    if window is not None and int(kwargs.get("max_length_q", window + 1)) <= window:
        window = None  # no item is longer than the window: it hides nothing
    unsupported = [k for k in ("softcap", "s_aux") if kwargs.get(k) is not None] + (
        ["sliding_window"] if window else []
    )
    if unsupported or dropout or query.shape[0] != 1 or "cu_seq_lens_q" not in kwargs:
        raise NotImplementedError(f"{NAME}: one packed row without {', '.join(unsupported) or 'dropout'} only")
    run = varlen.kernel()
    assert run is not None
    causal = getattr(module, "is_causal", True) if is_causal is None else is_causal
    cu, longest = kwargs["cu_seq_lens_q"], int(kwargs["max_length_q"])
    out = run(
        query[0].transpose(0, 1),
        key[0].transpose(0, 1),
        value[0].transpose(0, 1),
        cu,
        cu,
        longest,
        longest,
        scale=scaling,
        window_size=(-1, 0) if causal else (-1, -1),
        enable_gqa=key.shape[1] != query.shape[1],
    )
    return out[None], None


@functools.cache
def _register() -> None:
    from transformers import AttentionInterface

    AttentionInterface.register(NAME, _attention)


_SWITCH = threading.Lock()


@contextmanager
def _attention_of(model: Any) -> Iterator[None]:
    """Name ``rewardgate-varlen`` as the model's attention for the enclosed calls. The name lives on
    the model's config, shared by every caller: the lock keeps a concurrent forward of the same
    model (the service runs one torch thread, a user's code may not) from seeing it or leaving it
    there."""
    with _SWITCH:
        configs = {id(c): c for c in (model.config, getattr(model.base_model, "config", model.config))}.values()
        before = [c._attn_implementation for c in configs]
        for c in configs:
            c._attn_implementation = NAME
        try:
            yield
        finally:
            for c, b in zip(configs, before, strict=True):
                c._attn_implementation = b


class DecoderVarlen(ForwardStrategy):
    name = "decoder-varlen"

    @classmethod
    def fits(cls, model: Any) -> bool:
        if not isinstance(getattr(model, "score", None), nn.Module):
            return False
        p = next(model.parameters())
        c = model.config
        head_dim = getattr(c, "head_dim", None) or c.hidden_size // c.num_attention_heads
        return varlen.runs_on(p, 0.0, head_dim) and bool(getattr(model, "_supports_attention_backend", False))

    def forward(self, model: Any, seqs: Sequence[Sequence[int]]) -> torch.Tensor:
        _register()
        dev = next(model.parameters()).device
        lengths = [len(s) for s in seqs]
        ids = torch.tensor([t for s in seqs for t in s], dtype=torch.long, device=dev)[None]
        positions = torch.cat([torch.arange(n) for n in lengths]).to(dev)[None]
        cu = varlen.cu_seqlens(lengths, dev)
        with _attention_of(model):
            out = model.base_model(
                input_ids=ids,
                position_ids=positions,
                use_cache=False,
                cu_seq_lens_q=cu,
                cu_seq_lens_k=cu,
                max_length_q=max(lengths),
                max_length_k=max(lengths),
            )
        last = cu[1:].long() - 1
        return model.score(out[0][0, last]).float()
