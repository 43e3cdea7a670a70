"""BERT-family encoders (BERT, MiniLM, RoBERTa and its relatives), padding-free: all items in one
row of real tokens, position ids restarting per item, token type 0, attention kept inside each
item, and the score read at each item's first token ([CLS], <s>) through the model's own head.

Only the attention is written here; embeddings, the attention output (dense, dropout, residual,
LayerNorm), the feed-forward block and the head are the model's own modules, called on the packed
row. As for OPT, the last layer computes keys and values for every token but the rest for each
item's first token only, the one the head reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from .attention import FusedQKV, FusesQKV, attend_per_item, project_qkv
from .contract import ForwardStrategy
from .packing import PackedBatch, pack

_LAYER_PARTS = ("attention", "intermediate", "output")


def _positions(embeddings: Any, batch: PackedBatch) -> torch.Tensor:
    """Position ids as the model's embeddings number an item alone. RoBERTa-style embeddings
    (they have a ``padding_idx``) count from padding_idx + 1 and give padding tokens padding_idx
    itself, so a pad id inside an item shifts the positions after it, exactly as Hugging Face does."""
    pad = getattr(embeddings, "padding_idx", None)
    if pad is None:
        return batch.positions
    real = (batch.ids != pad).long()
    seen = real.cumsum(0)
    before = (seen[batch.starts] - real[batch.starts]).repeat_interleave(
        torch.tensor(batch.lengths, device=seen.device)
    )
    return (seen - before) * real + pad


class EncoderPacked(FusesQKV, ForwardStrategy):
    name = "encoder-packed"

    @classmethod
    def fits(cls, model: Any) -> bool:
        base = model.base_model
        layers = getattr(getattr(base, "encoder", None), "layer", None)
        if getattr(model.config, "is_decoder", False) or not isinstance(layers, nn.ModuleList) or not layers:
            return False
        if not isinstance(getattr(base, "embeddings", None), nn.Module):
            return False
        if not all(hasattr(layer, part) for layer in layers for part in _LAYER_PARTS):
            return False
        attn: Any = layers[0].attention
        if not all(hasattr(attn.self, name) for name in ("query", "key", "value")):
            return False
        return isinstance(getattr(model, "classifier", None), nn.Module)  # what _head reads through

    def qkv_layers(self, model: Any) -> list[tuple[nn.Module, nn.Module, nn.Module, float]]:
        selfs = [layer.attention.self for layer in model.base_model.encoder.layer]
        return [(a.query, a.key, a.value, _scale(a)) for a in selfs]

    def forward(self, model: Any, seqs: Sequence[Sequence[int]]) -> torch.Tensor:
        base = model.base_model
        batch = pack(seqs, next(model.parameters()).device)
        ids = batch.ids[None]
        h = base.embeddings(
            input_ids=ids, position_ids=_positions(base.embeddings, batch)[None], token_type_ids=torch.zeros_like(ids)
        )[0]
        layers = list(base.encoder.layer)
        fused = self.fused(len(layers))
        for i, layer in enumerate(layers):
            last = i == len(layers) - 1
            h = self._layer(layer, h, batch.lengths, batch.starts if last else None, fused[i])
        return _head(model, h[:, None]).float()

    @staticmethod
    def _layer(
        layer: Any, h: torch.Tensor, lengths: list[int], rows: torch.Tensor | None, fused: FusedQKV | None
    ) -> torch.Tensor:
        """One encoder layer; with ``rows``, its output for those rows only."""
        a = layer.attention.self
        q, k, v = project_qkv(h, a.query, a.key, a.value, _scale(a), fused, rows)
        p = a.dropout.p if layer.training else 0.0
        o = attend_per_item(
            q, k, v, lengths, a.num_attention_heads, causal=False, dropout_p=p, one_query=rows is not None
        )
        x = layer.attention.output(o, h if rows is None else h[rows])
        return layer.output(layer.intermediate(x), x)


def _head(model: Any, first: torch.Tensor) -> torch.Tensor:
    """The model's own head on each item's first token, ``first``: (items, 1, hidden)."""
    pooler = getattr(model.base_model, "pooler", None)
    if pooler is None:  # RoBERTa: its classification head reads position 0 itself
        return model.classifier(first)
    # BERT: the pooler (dense + tanh on [CLS]), dropout, the linear classifier
    return model.classifier(model.dropout(pooler(first)))


def _scale(attn: Any) -> float:
    return float(getattr(attn, "scaling", attn.attention_head_size**-0.5))
