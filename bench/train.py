"""Training benchmark: `make train`'s loop against the reference recipe (pad to max_length, two
forwards) and, when installed, TRL's RewardTrainer; same model, data, batch, steps, in one run."""

from __future__ import annotations

import json
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from model_store import InputSpec
from modeling import PackedRewardModel, special_ids_of
from modeling.scoring import score_all
from training.config import TrainConfig
from training.data import load_pairs, split
from training.evaluation import encode_pairs
from training.metrics import pair_metrics
from training.model import build
from training.train import lr_factor, make_optimizer, train

from .common import imdb_rows, log


def _config(store: Path, data: Path, steps: int, max_length: int, batch: int) -> TrainConfig:
    return TrainConfig.from_dict(
        dict(
            data=[str(data)],
            format="labelled",
            store=str(store),
            vocab_size=16000,
            hidden_size=256,
            num_layers=4,
            num_heads=4,
            ffn_dim=1024,
            max_length=max_length,
            batch_size=batch,
            max_steps=steps,
            lr=5e-4,
            min_accuracy=0.0,
            log_every=10_000,
            val_fraction=0.1,
        )
    )


def ours(cfg: TrainConfig) -> dict[str, Any]:
    r = train(cfg)
    t = r.train
    return {
        "pairs_per_s": t["pairs_per_s"],
        "tokens_per_s": t["tokens_seen"] / t["seconds"],
        "accuracy": r.metrics.accuracy if r.metrics else float("nan"),
        "seconds": t["seconds"],
    }


def _setup(cfg: TrainConfig) -> tuple[Any, Any, InputSpec, Any, Any]:
    """The same pairs, tokenizer and initial weights as `train(cfg)` builds."""
    pairs = load_pairs(cfg.data, cfg.format, cfg.seed)
    tr, va = split(pairs, cfg.val_fraction, cfg.seed)
    torch.manual_seed(cfg.seed)
    built = build(cfg, (t for p in tr for t in ((p.prompt or ""), p.chosen, p.rejected)))
    hf, tok = built.model, built.tokenizer
    prefix, suffix = special_ids_of(tok)
    spec = InputSpec(max_length=cfg.max_length, prefix_ids=prefix, suffix_ids=suffix)
    return tr, va, spec, hf, tok


def _evaluate(hf: Any, spec: InputSpec, tok: Any, va: Any) -> float:
    vc, vr = encode_pairs(spec, tok, va)
    model = PackedRewardModel(hf)
    return pair_metrics(score_all(model, vc), score_all(model, vr))["accuracy"]


def reference_loop(
    hf: Any, pad_id: int, chosen: list[list[int]], rejected: list[list[int]], cfg: TrainConfig, steps: int
) -> tuple[int, int, float]:
    """The reference recipe's loop: random batches of pairs, every sequence padded to max_length,
    chosen and rejected in two forward passes, the same optimizer and schedule as ours. Returns
    (pairs seen, real tokens, seconds)."""
    hf.train()
    opt = make_optimizer(hf, cfg)
    order = list(range(len(chosen)))
    random.Random(cfg.seed).shuffle(order)

    def padded(seqs: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        ids = torch.full((len(seqs), cfg.max_length), pad_id)
        mask = torch.zeros((len(seqs), cfg.max_length), dtype=torch.long)
        for j, s in enumerate(seqs):
            ids[j, : len(s)] = torch.tensor(s)
            mask[j, : len(s)] = 1
        return ids, mask

    seen = tokens = 0
    t0 = time.perf_counter()
    for step in range(steps):
        for group in opt.param_groups:
            group["lr"] = cfg.lr * lr_factor(step / steps, cfg.warmup_ratio)
        idx = [order[(step * cfg.batch_size + k) % len(order)] for k in range(cfg.batch_size)]
        ci, cm = padded([chosen[i] for i in idx])
        ri, rm = padded([rejected[i] for i in idx])
        rc = hf(input_ids=ci, attention_mask=cm).logits[:, 0]
        rr = hf(input_ids=ri, attention_mask=rm).logits[:, 0]
        loss = -F.logsigmoid(rc - rr).mean()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(hf.parameters(), cfg.max_grad_norm)
        opt.step()
        opt.zero_grad(set_to_none=True)
        seen += len(idx)
        tokens += sum(len(chosen[i]) + len(rejected[i]) for i in idx)
    return seen, tokens, time.perf_counter() - t0


def reference(cfg: TrainConfig) -> dict[str, Any]:
    """The reference recipe on the IMDB pairs."""
    tr, va, spec, hf, tok = _setup(cfg)
    tc, trj = encode_pairs(spec, tok, tr)
    seen, tokens, secs = reference_loop(hf, tok.pad_token_id, tc, trj, cfg, cfg.max_steps)
    return {
        "pairs_per_s": seen / secs,
        "tokens_per_s": tokens / secs,
        "accuracy": _evaluate(hf, spec, tok, va),
        "seconds": secs,
    }


def trl_reward_trainer(cfg: TrainConfig) -> dict[str, Any] | None:
    """TRL's RewardTrainer (fp32, no gradient checkpointing), when trl is installed."""
    try:
        from datasets import Dataset  # type: ignore[import-not-found]
        from trl import RewardConfig, RewardTrainer  # type: ignore[import-not-found]
    except ImportError:
        return None
    tr, va, spec, hf, tok = _setup(cfg)
    ds = Dataset.from_list([{"chosen": p.chosen, "rejected": p.rejected} for p in tr])
    with tempfile.TemporaryDirectory() as out:
        args = RewardConfig(
            output_dir=out,
            per_device_train_batch_size=cfg.batch_size,
            max_steps=cfg.max_steps,
            learning_rate=cfg.lr,
            warmup_steps=int(cfg.max_steps * cfg.warmup_ratio),
            weight_decay=cfg.weight_decay,
            gradient_checkpointing=False,
            report_to=[],
            logging_steps=10_000,
            save_strategy="no",
            max_length=cfg.max_length,
            bf16=False,
            use_cpu=True,
            dataloader_num_workers=0,
            seed=cfg.seed,
            disable_tqdm=True,
        )
        trainer = RewardTrainer(model=hf, args=args, train_dataset=ds, processing_class=tok)
        t0 = time.perf_counter()
        trainer.train()
        secs = time.perf_counter() - t0
    seen = cfg.max_steps * cfg.batch_size
    return {
        "pairs_per_s": seen / secs,
        "tokens_per_s": float("nan"),
        "accuracy": _evaluate(hf, spec, tok, va),
        "seconds": secs,
    }


def bench_training(n_reviews: int, steps: int, repeats: int, max_length: int = 512, batch: int = 8) -> dict[str, Any]:
    rows = imdb_rows(n_reviews, seed=1)
    out: dict[str, Any] = {
        "steps": steps,
        "batch_pairs": batch,
        "max_length": max_length,
        "reviews": n_reviews,
        "model": "OPT 4 layers x 256 (scratch), fp32",
        "runs": {},
    }
    with tempfile.TemporaryDirectory() as d:
        data = Path(d) / "imdb.jsonl"
        data.write_text("".join(json.dumps({"text": r["text"], "label": r["label"]}) + "\n" for r in rows))
        cfg = _config(Path(d) / "store", data, steps, max_length, batch)
        for rep in range(repeats):
            for label, fn in (
                ("make train loop (packed, one forward)", ours),
                ("reference recipe (pad to max_length, two forwards)", reference),
                ("TRL RewardTrainer", trl_reward_trainer),
            ):
                if label == "TRL RewardTrainer" and steps < 10:
                    continue  # quick mode: TRL start-up alone would dominate
                r = fn(cfg)
                if r is None:
                    out["runs"].setdefault(label, {"skipped": "trl/datasets not installed (pip install .[bench])"})
                    continue
                log.info("train %s #%d: %.2f pairs/s, accuracy %.3f", label, rep, r["pairs_per_s"], r["accuracy"])
                out["runs"].setdefault(label, []).append(r)
    return out
