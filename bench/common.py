"""Shared pieces of the benchmarks: data, models in a temporary store, FLOP accounting, a peak."""

from __future__ import annotations

import gzip
import json
import logging
import random
import statistics
import time
from pathlib import Path
from typing import Any

import torch

from model_store import InputSpec, ModelStore, Threshold, VersionInfo

log = logging.getLogger("bench")
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def imdb_rows(n: int, seed: int = 0, path: Path | None = None) -> list[dict[str, Any]]:
    path = path or SHARED / "imdb" / "train.jsonl.gz"
    if not path.is_file():
        raise SystemExit(f"IMDB data not found at {path} (it lives in ../shared/data)")
    with gzip.open(path, "rt", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    random.Random(seed).shuffle(rows)  # the file is sorted by label
    return rows[:n]


def short_items(n: int, seed: int = 0) -> list[tuple[str | None, str]]:
    """Chat-sized items from the embedded default data (prompt + one reply)."""
    from training.default_data import generate

    rng = random.Random(seed)
    out = []
    for row in generate(max(1, n // 3 + 1), seed=seed + 7):
        for r in row["responses"]:
            out.append((row["prompt"], r))
    rng.shuffle(out)
    return out[:n]


def train_imdb_tokenizer(texts: list[str], vocab_size: int = 16000) -> Any:
    from training.model import train_tokenizer

    return train_tokenizer(texts, vocab_size)


def opt_config(kind: str, vocab: int, pad_id: int, max_length: int = 512) -> Any:
    from transformers import OPTConfig

    shapes = {
        "opt-125m": dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, ffn_dim=3072),
    }[kind]
    return OPTConfig(
        vocab_size=vocab,
        max_position_embeddings=max_length,
        word_embed_proj_dim=shapes["hidden_size"],
        num_labels=1,
        pad_token_id=pad_id,
        dropout=0.0,
        attention_dropout=0.0,
        **shapes,
    )


def publish_random(store_root: Path, name: str, kind: str, tokenizer: Any, max_length: int = 512) -> str:
    """A model of the given shape with random weights (compute does not depend on their values)."""
    from transformers import OPTForSequenceClassification

    torch.manual_seed(0)
    model = OPTForSequenceClassification(opt_config(kind, len(tokenizer), tokenizer.pad_token_id, max_length))
    spec = InputSpec(max_length=max_length)

    def write(d: Path) -> None:
        model.to(torch.bfloat16).save_pretrained(d)
        tokenizer.save_pretrained(d)

    info = VersionInfo(
        created_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        base_model=f"random {kind}",
        architecture="opt",
        dtype="bfloat16",
        input=spec,
        threshold=Threshold(value=0.0, method="fixed"),
    )
    return ModelStore(store_root).publish(name, write, info).id


def non_embedding_params(model: torch.nn.Module) -> int:
    total = sum(p.numel() for p in model.parameters())
    emb = sum(m.weight.numel() for m in model.modules() if isinstance(m, torch.nn.Embedding))
    return total - emb


def matmul_peak(hidden: int = 768, ffn: int = 3072, tokens: int = 4096, repeats: int = 5) -> float:
    """GFLOP/s of the six linear layers of one decoder block on ``tokens`` tokens (fp32)."""
    torch.manual_seed(0)
    x = torch.randn(tokens, hidden)
    layers = [torch.nn.Linear(hidden, hidden) for _ in range(4)] + [
        torch.nn.Linear(hidden, ffn),
        torch.nn.Linear(ffn, hidden),
    ]
    flops = 2 * tokens * (4 * hidden * hidden + 2 * hidden * ffn)

    def run() -> None:
        for lin in layers[:4]:
            lin(x)
        layers[5](layers[4](x))

    with torch.inference_mode():
        run()
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            run()
            times.append(time.perf_counter() - t0)
    return flops / min(times) / 1e9


def summary(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    if not s:
        return float("nan")
    k = min(len(s) - 1, max(0, round(q / 100 * (len(s) - 1))))
    return s[k]
