"""Load a verified version into memory: model (safetensors only, no remote code) + tokenizer."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from model_store import InputSpec, Manifest, Store, StoreError, Version

from .forward.runtimes import make_runtime, runtime_of
from .packed import PackedRewardModel

log = logging.getLogger(__name__)


@dataclass
class LoadedModel:
    version: Version
    model: PackedRewardModel
    tokenizer: Any
    spec: InputSpec
    device: torch.device
    dtype: torch.dtype

    @property
    def runtime(self) -> str:
        """The runtime that serves it (``torch`` on CUDA, or the ``REWARDGATE_CPU_RUNTIME`` in use)."""
        return runtime_of(self.model.strategy)

    @property
    def name(self) -> str:
        return self.version.name

    @property
    def id(self) -> str:
        return self.version.id

    @property
    def manifest(self) -> Manifest:
        return self.version.manifest


# Models whose position ids start after the padding index (RoBERTa's scheme): of
# max_position_embeddings, padding_idx + 1 are never used.
_OFFSET_POSITIONS = {"roberta", "xlm-roberta", "camembert", "data2vec-text", "xlm-roberta-xl", "ernie_m"}


def usable_positions(config: dict[str, Any]) -> int | None:
    """How many tokens one input may have, from a model config (as a dict); None: no limit known."""
    positions = config.get("max_position_embeddings") or config.get("n_positions")
    if positions is None:
        return None
    if config.get("model_type") in _OFFSET_POSITIONS:
        return int(positions) - int(config.get("pad_token_id") or 0) - 1
    return int(positions)


def pick_device(device: str = "auto", dtype: str = "auto") -> tuple[torch.device, torch.dtype]:
    """``auto``: CUDA in bf16 when present, else CPU in fp32 (bf16 matmuls are about half the
    fp32 speed on CPUs without AMX)."""
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise StoreError("device 'cuda' was asked for but no CUDA device is available")
    if dtype == "auto":
        dt = torch.bfloat16 if dev.type == "cuda" else torch.float32
    else:
        names = {
            "float32": torch.float32,
            "fp32": torch.float32,
            "bfloat16": torch.bfloat16,
            "bf16": torch.bfloat16,
            "float16": torch.float16,
            "fp16": torch.float16,
        }
        if dtype not in names:
            raise StoreError(f"unknown dtype {dtype!r}: use auto, float32, bfloat16 or float16")
        dt = names[dtype]
    return dev, dt


def load_tokenizer(path: Any) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(path), trust_remote_code=False)


def load_files(
    path: Path,
    spec: InputSpec,
    device: str = "auto",
    dtype: str = "auto",
    label: str = "",
    cpu_runtime: str = "torch",
) -> tuple[PackedRewardModel, Any, torch.device, torch.dtype]:
    """The model and tokenizer in ``path`` (safetensors only, no remote code), checked against
    ``spec``, on the device, served by ``cpu_runtime`` on CPU (``modeling/forward/runtimes.py``).
    ``StoreError`` with the reason when they cannot be used."""
    from transformers import AutoModelForSequenceClassification

    label = label or path.name
    dev, dt = pick_device(device, dtype)
    try:
        model, info = AutoModelForSequenceClassification.from_pretrained(
            str(path), dtype=dt, use_safetensors=True, trust_remote_code=False, output_loading_info=True
        )
        tokenizer = load_tokenizer(path)
    except Exception as exc:  # transformers raises many kinds; the caller needs one
        raise StoreError(f"version {label} failed to load: {exc}") from exc
    positions = usable_positions(model.config.to_dict())
    if positions is not None and spec.max_length > positions:
        # an item that long would index past the position table inside a batch (a 500 for all in it)
        raise StoreError(
            f"version {label}: input max_length {spec.max_length} exceeds the model's {positions} positions"
        )
    if info.get("missing_keys"):
        # transformers would fill them with random values: a reward model must never score with those
        missing = sorted(info["missing_keys"])
        raise StoreError(f"version {label} failed to load: weights missing from the checkpoint: {missing[:5]}")
    model.eval().to(dev)
    packed = PackedRewardModel(model, make_runtime(cpu_runtime, model, dev)).eval()
    packed.fuse_for_inference()
    return packed, tokenizer, dev, dt


def load_version(
    store: Store,
    name: str,
    version: str = "current",
    device: str = "auto",
    dtype: str = "auto",
    verify: bool = True,
    cpu_runtime: str = "torch",
) -> LoadedModel:
    """Resolve, verify checksums, load and move to the device. Raises ``StoreError`` with the
    reason when the version cannot be used; nothing is half-loaded in that case."""
    t0 = time.perf_counter()
    v = store.resolve(name, version)
    if verify:
        store.verify(v)
    spec = v.manifest.input
    packed, tokenizer, dev, dt = load_files(v.path, spec, device, dtype, v.id, cpu_runtime)
    log.info(
        "loaded %s/%s on %s %s (%s) in %.1fs",
        name,
        v.id,
        dev,
        dt,
        runtime_of(packed.strategy),
        time.perf_counter() - t0,
    )
    return LoadedModel(version=v, model=packed, tokenizer=tokenizer, spec=spec, device=dev, dtype=dt)
