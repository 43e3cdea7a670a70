"""Training benchmark of the default model (MiniLM on the embedded data): `make train`'s fit
against the reference recipe (random batches of pairs, every item padded to max_length, chosen and
rejected in two forwards, every weight trained), same base, data and pairs per step, in one run.

Besides pairs/s it reports how close each loop runs to the machine: FLOPs per trained token are
about 6 x the non-embedding parameters (forward 2, backward 4), counted over the token positions
each loop really computes (padding included), against the fp32 matmul peak of the same run.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import torch

from training.config import TrainConfig, load_toml
from training.evaluation import encode_pairs
from training.train import build_model, fit, processes, training_data

from .common import log
from .train import reference_loop

CONFIG = Path(__file__).resolve().parents[1] / "training" / "configs" / "default.toml"


def _config(steps: int, prompts: int) -> TrainConfig:
    values = load_toml(CONFIG)
    values.update(max_steps=steps, time_limit_s=0.0, default_prompts=prompts, log_every=10_000)
    # One output, 32 pairs a step: a dimension pair rides on the forwards of its overall pair, so
    # with the dimensions pairs/s would count each comparison twice against the reference recipe's.
    values.update(embedded_dimensions=False, batch_size=32)
    return TrainConfig.from_dict(values)


def _body_params(model: Any) -> int:
    """Parameters that take part in every token's matmuls (not the embedding tables)."""
    emb = {id(p) for m in model.modules() if isinstance(m, torch.nn.Embedding) for p in m.parameters()}
    return sum(p.numel() for p in model.parameters() if id(p) not in emb)


def ours(cfg: TrainConfig, peak: float) -> dict[str, Any]:
    with processes(cfg) as procs, training_data(cfg) as data:
        model = build_model(cfg, data, procs)
        stats = fit(cfg, model, data, procs)
        flops = 6 * _body_params(model.hf) * stats["tokens_seen"]
    secs = stats["seconds"]
    return {
        "pairs_per_s": stats["pairs_per_s"],
        "items_per_s": stats["items_scored"] / secs,
        "tokens_per_s": stats["tokens_seen"] / secs,
        "gflops": flops / secs / 1e9,
        "peak_share": flops / secs / 1e9 / peak,
        "seconds": secs,
    }


def reference(cfg: TrainConfig, peak: float, steps: int) -> dict[str, Any]:
    ref = TrainConfig.from_dict({**dataclasses.asdict(cfg), "freeze_embeddings": False, "base_dropout": -1.0})
    with processes(ref) as procs, training_data(ref) as data:
        model = build_model(ref, data, procs)
        chosen, rejected = encode_pairs(model.spec, model.tokenizer, data.train)
    seen, tokens, secs = reference_loop(model.hf, model.tokenizer.pad_token_id, chosen, rejected, ref, steps)
    flops = 6 * _body_params(model.hf) * seen * 2 * ref.max_length  # padded positions are computed too
    return {
        "pairs_per_s": seen / secs,
        "items_per_s": 2 * seen / secs,
        "tokens_per_s": tokens / secs,
        "gflops": flops / secs / 1e9,
        "peak_share": flops / secs / 1e9 / peak,
        "seconds": secs,
    }


def bench_default_training(peak: float, quick: bool, repeats: int) -> dict[str, Any]:
    steps, ref_steps = (4, 2) if quick else (30, 8)
    cfg = _config(steps, 300 if quick else 1200)
    out: dict[str, Any] = {
        "model": f"{cfg.base_model} (all-MiniLM-L6-v2), max_length {cfg.max_length}, {cfg.batch_size} pairs/step",
        "steps": {"ours": steps, "reference": ref_steps},
        "runs": {},
    }
    for rep in range(repeats):
        for label, fn in (
            (
                "make train fit (prompt-grouped, each item once, padding-free, embeddings frozen)",
                lambda: ours(cfg, peak),
            ),
            ("reference recipe (pad to max_length, two forwards per pair)", lambda: reference(cfg, peak, ref_steps)),
        ):
            r = fn()
            log.info("default training %s #%d: %.2f pairs/s, %.0f GFLOP/s", label, rep, r["pairs_per_s"], r["gflops"])
            out["runs"].setdefault(label, []).append(r)
    return out


def _median(rs: list[dict[str, Any]], key: str) -> float:
    v = sorted(r[key] for r in rs)
    return v[len(v) // 2]


def markdown(t: dict[str, Any]) -> list[str]:
    lines = [
        f"## training the default model: {t['model']}",
        "",
        "| loop | pairs/s | items/s | real tokens/s | GFLOP/s | share of matmul peak |",
        "|---|---|---|---|---|---|",
    ]
    for label, rs in t["runs"].items():
        lines.append(
            f"| {label} | {_median(rs, 'pairs_per_s'):.2f} | {_median(rs, 'items_per_s'):.2f} | "
            f"{_median(rs, 'tokens_per_s'):.0f} | {_median(rs, 'gflops'):.1f} | {_median(rs, 'peak_share'):.2f} |"
        )
    return [*lines, ""]


def ratio(t: dict[str, Any]) -> float:
    ours_rs, ref_rs = list(t["runs"].values())
    return _median(ours_rs, "pairs_per_s") / _median(ref_rs, "pairs_per_s")
