"""Per architecture family, in one run: the forward the service uses (``PackedRewardModel``:
OPT's hand-written padding-free path, transformers' packed sequences for other decoders, padded
for encoders) against the plain padded Hugging Face forward, on the same items and weights.

Models are random, built from a config at one size (hidden 256, 4 layers, 4 heads, FFN 1024,
vocabulary 8000), so only the forward differs between families' rows. Items: random token ids
of mixed lengths (16-256, as chat replies and short reviews are), scored in batches of 16.
``python -m bench.architectures`` prints the table; ``make bench`` includes it.
"""

from __future__ import annotations

import argparse
import logging
import random
import statistics
import time
from typing import Any

import torch

from modeling import PackedRewardModel

log = logging.getLogger("bench")

SIZE = {"hidden": 256, "layers": 4, "heads": 4, "ffn": 1024, "vocab": 8000, "positions": 512}
PAD = 1


def _config(family: str) -> Any:
    import transformers as tf

    h, n, a, f, v, p = (SIZE[k] for k in ("hidden", "layers", "heads", "ffn", "vocab", "positions"))
    common: dict[str, Any] = {"vocab_size": v, "num_labels": 1, "pad_token_id": PAD}
    if family == "opt":
        return tf.OPTConfig(
            hidden_size=h, word_embed_proj_dim=h, num_hidden_layers=n, num_attention_heads=a, ffn_dim=f,
            max_position_embeddings=p, dropout=0.0, **common,
        )  # fmt: skip
    if family == "gpt2":
        return tf.GPT2Config(n_embd=h, n_layer=n, n_head=a, n_inner=f, n_positions=p, **common)
    if family in ("llama", "qwen3"):
        cls = tf.LlamaConfig if family == "llama" else tf.Qwen3Config
        return cls(
            hidden_size=h, intermediate_size=f, num_hidden_layers=n, num_attention_heads=a, num_key_value_heads=a // 2,
            head_dim=h // a, max_position_embeddings=p, **common,
        )  # fmt: skip
    if family == "roberta":
        return tf.RobertaConfig(
            hidden_size=h, num_hidden_layers=n, num_attention_heads=a, intermediate_size=f,
            max_position_embeddings=p + 2, **common,
        )  # fmt: skip
    if family == "deberta-v2":
        return tf.DebertaV2Config(
            hidden_size=h, num_hidden_layers=n, num_attention_heads=a, intermediate_size=f, max_position_embeddings=p,
            relative_attention=True, position_buckets=64, pos_att_type=["p2c", "c2p"], **common,
        )  # fmt: skip
    raise ValueError(family)


FAMILIES = ("opt", "gpt2", "llama", "qwen3", "roberta", "deberta-v2")


def _items_per_s(fn: PackedRewardModel, items: list[list[int]], batch: int) -> float:
    t0 = time.perf_counter()
    for i in range(0, len(items), batch):
        fn(items[i : i + batch])
    return len(items) / (time.perf_counter() - t0)


@torch.inference_mode()
def bench_architectures(quick: bool = False, repeats: int = 3, families: tuple[str, ...] = FAMILIES) -> dict[str, Any]:
    from transformers import AutoModelForSequenceClassification

    rng = random.Random(0)
    n_items = 32 if quick else 96
    items = [[rng.randrange(3, SIZE["vocab"]) for _ in range(rng.randint(16, 256))] for _ in range(n_items)]
    batch = 16
    out: dict[str, Any] = {
        "size": SIZE,
        "items": n_items,
        "batch": batch,
        "mean_tokens": statistics.mean(len(s) for s in items),
        "families": {},
    }
    for family in families:
        torch.manual_seed(0)
        model = AutoModelForSequenceClassification.from_config(_config(family)).eval()
        ours = PackedRewardModel(model).eval()
        ours.fuse_for_inference()
        plain = PackedRewardModel(model).eval()
        plain.path = "padded"  # the plain Hugging Face forward, right-padded to the batch's longest item
        # the same scores, item by item, before any timing
        diff = float((ours(items[:batch]) - plain(items[:batch])).abs().max())
        for fn in (ours, plain):  # warm-up
            fn(items[:batch])
        runs: dict[str, list[float]] = {"ours": [], "padded": []}
        for _ in range(repeats):
            runs["ours"].append(_items_per_s(ours, items, batch))
            runs["padded"].append(_items_per_s(plain, items, batch))
        o, p = statistics.median(runs["ours"]), statistics.median(runs["padded"])
        out["families"][family] = {
            "path": ours.path,
            "ours_items_per_s": o,
            "padded_items_per_s": p,
            "ratio": o / p,
            "max_abs_diff": diff,
            "runs": runs,
        }
        log.info("%s: %s path %.1f items/s, padded HF %.1f items/s (%.2fx)", family, ours.path, o, p, o / p)
    return out


def markdown(r: dict[str, Any]) -> list[str]:
    s = r["size"]
    lines = [
        f"## forward per architecture family (CPU; random weights, hidden {s['hidden']}, {s['layers']} layers, "
        f"{r['items']} items of 16-256 tokens, mean {r['mean_tokens']:.0f}, batches of {r['batch']})",
        "",
        "| family | rewardgate path | items/s | padded HF forward items/s | ratio | max score difference |",
        "|---|---|---|---|---|---|",
    ]
    for fam, x in r["families"].items():
        lines.append(
            f"| {fam} | {x['path']} | {x['ours_items_per_s']:.1f} | {x['padded_items_per_s']:.1f} | "
            f"{x['ratio']:.2f}x | {x['max_abs_diff']:.1e} |"
        )
    return [*lines, ""]


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.architectures", description=__doc__)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--family", action="append", choices=FAMILIES, help="only these (repeatable)")
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    for noisy in ("modeling", "transformers"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    r = bench_architectures(args.quick, args.repeats, tuple(args.family or FAMILIES))
    print("\n".join(markdown(r)))


if __name__ == "__main__":
    main()
