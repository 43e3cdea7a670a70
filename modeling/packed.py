"""Padding-free reward forward pass.

Items of a batch are concatenated into one row of tokens: every linear layer then runs one
large matmul over real tokens only (no padding, better CPU/GPU efficiency than many small
ones), and attention runs per item. OPT has a hand-written path (it leaves out the last layer's
work for every token but the last, which a benchmark shows faster). Every other decoder with a
``score`` head runs transformers' own packed-sequence support: one row, position ids restarting
per item, from which transformers builds a mask that keeps items apart; the score is read at each
item's last token. A decoder whose result differs from its padded forward on a probe is served
padded instead; encoders (BERT, RoBERTa, DeBERTa) are padded to the longest item of the batch.

The result equals ``AutoModelForSequenceClassification(...)(ids).logits[:, 0]`` of each item
scored alone (tests check it).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

log = logging.getLogger(__name__)


class PackedRewardModel(nn.Module):
    """Wraps a ``*ForSequenceClassification`` model with ``num_labels=1``: ``forward(seqs)``
    returns one scalar reward per token sequence."""

    model: Any  # a transformers model; its submodules are reached by name

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        config: Any = model.config
        self.pad_id = config.pad_token_id if config.pad_token_id is not None else 0
        self.path = "opt" if config.model_type == "opt" else "padded"
        if self.path == "padded" and isinstance(getattr(model, "score", None), nn.Module):
            self.path = "decoder" if self._packing_matches() else "padded"
        self._fused: list[tuple[torch.Tensor, torch.Tensor | None]] | None = None

    @property
    def packed(self) -> bool:
        """Whether a batch runs without padding every item to the longest one."""
        return self.path != "padded"

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def fuse_for_inference(self) -> None:
        """Pre-compute one QKV weight per layer (q already scaled), for inference only."""
        if self.path != "opt":
            return
        fused = []
        with torch.no_grad():
            layers: Any = self.model.model.decoder.layers
            for layer in layers:
                a: Any = layer.self_attn
                w = torch.cat([a.q_proj.weight * a.scaling, a.k_proj.weight, a.v_proj.weight])
                b = None
                if a.q_proj.bias is not None:
                    b = torch.cat([a.q_proj.bias * a.scaling, a.k_proj.bias, a.v_proj.bias])
                fused.append((w.contiguous(), b))
        self._fused = fused

    def forward(self, seqs: Sequence[Sequence[int]]) -> torch.Tensor:
        if not seqs or any(len(s) == 0 for s in seqs):
            raise ValueError("every sequence needs at least one token")
        if self.path == "opt":
            return self._opt_packed(seqs)
        if self.path == "decoder":
            return self._decoder_packed(seqs)
        return self._padded(seqs)

    @torch.no_grad()
    def _packing_matches(self) -> bool:
        """Whether the packed forward of this decoder equals its padded one, on two items of
        different lengths: a model whose masks ignore position ids (or that has none) would let
        items attend to each other, and is served padded instead."""
        was_training = self.model.training
        self.model.eval()
        vocab = int(getattr(self.model.config, "vocab_size", 0) or 0)
        probe = [[(7 * i + 3) % vocab for i in range(9)], [(5 * i + 1) % vocab for i in range(4)]]
        try:
            packed = self._decoder_packed(probe)
            padded = torch.stack([self._padded([s])[0] for s in probe])
        except Exception as exc:  # an architecture the packed call does not fit
            log.info("%s: padded forward (packing failed: %s)", self.model.config.model_type, exc)
            return False
        finally:
            self.model.train(was_training)
        tol = 1e-3 if next(self.model.parameters()).dtype == torch.float32 else 5e-2
        same = bool(torch.allclose(packed, padded, atol=tol, rtol=tol))
        if not same:
            log.info("%s: padded forward (packed result differs)", self.model.config.model_type)
        return same

    # -- any decoder, padding-free through transformers' packed sequences -----------------
    ROW_TOKENS = 256  # shortest packed row: rows hold whole items, so a longer item makes a longer row

    def _rows(self, lengths: list[int]) -> tuple[list[list[int]], int]:
        """Item indices per packed row, and the rows' width (no all-padding columns)."""
        cap = max(max(lengths), self.ROW_TOKENS)
        rows: list[list[int]] = []
        room: list[int] = []
        for i in sorted(range(len(lengths)), key=lambda i: -lengths[i]):
            r = next((r for r, free in enumerate(room) if free >= lengths[i]), None)
            if r is None:
                rows.append([])
                room.append(cap)
                r = len(rows) - 1
            rows[r].append(i)
            room[r] -= lengths[i]
        return rows, cap - min(room)

    def computed_tokens(self, lengths: list[int]) -> int:
        """Token positions a batch of items of these lengths really computes, padding included."""
        if self.path == "opt":
            return sum(lengths)
        if self.path == "decoder":
            rows, width = self._rows(lengths)
            return len(rows) * width
        return len(lengths) * max(lengths)

    def _decoder_packed(self, seqs: Sequence[Sequence[int]]) -> torch.Tensor:
        """Items packed into rows of ROW_TOKENS, or of the longest item when longer (first fit,
        longest first), with
        position ids restarting per item and no attention mask: transformers then keeps each
        item's attention to itself. Its mask is dense over a row, so one row for the whole batch
        would cost (all tokens)^2 in attention; rows bound that to (all tokens) x (row length).
        A row's unused tail is padding at position 0 throughout: each such token is a sequence
        of its own to that mask, attending only to itself, and no position runs past the model's."""
        dev = self.device
        lengths = [len(s) for s in seqs]
        rows, width = self._rows(lengths)
        ids = torch.full((len(rows), width), self.pad_id, dtype=torch.long)
        pos = torch.zeros((len(rows), width), dtype=torch.long)
        end_row, end_col = [0] * len(seqs), [0] * len(seqs)
        for r, members in enumerate(rows):
            off = 0
            for i in members:
                n = lengths[i]
                ids[r, off : off + n] = torch.as_tensor(seqs[i], dtype=torch.long)
                pos[r, off : off + n] = torch.arange(n)
                end_row[i], end_col[i] = r, off + n - 1
                off += n
        out = self.model.base_model(input_ids=ids.to(dev), position_ids=pos.to(dev), use_cache=False)
        h = out[0][torch.tensor(end_row, device=dev), torch.tensor(end_col, device=dev)]
        score: Any = self.model.score
        return score(h)[:, 0].float()

    # -- generic path ----------------------------------------------------------------------
    def _padded(self, seqs: Sequence[Sequence[int]]) -> torch.Tensor:
        width = max(len(s) for s in seqs)
        ids = torch.full((len(seqs), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(seqs), width), dtype=torch.long)
        for i, s in enumerate(seqs):
            ids[i, : len(s)] = torch.as_tensor(s, dtype=torch.long)
            mask[i, : len(s)] = 1
        dev = self.device
        out = self.model(input_ids=ids.to(dev), attention_mask=mask.to(dev))
        return out.logits[:, 0].float()

    # -- OPT, padding-free ---------------------------------------------------------------
    def _opt_packed(self, seqs: Sequence[Sequence[int]]) -> torch.Tensor:
        dec: Any = self.model.model.decoder
        dev = self.device
        lengths = [len(s) for s in seqs]
        flat = torch.tensor([t for s in seqs for t in s], dtype=torch.long)
        positions = torch.cat([torch.arange(n) for n in lengths]) + dec.embed_positions.offset
        if dev.type == "cuda":
            flat = flat.pin_memory().to(dev, non_blocking=True)
            positions = positions.pin_memory().to(dev, non_blocking=True)
        x = dec.embed_tokens(flat)
        if dec.project_in is not None:
            x = dec.project_in(x)
        h = x + F.embedding(positions, dec.embed_positions.weight).to(x.dtype)
        fused = self._fused if not torch.is_grad_enabled() else None
        layers = list(dec.layers)
        for i, layer in enumerate(layers[:-1]):
            h = self._opt_layer(layer, h, lengths, fused[i] if fused else None)
        ends = torch.tensor(lengths, device=dev).cumsum(0) - 1
        # The score is read off each item's last token, so the last layer computes keys and values
        # for every token but queries, attention output and MLP for the last tokens only: the same
        # result for about 5/6 less work in that layer.
        h = self._opt_last_layer(layers[-1], h, lengths, ends, fused[-1] if fused else None)
        if dec.final_layer_norm is not None:
            h = dec.final_layer_norm(h)
        if dec.project_out is not None:
            h = dec.project_out(h)
        score: Any = self.model.score
        return score(h)[:, 0].float()

    def _opt_last_layer(
        self,
        layer: Any,
        h: torch.Tensor,
        lengths: list[int],
        ends: torch.Tensor,
        fused: tuple[torch.Tensor, torch.Tensor | None] | None,
    ) -> torch.Tensor:
        attn: Any = layer.self_attn
        pre = layer.do_layer_norm_before
        train = self.training
        residual = h[ends]
        x = layer.self_attn_layer_norm(h) if pre else h
        e = attn.embed_dim
        if fused is not None:
            w, b = fused
            q = F.linear(x[ends], w[:e], None if b is None else b[:e])
            k, v = F.linear(x, w[e:], None if b is None else b[e:]).split(e, dim=-1)
        else:
            q = attn.q_proj(x[ends]) * attn.scaling
            k = attn.k_proj(x)
            v = attn.v_proj(x)
        heads, hd = attn.num_heads, attn.head_dim
        p = attn.dropout if train else 0.0
        outs = []
        start = 0
        for i, n in enumerate(lengths):
            sl = slice(start, start + n)
            qs = q[i : i + 1].view(1, 1, heads, hd).transpose(1, 2)
            ks = k[sl].view(1, n, heads, hd).transpose(1, 2)
            vs = v[sl].view(1, n, heads, hd).transpose(1, 2)
            # the last position sees every earlier one: no mask needed
            o = F.scaled_dot_product_attention(qs, ks, vs, scale=1.0, dropout_p=p)
            outs.append(o.transpose(1, 2).reshape(1, e))
            start += n
        o = torch.cat(outs) if len(outs) > 1 else outs[0]
        return self._opt_finish(layer, residual, o)

    def _opt_layer(
        self,
        layer: Any,
        h: torch.Tensor,
        lengths: list[int],
        fused: tuple[torch.Tensor, torch.Tensor | None] | None,
    ) -> torch.Tensor:
        attn: Any = layer.self_attn
        pre = layer.do_layer_norm_before
        train = self.training
        residual = h
        if pre:
            h = layer.self_attn_layer_norm(h)
        e = attn.embed_dim
        if fused is not None:
            q, k, v = F.linear(h, fused[0], fused[1]).split(e, dim=-1)
        else:
            q = attn.q_proj(h) * attn.scaling
            k = attn.k_proj(h)
            v = attn.v_proj(h)
        heads, hd = attn.num_heads, attn.head_dim
        p = attn.dropout if train else 0.0
        outs = []
        start = 0
        for n in lengths:
            sl = slice(start, start + n)
            # 4-D (1, heads, n, head_dim): the layout CPU flash attention takes (3-D falls back to math)
            qs = q[sl].view(1, n, heads, hd).transpose(1, 2)
            ks = k[sl].view(1, n, heads, hd).transpose(1, 2)
            vs = v[sl].view(1, n, heads, hd).transpose(1, 2)
            o = F.scaled_dot_product_attention(qs, ks, vs, is_causal=True, scale=1.0, dropout_p=p)
            outs.append(o.transpose(1, 2).reshape(n, e))
            start += n
        o = torch.cat(outs) if len(outs) > 1 else outs[0]
        return self._opt_finish(layer, residual, o)

    def _opt_finish(self, layer: Any, residual: torch.Tensor, o: torch.Tensor) -> torch.Tensor:
        """Attention output projection, residuals, layer norms and the MLP of one OPT layer."""
        pre = layer.do_layer_norm_before
        train = self.training
        h = residual + F.dropout(layer.self_attn.out_proj(o), layer.dropout, train)
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
