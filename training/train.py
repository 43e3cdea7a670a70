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

import torch
import torch.distributed as dist
import torch.nn.functional as F
from accelerate.utils import DistributedType

from model_store import (
    Agreement,
    BaseSource,
    EvalMetrics,
    InputSpec,
    QualityGate,
    ScoreStats,
    Store,
    Threshold,
    Version,
    VersionInfo,
    new_version_id,
    open_store,
)
from modeling import PackedRewardModel, encode
from modeling.forward.choose import choose
from modeling.forward.runtimes import cpu_has_bf16, make_runtime, runtime_of
from modeling.render import input_spec_for

from . import default_data, handwritten
from .agreement import agreement, rankings_rows
from .batching import PairIndex, prompt_batches
from .config import TrainConfig
from .data import Pair, dimensions_of, fingerprint, load_pairs, split
from .dimensions import dimension_label, overall_label
from .evaluation import Evaluation, Judge, evaluate, quality_gate
from .figures import write_dimension_figures, write_figures
from .model import add_lora, build
from .progress import Progress
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
    # What some items are regardless of their prompt: their kind (good, curt, or the failure they
    # are; ``dimensions.py`` reads it). Known for the embedded data; it lets training put every
    # good reply above every failing one across prompts, overall and on each dimension, which is
    # what one threshold for all prompts needs.
    labels: dict[tuple[str | None, str], str] = dataclasses.field(default_factory=dict)


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
        log.info(
            "no data given: the embedded customer-support set (%d generated questions, %d hand-written files)",
            cfg.default_prompts,
            len(handwritten.files()),
        )
        seen = load_pairs([str(files.validation_seen)])
        heldout = load_pairs([str(files.validation_heldout)])
        # A share of the hand-written customer messages is held out too: the threshold is then
        # calibrated on real sentences as well as generated ones.
        written = handwritten.pairs(weight=cfg.handwritten_weight) if cfg.handwritten_weight > 0 else []
        written_train, written_val = split(written, cfg.val_fraction, cfg.seed) if written else ([], [])
        made, made_labels = (
            handwritten.derived(written_train, cfg.seed, cfg.handwritten_weight) if cfg.derived_failures else ([], {})
        )
        dims = ", dimensions" if cfg.embedded_dimensions else ""
        data = TrainingData(
            train=load_pairs([str(files.train)]) + written_train + made,
            validation=seen + heldout + written_val,
            fingerprint={"embedded": f"default_data(n={cfg.default_prompts}, seed={cfg.seed}{dims})"},
            subsets={
                "validation, seen phrasings": seen,
                "validation, held-out phrasings and topics": heldout,
                **({"validation, hand-written": written_val} if written_val else {}),
            },
            agreement=_agreement([str(files.train)]),
            labels=default_data.labels(files.train) | handwritten.labels() | made_labels,
        )
        if not cfg.embedded_dimensions:
            data = _overall_only(data)
        yield _checked(cfg, data)


def _overall_only(data: TrainingData) -> TrainingData:
    """The data without its dimension pairs. In the embedded set they only add to the overall
    ones (the same replies, compared on one dimension), so what is left is the one-output set."""

    def overall(pairs: list[Pair]) -> list[Pair]:
        return [p for p in pairs if p.dimension is None]

    return dataclasses.replace(
        data,
        train=overall(data.train),
        validation=overall(data.validation),
        subsets={k: overall(v) for k, v in data.subsets.items()},
    )


def _agreement(sources: list[str]) -> Agreement | None:
    rows = rankings_rows([s for s in sources if Path(s).is_file()])
    return agreement(rows) if rows else None


def _checked(cfg: TrainConfig, data: TrainingData) -> TrainingData:
    if cfg.max_pairs:
        data.train = data.train[: cfg.max_pairs]
    if not data.train or not data.validation:
        raise ValueError(f"need training and validation pairs, got {len(data.train)} and {len(data.validation)}")
    # each dimension's threshold is calibrated on its own held-out pairs: say so before training
    missing = sorted(set(dimensions_of(data.train)) - set(dimensions_of(data.validation)))
    if missing:
        raise ValueError(f"no validation pairs for the dimensions {missing}: raise --val-fraction or add data")
    log.info("%d training pairs, %d validation pairs", len(data.train), len(data.validation))
    return data


# -- model -----------------------------------------------------------------------------------
@dataclass
class RewardModel:
    hf: Any  # the transformers *ForSequenceClassification model, saved as is
    tokenizer: Any
    spec: InputSpec
    packed: PackedRewardModel  # the same weights, padding-free forward
    lora: Any = None  # the peft wrapper while LoRA adapters train; merged into ``hf`` after fit
    source: BaseSource | None = None  # the packaged base it started from


def build_model(cfg: TrainConfig, data: TrainingData, procs: Processes) -> RewardModel:
    torch.manual_seed(cfg.seed)
    texts = (t for p in data.train for t in ((p.prompt or ""), p.chosen, p.rejected))
    base = build(cfg, texts, dimensions_of(data.train))
    hf, tokenizer = base.model, base.tokenizer
    lora = add_lora(hf, cfg) if cfg.lora_rank > 0 else None
    spec = input_spec_for(tokenizer, cfg.max_length, cfg.template, cfg.template_no_prompt)
    if spec.chat_template:
        log.info("rendering items through the base model's chat template (the text templates are not used)")
    return RewardModel(hf, tokenizer, spec, PackedRewardModel(hf).to(procs.device), lora, base.source)


# -- fit -------------------------------------------------------------------------------------
def bt_loss(
    r_chosen: torch.Tensor, r_rejected: torch.Tensor, margin: torch.Tensor, weight: torch.Tensor
) -> torch.Tensor:
    """Bradley-Terry: -log sigmoid(r_c - r_r - margin), weighted by labeller agreement."""
    per_pair = -F.logsigmoid(r_chosen - r_rejected - margin)
    return (per_pair * weight).sum() / weight.sum()


def bt_loss_in_batch(r_chosen: torch.Tensor, r_rejected: torch.Tensor) -> torch.Tensor:
    """Bradley-Terry over every (preferred, other) combination of a batch: labelled texts (or
    items known good and failing) say each preferred one beats each other one, so a batch's
    forwards give len(chosen) x len(rejected) comparisons."""
    return -F.logsigmoid(r_chosen[:, None] - r_rejected[None, :]).mean()


def pairs_loss(
    r_chosen: torch.Tensor,
    r_rejected: torch.Tensor,
    head: torch.Tensor,
    margin: torch.Tensor,
    weight: torch.Tensor,
    in_batch: bool = False,
) -> torch.Tensor:
    """A batch's Bradley-Terry loss, each pair on the output it speaks to (``head``, 0: overall).
    The overall pairs and the dimension pairs are averaged apart and added, so the overall output
    keeps its share of the loss however many dimension pairs ride along."""
    parts = (head == 0, head > 0)
    if in_batch:
        loss = r_chosen.new_zeros(())
        for part in parts:
            if part.any():
                loss = loss + bt_loss_in_batch(r_chosen[part], r_rejected[part])
        return loss
    # masked weighted means, not indexing: no host sync per batch on an accelerator, and an empty
    # part (data without dimensions) adds exactly 0
    weighted = -F.logsigmoid(r_chosen - r_rejected - margin) * weight
    return sum(
        ((weighted * part).sum() / (weight * part).sum().clamp_min(1e-12) for part in parts), r_chosen.new_zeros(())
    )


def cross_prompt_loss(scores: torch.Tensor, verdicts: torch.Tensor) -> torch.Tensor:
    """Per output, every item of a batch that passes above every one that fails, whatever their
    prompts: each output is read against one threshold for all prompts. ``scores`` and
    ``verdicts`` are (items, outputs); a verdict is +1 passes, -1 fails, 0 unknown."""
    # all outputs at once, as masks over (passing item, failing item, output): no per-output
    # indexing, so no host sync per output and batch on an accelerator
    both = (verdicts > 0).to(scores.dtype)[:, None, :] * (verdicts < 0).to(scores.dtype)[None, :, :]
    worse = F.softplus(scores[None, :, :] - scores[:, None, :])  # -log sigmoid(passing - failing)
    return ((worse * both).sum((0, 1)) / both.sum((0, 1)).clamp_min(1)).sum()


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


def output_of(pairs: list[Pair], dimensions: list[str]) -> torch.Tensor:
    """Per pair, the model output its preference trains: 0 overall, 1 + i the i-th dimension."""
    at = {d: 1 + i for i, d in enumerate(dimensions)}
    return torch.tensor([at[p.dimension] if p.dimension is not None else 0 for p in pairs], dtype=torch.long)


def fit(cfg: TrainConfig, model: RewardModel, data: TrainingData, procs: Processes) -> dict[str, Any]:
    """Bradley-Terry training. Each rank trains on its own share of every epoch's batches (equal
    counts keep DDP ranks in step); the time limit and the schedule follow the slowest rank."""
    device, world, rank = procs.device, procs.world, procs.rank
    use_bf16 = cfg.dtype == "bfloat16" or (
        cfg.dtype in ("auto", "fast") and device.type == "cuda" and torch.cuda.is_bf16_supported()
    )
    if cfg.dtype == "fast" and device.type == "cpu":
        use_bf16 = cpu_has_bf16()
        log.info("matmuls in %s on this CPU", "bf16 (native)" if use_bf16 else "fp32 (no native bf16)")
    index = PairIndex.of(data.train)
    seqs = encode(model.spec, model.tokenizer, index.items)
    lengths = [len(s) for s in seqs]
    steps_per_epoch = max(1, len(data.train) // (cfg.batch_size * world * cfg.grad_accum))
    total_steps = cfg.max_steps or max(1, math.ceil(steps_per_epoch * cfg.epochs))
    acc = accelerator(cfg, procs, use_bf16)
    sharded = acc.distributed_type in (DistributedType.FSDP, DistributedType.DEEPSPEED)
    if sharded and model.lora is not None:
        raise ValueError("LoRA is not supported with FSDP or DeepSpeed here: train with DDP or on one process")
    if sharded:
        # FSDP and DeepSpeed hook the modules' own forwards: train through the Hugging Face
        # forward (padded), which they know, rather than the packed path that reaches into layers.
        model.packed = PackedRewardModel.padded(model.hf).to(device)
    packed = model.packed.train()
    optim = make_optimizer(packed, cfg, fused=device.type == "cuda" and not sharded)
    # DDP on several processes (torchrun, accelerate launch), FSDP or DeepSpeed as the launcher's
    # config says; on one process, the model and optimizer as they are.
    net, optim = acc.prepare(packed, optim)
    in_batch = cfg.format == "labelled" and cfg.in_batch_pairs
    dimensions = dimensions_of(data.train)
    # per item and output, +1 passes, -1 fails, 0 unknown: the cross-prompt term below reads it
    kinds = [data.labels.get(item) for item in index.items]
    verdicts = torch.tensor([[overall_label(k)] + [dimension_label(k, d) for d in dimensions] for k in kinds])
    verdicts = verdicts.to(device)
    across = cfg.cross_prompt_weight if data.labels else 0.0
    margins = torch.tensor([p.margin for p in data.train], device=device)
    weights = torch.tensor([p.weight for p in data.train], device=device)
    heads = output_of(data.train, dimensions).to(device)

    step, seen, scored, tokens, t0 = 0, 0, 0, 0, time.perf_counter()
    epoch, progress = 0, 0.0
    done = False
    with Progress(total_steps, procs.main, cfg.log_every, timed=bool(cfg.time_limit_s)) as shown:
        while not done:
            rng = random.Random(cfg.seed + epoch)
            batches = prompt_batches(data.train, index, lengths, cfg.batch_size, rng, cfg.group_by_length)
            per_rank = len(batches) // world
            batches = batches[rank * per_rank : (rank + 1) * per_rank]
            for bi in range(0, len(batches) - cfg.grad_accum + 1, cfg.grad_accum):
                for group in optim.param_groups:
                    group["lr"] = cfg.lr * lr_factor(progress, cfg.warmup_ratio)
                for b in batches[bi : bi + cfg.grad_accum]:
                    with acc.autocast():
                        scores = net([seqs[i] for i in b.items], all_outputs=True).float()
                    # each pair's Bradley-Terry term reads the output it speaks to (0: overall)
                    head = heads[b.pairs]
                    rc, rr = scores[b.chosen, head], scores[b.rejected, head]
                    loss = pairs_loss(rc, rr, head, margins[b.pairs], weights[b.pairs], in_batch)
                    if across:
                        loss = loss + across * cross_prompt_loss(scores, verdicts[b.items])
                    acc.backward(loss / cfg.grad_accum)
                    shown.batch(loss.item(), (rc > rr).float().mean().item())
                    seen += len(b.pairs) ** 2 if in_batch else len(b.pairs)
                    scored += len(b.items)
                    tokens += sum(lengths[i] for i in b.items)
                acc.clip_grad_norm_(net.parameters(), cfg.max_grad_norm)
                optim.step()
                optim.zero_grad(set_to_none=True)
                step += 1
                elapsed = procs.agree_max(time.perf_counter() - t0)
                progress = max(step / total_steps, elapsed / cfg.time_limit_s if cfg.time_limit_s else 0.0)
                shown.step(step, progress, optim.param_groups[0]["lr"], seen * world, tokens * world, elapsed)
                if progress >= 1.0:
                    done = True
                    break
            epoch += 1
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
        # the service computes in bf16 on CUDA, with the strategy it picks for bf16 weights (the
        # variable-length attention): evaluate and calibrate so
        packed.to(torch.bfloat16)
        packed.strategy = choose(packed.model)
    elif device.type == "cpu" and cfg.dtype == "fast" and procs.main:
        # and on CPU with the runtime its `auto` picks on this machine (bf16, int8 or fp32)
        packed.strategy = make_runtime("auto", packed.model, device)
        log.info("evaluating with the CPU runtime the service will use here: %s", runtime_of(packed.strategy))
    return {
        "steps": step,
        "epochs": epoch,
        "pairs_seen": seen * world,
        "items_scored": scored * world,
        "tokens_seen": tokens * world,
        "seconds": train_s,
        "pairs_per_s": seen * world / train_s,
        "world_size": world,
    }


# -- publish ---------------------------------------------------------------------------------
def publish(
    cfg: TrainConfig,
    store: Store,
    model: RewardModel,
    data: TrainingData,
    ev: Evaluation,
    stats: dict[str, Any],
    passed: bool,
) -> Version:
    info = VersionInfo(
        created_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        base_model=cfg.base_model,
        base=model.source,
        architecture=model.hf.config.model_type,
        dtype="bfloat16",
        input=model.spec,
        training_config=dataclasses.asdict(cfg),
        data={**data.fingerprint, "pairs_train": len(data.train), "pairs_validation": len(data.validation)},
        metrics=ev.metrics,
        evaluations=ev.subsets,
        gate_check=ev.gate_check,
        dimensions=ev.dimensions,
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
        thresholds = {dim.name: dim.threshold.value for dim in ev.dimensions}
        write_dimension_figures(ev.dimension_scores, thresholds, d, f"{cfg.name} validation")
        (d / "report.md").write_text(report(cfg.name, vid, ev, stats, data.agreement), encoding="utf-8")

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
    store = open_store(cfg.store or None)
    with processes(cfg) as procs, training_data(cfg) as data:
        model = build_model(cfg, data, procs)
        stats = fit(cfg, model, data, procs)
        result = TrainResult(train=stats)
        passed, why = True, ""
        if procs.main:
            judge = Judge(model.packed, model.spec, model.tokenizer, cfg.eval_batch_tokens)
            ev = evaluate(cfg, judge, data.validation, data.subsets, store)
            passed, why = quality_gate(cfg, ev, store)
            version = publish(cfg, store, model, data, ev, stats, passed)
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
