"""The GPU path of the hand-written packed strategies (OPT, BERT-family encoders): attention over
a packed row in one variable-length kernel per layer, ``torch.nn.attention.varlen.varlen_attn``
(FlashAttention), instead of one small kernel per item. It takes the row as it is, (tokens, heads,
head_dim), and where each item starts (``cu_seqlens``), so no token attends outside its item and
nothing is padded.

The kernel runs on CUDA in bf16 or fp16 only (the service's CUDA dtype is bf16), on GPUs
FlashAttention supports; anywhere else, and wherever dropout is on (training with attention
dropout), ``attend_per_item`` keeps its per-item loop. Without a GPU the
suite checks the call on the meta device (shapes, the one-query form) and, with a CPU stand-in that
follows the kernel's documented contract, that the strategies read its output as the Hugging Face
forward reads its own attention.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

DTYPES = (torch.bfloat16, torch.float16)


@functools.cache
def kernel() -> Callable[..., Any] | None:
    """``varlen_attn`` where this torch has it, else None."""
    try:
        from torch.nn.attention.varlen import varlen_attn
    except ImportError:
        return None
    return varlen_attn


def runs_on(q: torch.Tensor, dropout_p: float, head_dim: int = 64) -> bool:
    """Whether the variable-length kernel serves attention on ``q``: CUDA, bf16/fp16, no dropout,
    and what FlashAttention runs on (compute capability 8.0 or newer, heads of at most 256 values,
    a multiple of 8); elsewhere (a T4, a V100) the per-item loop keeps the row packed."""
    if q.device.type != "cuda" or q.dtype not in DTYPES or dropout_p != 0.0 or kernel() is None:
        return False
    return torch.cuda.get_device_capability(q.device) >= (8, 0) and head_dim <= 256 and head_dim % 8 == 0


def cu_seqlens(lengths: list[int], device: torch.device) -> torch.Tensor:
    """(items + 1,) int32: where each item starts in the row, then the row's length."""
    return F.pad(torch.tensor(lengths, dtype=torch.int32).cumsum(0, dtype=torch.int32), (1, 0)).to(device)


def attend_varlen(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, lengths: list[int], heads: int, causal: bool, one_query: bool
) -> torch.Tensor:
    """``attend_per_item``'s contract in one kernel call: q already scaled; ``k``, ``v``: (tokens,
    e); ``q``: (tokens, e), or with ``one_query`` (items, e), one query per item that sees all of
    its item (an encoder's [CLS], a decoder's last token)."""
    e = q.shape[-1]
    hd = e // heads
    cu_k = cu_seqlens(lengths, k.device)
    if one_query:
        cu_q = torch.arange(len(lengths) + 1, dtype=torch.int32, device=q.device)
        max_q = 1
    else:
        cu_q, max_q = cu_k, max(lengths)
    run = kernel()
    assert run is not None
    o = run(
        q.reshape(-1, heads, hd),
        k.reshape(-1, heads, hd),
        v.reshape(-1, heads, hd),
        cu_q,
        cu_k,
        max_q,
        max(lengths),
        scale=1.0,
        # (-1, 0): causal; a lone query is its item's last token and sees every key of its item
        window_size=(-1, 0) if causal and not one_query else (-1, -1),
    )
    return o.reshape(-1, e)
