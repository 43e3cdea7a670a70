"""`make train`: data -> model -> fit (Bradley-Terry) -> evaluate -> publish.

``train(cfg)`` at the bottom reads as that sequence; each phase is a function that can be run
and tested alone. Runs unchanged on one CPU, one GPU, or several processes under ``torchrun`` /
``accelerate launch`` (DDP; the environment says which).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import os
import platform
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from accelerate.utils import DistributedType
from tqdm.auto import tqdm

from model_store import (
    Agreement,
    EvalMetrics,
    GateCheck,
    InputSpec,
    PinnedEval,
    QualityGate,
    ScoreStats,
    Threshold,
    Version,
    VersionInfo,
    new_version_id,
    open_store,
)
from modeling import PackedRewardModel, encode
from modeling.render import input_spec_for
from modeling.scoring import score_all

from . import default_data, gate_check
from .agreement import agreement, rankings_rows
from .config import TrainConfig
from .data import Pair, fingerprint, load_pairs, split
from .figures import write_figures
from .metrics import calibrate_threshold, extremes, pair_metrics
from .model import add_lora, build
from .report import report

log = logging.getLogger("training")


class QualityGateFailed(RuntimeError):
    pass


# -- processes -------------------------------------------------------------------------------
@dataclass
class Processes:
    """This process's place among the training processes (one, or several under torchrun)."""

    world: int
    rank: int
    device: torch.device

    @property
    def main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return dist.is_available() and dist.is_initialized()

    def agree_max(self, value: float) -> float:
        """The largest ``value`` over all processes: every rank takes the same decision."""
        if not self.distributed:
            return value
        t = torch.tensor([value], dtype=torch.float64, device=self.device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return float(t.item())

    def from_main(self, flag: bool) -> bool:
        """Rank 0's ``flag``, on every rank."""
        if not self.distributed:
            return flag
        t = torch.tensor([int(flag)], device=self.device)
        dist.broadcast(t, src=0)
        return bool(t.item())


@contextlib.contextmanager
def processes(cfg: TrainConfig) -> Iterator[Processes]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    cuda = torch.cuda.is_available()
    device = torch.device(f"cuda:{local_rank}" if cuda else "cpu")
    if cuda:
        torch.cuda.set_device(device)
    if cfg.num_threads:
        torch.set_num_threads(cfg.num_threads)
    if world > 1:
        dist.init_process_group("nccl" if cuda else "gloo")
    try:
        yield Processes(world, rank, device)
    finally:
        if world > 1 and dist.is_initialized():
            dist.destroy_process_group()


# -- data ------------------------------------------------------------------------------------
@dataclass
class TrainingData:
    train: list[Pair]
    validation: list[Pair]
    fingerprint: dict[str, Any]
    subsets: dict[str, list[Pair]] = dataclasses.field(default_factory=dict)  # named parts of validation
    agreement: Agreement | None = None  # of the labellers, for rankings data


@contextlib.contextmanager
def training_data(cfg: TrainConfig) -> Iterator[TrainingData]:
    """The pairs, split by prompt. Without ``--data``, the embedded generator writes its set into
    a temporary directory that lives as long as this context."""
    if cfg.data:
        pairs = load_pairs(cfg.data, cfg.format, cfg.seed)
        train_pairs, val_pairs = split(pairs, cfg.val_fraction, cfg.seed)
        data = TrainingData(train_pairs, val_pairs, fingerprint(cfg.data))
        data.agreement = _agreement(cfg.data)
        yield _checked(cfg, data)
        return
    with tempfile.TemporaryDirectory(prefix="rewardgate-data-") as tmp:
        # The generator keeps whole phrasing families and topics out of training and writes them
        # into their own validation file: that accuracy measures judgement, not memory.
        files = default_data.write_splits(Path(tmp), cfg.default_prompts, cfg.seed, cfg.val_fraction)
        log.info("no data given: using the embedded customer-support set (%d questions)", cfg.default_prompts)
        seen = load_pairs([str(files.validation_seen)])
        heldout = load_pairs([str(files.validation_heldout)])
        data = TrainingData(
            train=load_pairs([str(files.train)]),
            validation=seen + heldout,
            fingerprint={"embedded": f"default_data(n={cfg.default_prompts}, seed={cfg.seed})"},
            subsets={"validation, seen phrasings": seen, "validation, held-out phrasings and topics": heldout},
            agreement=_agreement([str(files.train)]),
        )
        yield _checked(cfg, data)


def _agreement(sources: list[str]) -> Agreement | None:
    rows = rankings_rows([s for s in sources if Path(s).is_file()])
    return agreement(rows) if rows else None


def _checked(cfg: TrainConfig, data: TrainingData) -> TrainingData:
    if cfg.max_pairs:
        data.train = data.train[: cfg.max_pairs]
    if not data.train or not data.validation:
        raise ValueError(f"need training and validation pairs, got {len(data.train)} and {len(data.validation)}")
    log.info("%d training pairs, %d validation pairs", len(data.train), len(data.validation))
    return data


def encode_pairs(spec: InputSpec, tokenizer: Any, pairs: list[Pair]) -> tuple[list[list[int]], list[list[int]]]:
    chosen = encode(spec, tokenizer, [(p.prompt, p.chosen) for p in pairs])
    rejected = encode(spec, tokenizer, [(p.prompt, p.rejected) for p in pairs])
    return chosen, rejected


# -- model -----------------------------------------------------------------------------------
@dataclass
class RewardModel:
    hf: Any  # the transformers *ForSequenceClassification model, saved as is
    tokenizer: Any
    spec: InputSpec
    packed: PackedRewardModel  # the same weights, padding-free forward
    lora: Any = None  # the peft wrapper while LoRA adapters train; merged into ``hf`` after fit


def build_model(cfg: TrainConfig, data: TrainingData, procs: Processes) -> RewardModel:
    torch.manual_seed(cfg.seed)
    texts = (t for p in data.train for t in ((p.prompt or ""), p.chosen, p.rejected))
    hf, tokenizer = build(cfg, texts)
    lora = add_lora(hf, cfg) if cfg.lora_rank > 0 else None
    spec = input_spec_for(tokenizer, cfg.max_length, cfg.template, cfg.template_no_prompt)
    if spec.chat_template:
        log.info("rendering items through the base model's chat template (the text templates are not used)")
    return RewardModel(hf, tokenizer, spec, PackedRewardModel(hf).to(procs.device), lora)


# -- fit -------------------------------------------------------------------------------------
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


def make_optimizer(model: torch.nn.Module, cfg: TrainConfig, fused: bool = False) -> torch.optim.Optimizer:
    """AdamW, no decay on biases and norms."""
    decay: list[torch.nn.Parameter] = []
    no_decay: list[torch.nn.Parameter] = []
    for n, p in model.named_parameters():
        if not p.requires_grad:  # frozen under LoRA
            continue
        (no_decay if p.ndim < 2 or "norm" in n else decay).append(p)
    return torch.optim.AdamW(
        [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=cfg.lr,
        fused=fused,
    )


def lr_factor(progress: float, warmup: float) -> float:
    """Linear warm-up over the first ``warmup`` share of training, then linear decay to zero.
    ``progress`` is the larger of steps done and time used, so a run cut by its time limit
    still ends with the learning rate near zero."""
    if progress < warmup:
        return max(progress / warmup, 1e-3)
    return max(0.0, (1.0 - progress) / max(1e-9, 1.0 - warmup))


def accelerator(cfg: TrainConfig, procs: Processes, use_bf16: bool) -> Any:
    """accelerate's ``Accelerator`` over the process group ``processes`` set up: it wraps the
    model for DDP, FSDP or DeepSpeed as ``accelerate launch --config_file`` (see
    ``training/accelerate/``) or torchrun's environment says."""
    from accelerate import Accelerator
    from accelerate.state import AcceleratorState

    if procs.world == 1:
        AcceleratorState._reset_state()  # one process may train several times (tests, notebooks)
    precision = None if "ACCELERATE_MIXED_PRECISION" in os.environ else ("bf16" if use_bf16 else "no")
    acc = Accelerator(cpu=procs.device.type == "cpu", mixed_precision=precision)
    ds = acc.state.deepspeed_plugin
    if ds is not None:
        # no DataLoader goes through prepare(): DeepSpeed learns the batch shape from here
        ds.deepspeed_config["train_micro_batch_size_per_gpu"] = cfg.batch_size
        ds.deepspeed_config["gradient_accumulation_steps"] = cfg.grad_accum
        ds.deepspeed_config["gradient_clipping"] = cfg.max_grad_norm
    return acc


def gather_full_model(acc: Any, net: torch.nn.Module, model: RewardModel, procs: Processes) -> None:
    """After sharded training, rank 0 gets the whole model back (every rank takes part in the
    gather) in a fresh, unsharded copy, which it evaluates and publishes."""
    state = acc.get_state_dict(net)
    if procs.main:
        fresh = type(model.hf)(model.hf.config)
        fresh.load_state_dict({k.removeprefix("model."): v for k, v in state.items()})
        model.hf = fresh.to(procs.device)
        model.packed = PackedRewardModel(model.hf).to(procs.device)


def fit(cfg: TrainConfig, model: RewardModel, data: TrainingData, procs: Processes) -> dict[str, Any]:
    """Bradley-Terry training. Each rank trains on its own share of every epoch's batches (equal
    counts keep DDP ranks in step); the time limit and the schedule follow the slowest rank."""
    device, world, rank = procs.device, procs.world, procs.rank
    use_bf16 = cfg.dtype == "bfloat16" or (
        cfg.dtype == "auto" and device.type == "cuda" and torch.cuda.is_bf16_supported()
    )
    packed = model.packed.train()
    train_c, train_r = encode_pairs(model.spec, model.tokenizer, data.train)
    lengths = [len(c) + len(r) for c, r in zip(train_c, train_r, strict=True)]
    steps_per_epoch = max(1, len(data.train) // (cfg.batch_size * world * cfg.grad_accum))
    total_steps = cfg.max_steps or max(1, math.ceil(steps_per_epoch * cfg.epochs))
    acc = accelerator(cfg, procs, use_bf16)
    sharded = acc.distributed_type in (DistributedType.FSDP, DistributedType.DEEPSPEED)
    if sharded and model.lora is not None:
        raise ValueError("LoRA is not supported with FSDP or DeepSpeed here: train with DDP or on one process")
    if sharded:
        # FSDP and DeepSpeed hook the modules' own forwards: train through the Hugging Face
        # forward (padded), which they know, rather than the packed path that reaches into layers.
        packed = model.packed = PackedRewardModel.padded(model.hf).train()
    optim = make_optimizer(packed, cfg, fused=device.type == "cuda" and not sharded)
    # DDP on several processes (torchrun, accelerate launch), FSDP or DeepSpeed as the launcher's
    # config says; on one process, the model and optimizer as they are.
    net, optim = acc.prepare(packed, optim)

    # A progress bar on a terminal; plain log lines otherwise (CI, files, containers).
    bar = tqdm(total=total_steps, unit="step", disable=not (procs.main and sys.stderr.isatty()), dynamic_ncols=True)
    step, seen, tokens, t0 = 0, 0, 0, time.perf_counter()
    run_loss, run_acc, run_n = 0.0, 0.0, 0
    epoch, progress = 0, 0.0
    done = False
    while not done:
        batches = length_grouped_batches(lengths, cfg.batch_size, random.Random(cfg.seed + epoch), cfg.group_by_length)
        per_rank = len(batches) // world
        batches = batches[rank * per_rank : (rank + 1) * per_rank]
        for bi in range(0, len(batches) - cfg.grad_accum + 1, cfg.grad_accum):
            for group in optim.param_groups:
                group["lr"] = cfg.lr * lr_factor(progress, cfg.warmup_ratio)
            for micro in batches[bi : bi + cfg.grad_accum]:
                seqs = [train_c[i] for i in micro] + [train_r[i] for i in micro]
                margin = torch.tensor([data.train[i].margin for i in micro], device=device)
                weight = torch.tensor([data.train[i].weight for i in micro], device=device)
                with acc.autocast():
                    scores = net(seqs).float()
                rc, rr = scores[: len(micro)], scores[len(micro) :]
                loss = bt_loss(rc, rr, margin, weight)
                acc.backward(loss / cfg.grad_accum)
                run_loss += loss.item()
                run_acc += (rc > rr).float().mean().item()
                run_n += 1
                seen += len(micro)
                tokens += sum(len(s) for s in seqs)
            acc.clip_grad_norm_(net.parameters(), cfg.max_grad_norm)
            optim.step()
            optim.zero_grad(set_to_none=True)
            step += 1
            elapsed = procs.agree_max(time.perf_counter() - t0)
            progress = max(step / total_steps, elapsed / cfg.time_limit_s if cfg.time_limit_s else 0.0)
            bar.update(1)
            if not bar.disable and step % 5 == 0:
                bar.set_postfix(
                    loss=f"{run_loss / max(run_n, 1):.3f}",
                    acc=f"{run_acc / max(run_n, 1):.3f}",
                    pairs_s=f"{seen * world / elapsed:.0f}",
                )
                run_loss, run_acc, run_n = 0.0, 0.0, 0
            if cfg.time_limit_s and not bar.disable:
                bar.total = max(step, min(total_steps, int(step / max(progress, 1e-9))))  # the ETA follows the clock
            if bar.disable and procs.main and (step % cfg.log_every == 0 or step == total_steps):
                log.info(
                    "step %d/%d  loss %.4f  acc %.3f  lr %.2e  %.1f pairs/s  %.0f tok/s  %.0fs",
                    step,
                    total_steps,
                    run_loss / run_n,
                    run_acc / run_n,
                    optim.param_groups[0]["lr"],
                    seen * world / elapsed,
                    tokens * world / elapsed,
                    elapsed,
                )
                run_loss, run_acc, run_n = 0.0, 0.0, 0
            if progress >= 1.0:
                done = True
                break
        epoch += 1
    bar.close()
    train_s = time.perf_counter() - t0
    if sharded:
        gather_full_model(acc, net, model, procs)
    if model.lora is not None:
        # the published version holds plain merged weights; evaluate exactly those
        model.hf = model.lora.merge_and_unload()
        model.packed = PackedRewardModel(model.hf).to(procs.device)
        model.lora = None
    packed = model.packed
    # The served model is the bf16 one: round the weights now, so evaluation and the threshold
    # describe exactly what is saved (and, on CPU, exactly what is served).
    with torch.no_grad():
        for p in packed.parameters():
            p.copy_(p.to(torch.bfloat16))
    if device.type == "cuda":
        # the service computes in bf16 on CUDA: evaluate and calibrate in that dtype too
        packed.to(torch.bfloat16)
    return {
        "steps": step,
        "epochs": epoch,
        "pairs_seen": seen * world,
        "tokens_seen": tokens * world,
        "seconds": train_s,
        "pairs_per_s": seen * world / train_s,
        "world_size": world,
    }


# -- evaluate --------------------------------------------------------------------------------
@dataclass
class Evaluation:
    metrics: EvalMetrics
    threshold: Threshold
    subsets: dict[str, EvalMetrics]
    gate_check: GateCheck | None
    pinned: PinnedEval | None
    chosen: np.ndarray  # validation scores, for the figures
    rejected: np.ndarray


def _score_items(cfg: TrainConfig, model: RewardModel, items: list[tuple[str | None, str]]) -> np.ndarray:
    return score_all(model.packed, encode(model.spec, model.tokenizer, items), cfg.eval_batch_tokens)


def _pair_scores(cfg: TrainConfig, model: RewardModel, pairs: list[Pair]) -> tuple[np.ndarray, np.ndarray]:
    sc = _score_items(cfg, model, [(p.prompt, p.chosen) for p in pairs])
    return sc, _score_items(cfg, model, [(p.prompt, p.rejected) for p in pairs])


def evaluate(cfg: TrainConfig, model: RewardModel, data: TrainingData) -> Evaluation:
    """Held-out metrics, the calibrated threshold, metrics per part of validation and, for the
    default data, the hand-written gate check. Run on the bf16-rounded weights that are saved."""
    pairs = data.validation
    sc, sr = _pair_scores(cfg, model, pairs)
    by_text = {(p.prompt or "", p.chosen): c for p, c in zip(pairs, sc, strict=True)}
    by_text |= {(p.prompt or "", p.rejected): r for p, r in zip(pairs, sr, strict=True)}
    good, bad = extremes([(p.prompt or "", p.chosen, p.rejected) for p in pairs])
    threshold = Threshold(
        **calibrate_threshold(
            sc,
            sr,
            cfg.threshold_method,
            cfg.target_block_rate,
            cfg.max_good_block_rate,
            good=np.array([by_text[k] for k in sorted(good)]),
            bad=np.array([by_text[k] for k in sorted(bad)]),
        )
    )
    subsets = {
        name: EvalMetrics(**pair_metrics(*_pair_scores(cfg, model, part))) for name, part in data.subsets.items()
    }
    check = None
    path = cfg.gate_check
    if path == "auto":
        path = str(gate_check.PACKAGED) if not cfg.data else ""
    if path:
        check = gate_check.run(lambda items: _score_items(cfg, model, items), threshold.value, Path(path))
    pinned = None
    found = open_store(cfg.store or None).pinned_eval(cfg.name)
    if found is not None:
        pinned_pairs = load_pairs([str(found[0])], "auto", cfg.seed)
        pinned = PinnedEval(
            sha256=found[1], metrics=EvalMetrics(**pair_metrics(*_pair_scores(cfg, model, pinned_pairs)))
        )
    return Evaluation(EvalMetrics(**pair_metrics(sc, sr)), threshold, subsets, check, pinned, sc, sr)


# -- publish ---------------------------------------------------------------------------------
def quality_gate(cfg: TrainConfig, ev: Evaluation) -> tuple[bool, str]:
    """Whether the version may become current: held-out accuracy at least ``min_accuracy`` and,
    when the model name has a pinned evaluation set, the store's promotion rule."""
    if ev.metrics.accuracy < cfg.min_accuracy:
        return False, f"held-out accuracy {ev.metrics.accuracy:.3f} < min_accuracy {cfg.min_accuracy}"
    store = open_store(cfg.store or None)
    refusal = store.promotion_refusal(cfg.name, _info_stub(ev), cfg.promote_tolerance)
    return (refusal is None, refusal or "")


def _info_stub(ev: Evaluation) -> VersionInfo:
    """Just enough of a ``VersionInfo`` for the promotion rule, before the version exists."""
    return VersionInfo(
        created_at="",
        base_model="",
        architecture="",
        dtype="",
        input=InputSpec(),
        threshold=ev.threshold,
        pinned_eval=ev.pinned,
    )


def publish(
    cfg: TrainConfig, model: RewardModel, data: TrainingData, ev: Evaluation, stats: dict[str, Any], passed: bool
) -> Version:
    info = VersionInfo(
        created_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        base_model=cfg.base_model,
        architecture=model.hf.config.model_type,
        dtype="bfloat16",
        input=model.spec,
        training_config=dataclasses.asdict(cfg),
        data={**data.fingerprint, "pairs_train": len(data.train), "pairs_validation": len(data.validation)},
        metrics=ev.metrics,
        evaluations=ev.subsets,
        gate_check=ev.gate_check,
        agreement=data.agreement,
        pinned_eval=ev.pinned,
        score_stats=ScoreStats(mean=ev.metrics.score_mean, std=ev.metrics.score_std),
        threshold=ev.threshold,
        quality_gate=QualityGate(min_accuracy=cfg.min_accuracy, passed=passed),
        train=stats,
        environment={
            "python": platform.python_version(),
            "torch": torch.__version__,
            "device": str(model.packed.device),
        },
    )
    vid = new_version_id()

    def write(d: Path) -> None:
        model.hf.to(torch.bfloat16).save_pretrained(d, safe_serialization=True)
        model.tokenizer.save_pretrained(d)
        write_figures(ev.chosen, ev.rejected, ev.threshold.value, d, f"{cfg.name} validation")
        (d / "report.md").write_text(report(cfg.name, vid, ev, stats, data.agreement), encoding="utf-8")

    store = open_store(cfg.store or None)
    return store.publish(
        cfg.name, write, info, make_current=passed and cfg.promote, version_id=vid, tolerance=cfg.promote_tolerance
    )


@dataclass
class TrainResult:
    train: dict[str, Any]
    version: str | None = None  # rank 0 only
    path: str | None = None
    metrics: EvalMetrics | None = None
    threshold: Threshold | None = None
    promoted: bool = False
    report: str = ""


def train(cfg: TrainConfig) -> TrainResult:
    with processes(cfg) as procs, training_data(cfg) as data:
        model = build_model(cfg, data, procs)
        stats = fit(cfg, model, data, procs)
        result = TrainResult(train=stats)
        passed, why = True, ""
        if procs.main:
            ev = evaluate(cfg, model, data)
            passed, why = quality_gate(cfg, ev)
            version = publish(cfg, model, data, ev, stats, passed)
            text = report(cfg.name, version.id, ev, stats, data.agreement)
            log.info("\n%s", text)
            result = TrainResult(
                stats, version.id, str(version.path), ev.metrics, ev.threshold, passed and cfg.promote, text
            )
        if not procs.from_main(passed):
            raise QualityGateFailed(
                f"{why + ': ' if why else ''}the quality gate failed: the version was published but `current` not moved"
            )
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
