"""`make train`: data -> pairs -> model -> Bradley-Terry training -> evaluation -> publish.

Reads top to bottom. Runs unchanged on one CPU, one GPU, or several processes under
``torchrun`` / ``accelerate launch`` (DDP; the environment says which).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
import torch.nn.functional as F

from model_store import InputSpec, ModelStore, PackedRewardModel, encode, prefix_ids_of

from . import default_data
from .config import TrainConfig
from .data import Pair, fingerprint, load_pairs, split
from .evaluate import calibrate_threshold, pair_metrics, report, score_all
from .model import build

log = logging.getLogger("training")


class QualityGateFailed(RuntimeError):
    pass


def length_grouped_batches(lengths: list[int], batch_size: int, rng: random.Random, group: bool) -> list[list[int]]:
    """Shuffled batches of indices; with ``group``, each batch holds pairs of similar length
    (sorted within shuffled windows of 50 batches, as HF's group_by_length), so a padded
    fallback model wastes little on padding."""
    idx = list(range(len(lengths)))
    rng.shuffle(idx)
    if group:
        window = batch_size * 50
        idx = [i for w in range(0, len(idx), window) for i in sorted(idx[w : w + window], key=lambda i: -lengths[i])]
    batches = [idx[i : i + batch_size] for i in range(0, len(idx), batch_size)]
    rng.shuffle(batches)
    return batches


def bt_loss(
    r_chosen: torch.Tensor, r_rejected: torch.Tensor, margin: torch.Tensor, weight: torch.Tensor
) -> torch.Tensor:
    """Bradley-Terry: -log sigmoid(r_c - r_r - margin), weighted by labeller agreement."""
    per_pair = -F.logsigmoid(r_chosen - r_rejected - margin)
    return (per_pair * weight).sum() / weight.sum()


def make_optimizer(
    model: torch.nn.Module, cfg: TrainConfig, total_steps: int, fused: bool = False
) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler]:
    """AdamW (no decay on biases and norms), linear warm-up then linear decay to zero."""
    warmup = int(total_steps * cfg.warmup_ratio)
    decay: list[torch.nn.Parameter] = []
    no_decay: list[torch.nn.Parameter] = []
    for n, p in model.named_parameters():
        (no_decay if p.ndim < 2 or "norm" in n else decay).append(p)
    optim = torch.optim.AdamW(
        [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=cfg.lr,
        fused=fused,
    )
    sched = torch.optim.lr_scheduler.LambdaLR(
        optim,
        lambda s: (s + 1) / (warmup + 1) if s < warmup else max(0.0, (total_steps - s) / max(1, total_steps - warmup)),
    )
    return optim, sched


def encode_pairs(spec: InputSpec, tokenizer: Any, pairs: list[Pair]) -> tuple[list[list[int]], list[list[int]]]:
    chosen = encode(spec, tokenizer, [(p.prompt, p.chosen) for p in pairs])
    rejected = encode(spec, tokenizer, [(p.prompt, p.rejected) for p in pairs])
    return chosen, rejected


def train(cfg: TrainConfig) -> dict[str, Any]:
    # -- processes and devices -------------------------------------------------------------
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    cuda = torch.cuda.is_available()
    if world > 1:
        dist.init_process_group("nccl" if cuda else "gloo")
    device = torch.device(f"cuda:{local_rank}" if cuda else "cpu")
    if cuda:
        torch.cuda.set_device(device)
    if cfg.num_threads:
        torch.set_num_threads(cfg.num_threads)
    main = rank == 0
    use_bf16 = cfg.dtype == "bfloat16" or (cfg.dtype == "auto" and cuda and torch.cuda.is_bf16_supported())
    torch.manual_seed(cfg.seed)

    # -- data ------------------------------------------------------------------------------
    sources = list(cfg.data)
    tmpdir = None
    if not sources:
        tmpdir = tempfile.TemporaryDirectory(prefix="rewardgate-data-")
        sources = [str(default_data.write(Path(tmpdir.name) / "default.jsonl", cfg.default_prompts, cfg.seed))]
        log.info("no data given: using the embedded customer-support set (%d questions)", cfg.default_prompts)
    pairs = load_pairs(sources, cfg.format, cfg.seed)
    data_fp = (
        fingerprint(cfg.data) if cfg.data else {"embedded": f"default_data(n={cfg.default_prompts}, seed={cfg.seed})"}
    )
    train_pairs, val_pairs = split(pairs, cfg.val_fraction, cfg.seed)
    if cfg.max_pairs:
        train_pairs = train_pairs[: cfg.max_pairs]
    if not train_pairs or not val_pairs:
        raise ValueError(f"need training and validation pairs, got {len(train_pairs)} and {len(val_pairs)}")
    log.info("%d pairs: %d train, %d validation", len(pairs), len(train_pairs), len(val_pairs))

    # -- model and tokenizer --------------------------------------------------------------
    texts = (t for p in train_pairs for t in ((p.prompt or ""), p.chosen, p.rejected))
    hf_model: Any
    hf_model, tokenizer = build(cfg, texts)
    spec = InputSpec(
        template=cfg.template,
        template_no_prompt=cfg.template_no_prompt,
        max_length=cfg.max_length,
        truncation_side="left",
        prefix_ids=prefix_ids_of(tokenizer),
    )
    model = PackedRewardModel(hf_model).to(device).train()
    train_c, train_r = encode_pairs(spec, tokenizer, train_pairs)
    val_c, val_r = encode_pairs(spec, tokenizer, val_pairs)
    lengths = [len(c) + len(r) for c, r in zip(train_c, train_r, strict=True)]
    ddp_model: torch.nn.Module = model
    if world > 1:
        ddp_model = torch.nn.parallel.DistributedDataParallel(model, device_ids=[local_rank] if cuda else None)

    # -- optimisation ---------------------------------------------------------------------
    steps_per_epoch = max(1, len(train_pairs) // (cfg.batch_size * world * cfg.grad_accum))
    total_steps = cfg.max_steps or max(1, math.ceil(steps_per_epoch * cfg.epochs))
    optim, sched = make_optimizer(model, cfg, total_steps, fused=cuda)

    step, seen, tokens, t0 = 0, 0, 0, time.perf_counter()
    run_loss, run_acc, run_n = 0.0, 0.0, 0
    epoch = 0
    done = False
    while not done:
        batches = length_grouped_batches(lengths, cfg.batch_size, random.Random(cfg.seed + epoch), cfg.group_by_length)
        per_rank = len(batches) // world  # equal counts keep DDP ranks in step
        batches = batches[rank * per_rank : (rank + 1) * per_rank]
        for bi in range(0, len(batches) - cfg.grad_accum + 1, cfg.grad_accum):
            for micro in batches[bi : bi + cfg.grad_accum]:
                seqs = [train_c[i] for i in micro] + [train_r[i] for i in micro]
                margin = torch.tensor([train_pairs[i].margin for i in micro], device=device)
                weight = torch.tensor([train_pairs[i].weight for i in micro], device=device)
                with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_bf16):
                    scores = ddp_model(seqs).float()
                rc, rr = scores[: len(micro)], scores[len(micro) :]
                loss = bt_loss(rc, rr, margin, weight)
                (loss / cfg.grad_accum).backward()
                run_loss += loss.item()
                run_acc += (rc > rr).float().mean().item()
                run_n += 1
                seen += len(micro)
                tokens += sum(len(s) for s in seqs)
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.max_grad_norm)
            optim.step()
            sched.step()
            optim.zero_grad(set_to_none=True)
            step += 1
            elapsed = time.perf_counter() - t0
            if main and (step % cfg.log_every == 0 or step == total_steps):
                log.info(
                    "step %d/%d  loss %.4f  acc %.3f  lr %.2e  %.1f pairs/s  %.0f tok/s",
                    step,
                    total_steps,
                    run_loss / run_n,
                    run_acc / run_n,
                    sched.get_last_lr()[0],
                    seen * world / elapsed,
                    tokens * world / elapsed,
                )
                run_loss, run_acc, run_n = 0.0, 0.0, 0
            if step >= total_steps or (cfg.time_limit_s and elapsed >= cfg.time_limit_s):
                done = True
                break
        epoch += 1
    train_s = time.perf_counter() - t0
    train_stats = {
        "steps": step,
        "pairs_seen": seen * world,
        "tokens_seen": tokens * world,
        "seconds": train_s,
        "pairs_per_s": seen * world / train_s,
        "world_size": world,
    }
    if world > 1:
        dist.barrier()

    # -- evaluation, threshold, publish (rank 0) ----------------------------------------------
    result: dict[str, Any] = {"train": train_stats}
    if main:
        sc = score_all(model, val_c, cfg.eval_batch_tokens)
        sr = score_all(model, val_r, cfg.eval_batch_tokens)
        metrics = pair_metrics(sc, sr)
        threshold = calibrate_threshold(sc, sr, cfg.threshold_method, cfg.target_block_rate)
        passed = metrics["accuracy"] >= cfg.min_accuracy
        manifest = {
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "base_model": cfg.base_model,
            "architecture": hf_model.config.model_type,
            "dtype": "bfloat16",
            "input": spec.to_manifest(),
            "training_config": dataclasses.asdict(cfg),
            "data": {**data_fp, "pairs_train": len(train_pairs), "pairs_validation": len(val_pairs)},
            "metrics": metrics,
            "score_stats": {"mean": metrics["score_mean"], "std": metrics["score_std"]},
            "threshold": threshold,
            "quality_gate": {"min_accuracy": cfg.min_accuracy, "passed": passed},
            "train": train_stats,
            "environment": {"python": platform.python_version(), "torch": torch.__version__, "device": str(device)},
        }

        def write(d: Path) -> None:
            hf_model.to(torch.bfloat16).save_pretrained(d, safe_serialization=True)
            tokenizer.save_pretrained(d)

        store = ModelStore(cfg.store or None)
        version = store.publish(cfg.name, write, manifest, make_current=passed and cfg.promote)
        text = report(cfg.name, version.id, metrics, threshold, train_stats)
        log.info("\n%s", text)
        result.update(
            version=version.id,
            path=str(version.path),
            metrics=metrics,
            threshold=threshold,
            promoted=passed and cfg.promote,
            report=text,
        )
        if not passed:
            raise QualityGateFailed(
                f"held-out accuracy {metrics['accuracy']:.3f} < min_accuracy {cfg.min_accuracy}: "
                f"version {version.id} published but `current` not moved"
            )
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()
    if tmpdir:
        tmpdir.cleanup()
    return result


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        cfg = TrainConfig.from_args(argv)
        train(cfg)
    except QualityGateFailed as exc:
        log.error("%s", exc)
        return 3
    except (ValueError, OSError) as exc:
        log.error("%s", exc)
        return 2
    return 0
