"""Self-attention over a packed row for the hand-written paths (OPT, encoders): the q, k, v
projections of all items in one matmul, then attention kept inside each item.

Per-item ``scaled_dot_product_attention`` rather than one block-diagonal mask over the row: a
mask over the whole row costs (all tokens)^2, and torch has no variable-length kernel on CPU
(``torch.nn.attention.varlen`` runs on CUDA only: there ``varlen.py`` takes over); measured at MiniLM's shape (12 heads of 32, 32
items of 10-150 tokens, 2 cores), the loop took 13 ms a layer, one padded SDPA call over the batch
25 ms, padded calls over 4 or 8 length buckets 18-20 ms, nested (jagged) tensors 750 ms.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from . import varlen


def _identity(linears: tuple[Any, ...]) -> tuple[tuple[int, int], ...]:
    """Which tensors the weights are, and how often they were changed in place: a fused copy made
    from other values (an optimizer step, ``.to()``, a load) must not be used."""
    params = [p for lin in linears for p in (lin.weight, lin.bias) if p is not None]
    # weights made under inference_mode have no version counter (and cannot be changed in place
    # outside it): their address alone identifies them
    return tuple((p.data_ptr(), 0 if p.is_inference() else p._version) for p in params)


@dataclass
class FusedQKV:
    """One layer's q, k, v weights as one matrix, q already scaled: one matmul instead of three.
    Made again from the weights when they have changed since (an optimizer step, ``.to()``)."""

    scale: float
    weight: torch.Tensor | None = None
    bias: torch.Tensor | None = None
    source: tuple[tuple[int, int], ...] = ()

    @classmethod
    def of(cls, q: nn.Module, k: nn.Module, v: nn.Module, scale: float) -> FusedQKV | None:
        # only plain Linear layers: a LoRA wrapper's output is not its base weight's
        if not all(type(m) is nn.Linear for m in (q, k, v)):
            return None
        fused = cls(scale)
        fused.weights(q, k, v)
        return fused

    def weights(self, *qkv: Any) -> tuple[torch.Tensor, torch.Tensor | None]:
        source = _identity(qkv)
        if self.weight is None or source != self.source:
            with torch.no_grad():
                q, k, v = qkv
                self.weight = torch.cat([q.weight * self.scale, k.weight, v.weight]).contiguous()
                self.bias = None
                if all(m.bias is not None for m in qkv):
                    self.bias = torch.cat([q.bias * self.scale, k.bias, v.bias])
            self.source = source
        return self.weight, self.bias


class FusesQKV:
    """For a strategy whose code projects each layer's q, k, v itself: ``fuse_for_inference``
    keeps one ``FusedQKV`` per layer, which ``project_qkv`` uses under no_grad."""

    def __init__(self) -> None:
        self._fused: list[FusedQKV | None] = []

    def qkv_layers(self, model: Any) -> list[tuple[nn.Module, nn.Module, nn.Module, float]]:
        """Each layer's q, k and v projections and the scale of q."""
        raise NotImplementedError

    def fuse_for_inference(self, model: Any) -> None:
        self._fused = [FusedQKV.of(*qkv) for qkv in self.qkv_layers(model)]

    def fused(self, layers: int) -> list[FusedQKV | None]:
        return self._fused or [None] * layers


def project_qkv(
    x: torch.Tensor,
    q: nn.Module,
    k: nn.Module,
    v: nn.Module,
    scale: float,
    fused: FusedQKV | None = None,
    rows: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Queries (scaled) for ``rows`` of ``x`` (all rows when None), keys and values for all rows."""
    if fused is not None and not torch.is_grad_enabled():  # training goes through the modules
        w, b = fused.weights(q, k, v)
        if rows is None:
            return F.linear(x, w, b).chunk(3, dim=-1)  # type: ignore[return-value]
        e = w.shape[0] // 3
        qs = F.linear(x[rows], w[:e], None if b is None else b[:e])
        ks, vs = F.linear(x, w[e:], None if b is None else b[e:]).chunk(2, dim=-1)
        return qs, ks, vs
    return q(x if rows is None else x[rows]) * scale, k(x), v(x)


@contextmanager
def one_thread() -> Iterator[None]:
    """Run the enclosed ops on the calling thread alone (OpenMP's thread count is per thread)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(n)


def attend_per_item(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    lengths: list[int],
    heads: int,
    causal: bool,
    dropout_p: float = 0.0,
    one_query: bool = False,
) -> torch.Tensor:
    """Attention inside each item of a packed row, q already scaled. ``k``, ``v``: (tokens, e);
    ``q``: (tokens, e), or with ``one_query`` (items, e): one query per item, the row its score is
    read from."""
    if varlen.runs_on(q, dropout_p, q.shape[-1] // heads):  # CUDA: one variable-length kernel for the row
        return varlen.attend_varlen(q, k, v, lengths, heads, causal, one_query)
    e = q.shape[-1]
    hd = e // heads
    outs = []
    # split, not one slice per item: split's backward is one concatenation, where every slice's
    # would fill a zero gradient the size of the whole row (quadratic in the batch's items)
    items = zip(q.split(1 if one_query else lengths), k.split(lengths), v.split(lengths), strict=True)
    # One item's attention is a small op: on several CPU threads each ends in a barrier, which
    # costs a scheduler time slice whenever another process holds a core. Measured at MiniLM's
    # shape (32 items of 10-150 tokens, 2 cores): the whole forward ran 5.0 items/s this way and
    # 3.1 on 2 threads beside 4 busy processes; on lightly loaded cores the two were within noise.
    with one_thread() if q.device.type == "cpu" else nullcontext():
        for qs, ks, vs in items:
            m, n = qs.shape[0], ks.shape[0]
            # 4-D (1, heads, n, head_dim): the layout CPU flash attention takes (3-D falls back to math)
            o = F.scaled_dot_product_attention(
                qs.view(1, m, heads, hd).transpose(1, 2),
                ks.view(1, n, heads, hd).transpose(1, 2),
                vs.view(1, n, heads, hd).transpose(1, 2),
                # a lone query is the item's last token in a decoder, which sees every earlier one (and
                # SDPA's causal mask is aligned top-left, which would hide them)
                is_causal=causal and not one_query,
                scale=1.0,
                dropout_p=dropout_p,
            )
            outs.append(o.transpose(1, 2).reshape(m, e))
    return torch.cat(outs) if len(outs) > 1 else outs[0]
