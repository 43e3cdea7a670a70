"""OPT, padding-free and hand-written: all items in one row of real tokens, every linear layer one
matmul over them, attention per item. The score is read off each item's last token, so the last
layer computes keys and values for every token but queries, attention output and MLP for the last
tokens only: the same result for about 5/6 less work in that layer (a benchmark shows this path
faster than transformers' packed sequences for OPT)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .attention import FusedQKV, FusesQKV, attend_per_item, project_qkv
from .contract import ForwardStrategy
from .packing import pack


class OptPacked(FusesQKV, ForwardStrategy):
    name = "opt-packed"

    @classmethod
    def fits(cls, model: Any) -> bool:
        return model.config.model_type == "opt" and isinstance(getattr(model, "score", None), nn.Module)

    def qkv_layers(self, model: Any) -> list[tuple[nn.Module, nn.Module, nn.Module, float]]:
        attns = [layer.self_attn for layer in model.model.decoder.layers]
        return [(a.q_proj, a.k_proj, a.v_proj, a.scaling) for a in attns]

    def forward(self, model: Any, seqs: Sequence[Sequence[int]]) -> torch.Tensor:
        dec = model.model.decoder
        batch = pack(seqs, next(model.parameters()).device)
        x = dec.embed_tokens(batch.ids)
        if dec.project_in is not None:
            x = dec.project_in(x)
        positions = batch.positions + dec.embed_positions.offset
        h = x + F.embedding(positions, dec.embed_positions.weight).to(x.dtype)
        layers = list(dec.layers)
        fused = self.fused(len(layers))
        for i, layer in enumerate(layers):
            last = i == len(layers) - 1
            h = self._layer(layer, h, batch.lengths, batch.ends if last else None, fused[i])
        if dec.final_layer_norm is not None:
            h = dec.final_layer_norm(h)
        if dec.project_out is not None:
            h = dec.project_out(h)
        return model.score(h).float()

    @staticmethod
    def _layer(
        layer: Any, h: torch.Tensor, lengths: list[int], rows: torch.Tensor | None, fused: FusedQKV | None
    ) -> torch.Tensor:
        """One OPT decoder layer; with ``rows``, its output for those rows only."""
        attn = layer.self_attn
        pre, train = layer.do_layer_norm_before, layer.training
        residual = h if rows is None else h[rows]
        x = layer.self_attn_layer_norm(h) if pre else h
        q, k, v = project_qkv(x, attn.q_proj, attn.k_proj, attn.v_proj, attn.scaling, fused, rows)
        p = attn.dropout if train else 0.0
        o = attend_per_item(q, k, v, lengths, attn.num_heads, causal=True, dropout_p=p, one_query=rows is not None)
        h = residual + F.dropout(attn.out_proj(o), layer.dropout, train)
        if not pre:
            h = layer.self_attn_layer_norm(h)
        residual = h
        if pre:
            h = layer.final_layer_norm(h)
        h = layer.fc2(layer.activation_fn(layer.fc1(h)))
        h = residual + F.dropout(h, layer.dropout, train)
        if not pre:
            h = layer.final_layer_norm(h)
        return h
