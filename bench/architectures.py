"""Per architecture family, in one run: the forward strategy the service chooses
(``modeling/forward/``: OPT's hand-written padding-free path, the packed encoder path for BERT and
RoBERTa, transformers' packed sequences for other decoders, padded where none matches) against
the plain padded Hugging Face forward, on the same items and weights.

Models are random, built from a config at one size (hidden 256, 4 layers, 4 heads, FFN 1024,
vocabulary 8000), so only the forward differs between families' rows. Items: random token ids
of mixed lengths (16-256, as chat replies and short reviews are), scored in batches of 16.

Then the default model's shape (MiniLM: BERT, hidden 384, 6 layers, 12 heads, random weights):
packed against padded on items of 10-150 tokens in batches of 32, as they arrive (the figure
issue 19 targets at 1.5x), and padded once more with length-sorted batches, for scale.
``python -m bench.architectures`` prints the tables; ``make bench`` includes them.
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
from modeling.forward.attention import one_thread

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
    if family == "bert":
        return tf.BertConfig(
            hidden_size=h, num_hidden_layers=n, num_attention_heads=a, intermediate_size=f, max_position_embeddings=p,
            **common,
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


FAMILIES = ("opt", "gpt2", "llama", "qwen3", "bert", "roberta", "deberta-v2")
# sentence-transformers/all-MiniLM-L6-v2, the default base model
MINILM = {"hidden_size": 384, "num_hidden_layers": 6, "num_attention_heads": 12, "intermediate_size": 1536}
ENCODER_TARGET = 1.5


def _items_per_s(fn: PackedRewardModel, items: list[list[int]], batch: int) -> float:
    t0 = time.perf_counter()
    for i in range(0, len(items), batch):
        fn(items[i : i + batch])
    return len(items) / (time.perf_counter() - t0)


def bench_architectures(quick: bool = False, repeats: int = 3, families: tuple[str, ...] = FAMILIES) -> dict[str, Any]:
    out = bench_families(quick, repeats, families)
    out["encoder"] = bench_encoder(quick, repeats)  # trains too: not under inference_mode
    return out


@torch.inference_mode()
def bench_families(quick: bool = False, repeats: int = 3, families: tuple[str, ...] = FAMILIES) -> dict[str, Any]:
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
        plain = PackedRewardModel.padded(model).eval()  # right-padded to the batch's longest item
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
            "path": ours.strategy.name,
            "ours_items_per_s": o,
            "padded_items_per_s": p,
            "ratio": o / p,
            "max_abs_diff": diff,
            "runs": runs,
        }
        log.info("%s: %s %.1f items/s, padded HF %.1f items/s (%.2fx)", family, ours.strategy.name, o, p, o / p)
    return out


def _rate(fn: PackedRewardModel, items: list[list[int]], batch: int, clock: Any, train: bool = False) -> float:
    """Items per second of ``clock``; with ``train``, a forward and a backward per batch."""
    t0 = clock()
    for i in range(0, len(items), batch):
        scores = fn(items[i : i + batch])
        if train:
            scores.sum().backward()
    return len(items) / (clock() - t0)


def bench_encoder(quick: bool = False, repeats: int = 3) -> dict[str, Any]:
    """Packed vs padded at MiniLM's shape, on the same items, runs interleaved: the forward on
    all cores (wall clock), the same forward's work on one thread (CPU seconds: what a busy shared
    machine distorts least), and a training step (forward and backward, dropout on)."""
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
    config = BertConfig(vocab_size=30522, max_position_embeddings=512, num_labels=1, **MINILM)
    model = BertForSequenceClassification(config).eval()
    rng = random.Random(1)
    n_items, batch = (64 if quick else 192), 32
    # [CLS] ... [SEP] around random ids, as BERT's tokenizer frames an item
    items = [[101, *(rng.randrange(1000, 30000) for _ in range(rng.randint(10, 150) - 2)), 102] for _ in range(n_items)]
    by_length = sorted(items, key=len)
    ours = PackedRewardModel(model).eval()
    ours.fuse_for_inference()
    plain = PackedRewardModel.padded(model).eval()
    wall, cpu = time.perf_counter, time.process_time
    runs: dict[str, list[float]] = {k: [] for k in ("packed", "padded", "padded_sorted", "packed_cpu", "padded_cpu")}
    runs |= {"packed_train": [], "padded_train": []}
    with torch.inference_mode():
        diff = float((ours(items[:batch]) - plain(items[:batch])).abs().max())
        for fn in (ours, plain):  # warm-up
            fn(items[:batch])
        for _ in range(repeats):
            runs["packed"].append(_rate(ours, items, batch, wall))
            runs["padded"].append(_rate(plain, items, batch, wall))
            runs["padded_sorted"].append(_rate(plain, by_length, batch, wall))
            with one_thread():
                runs["packed_cpu"].append(_rate(ours, items[: 2 * batch], batch, cpu))
                runs["padded_cpu"].append(_rate(plain, items[: 2 * batch], batch, cpu))
    model.train()
    for _ in range(repeats):
        runs["packed_train"].append(_rate(ours, items[: 2 * batch], batch, wall, train=True))
        runs["padded_train"].append(_rate(plain, items[: 2 * batch], batch, wall, train=True))
    model.zero_grad(set_to_none=True)
    med = {k: statistics.median(v) for k, v in runs.items()}
    ratio = med["packed"] / med["padded"]
    log.info(
        "encoder (MiniLM shape): %s %.1f items/s, padded %.1f (%.2fx)",
        ours.strategy.name,
        med["packed"],
        med["padded"],
        ratio,
    )
    return {
        "shape": MINILM,
        "items": n_items,
        "batch": batch,
        "mean_tokens": statistics.mean(len(s) for s in items),
        "path": ours.strategy.name,
        "median": med,
        "ratio": ratio,
        "sorted_ratio": med["packed"] / med["padded_sorted"],
        "cpu_ratio": med["packed_cpu"] / med["padded_cpu"],
        "train_ratio": med["packed_train"] / med["padded_train"],
        "target": ENCODER_TARGET,
        "max_abs_diff": diff,
        "runs": runs,
    }


def targets(r: dict[str, Any]) -> list[tuple[str, float, float | None]]:
    """Rows for ``make bench``'s targets table."""
    e = r.get("encoder")
    return [("packed vs padded encoder forward, MiniLM shape, 10-150 tokens", e["ratio"], e["target"])] if e else []


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
    e = r.get("encoder")
    if e:
        m, met = e["median"], "met" if e["ratio"] >= e["target"] else "NOT met"
        lines += [
            "",
            f"## packed vs padded encoder (CPU; MiniLM's shape, random weights: hidden "
            f"{e['shape']['hidden_size']}, {e['shape']['num_hidden_layers']} layers, {e['items']} items of 10-150 "
            f"tokens, mean {e['mean_tokens']:.0f}, batches of {e['batch']}, median of {len(e['runs']['packed'])})",
            "",
            "| run | packed (items/s) | padded HF (items/s) | packed is |",
            "|---|---|---|---|",
            f"| forward, batches as they arrive | {m['packed']:.1f} | {m['padded']:.1f} | {e['ratio']:.2f}x |",
            f"| forward, padded batches length-sorted | {m['packed']:.1f} | {m['padded_sorted']:.1f} | "
            f"{e['sorted_ratio']:.2f}x |",
            f"| forward on one thread, per CPU-second | {m['packed_cpu']:.1f} | {m['padded_cpu']:.1f} | "
            f"{e['cpu_ratio']:.2f}x |",
            f"| training step (forward + backward) | {m['packed_train']:.1f} | {m['padded_train']:.1f} | "
            f"{e['train_ratio']:.2f}x |",
            "",
            f"packed ({e['path']}) vs padded forward: {e['ratio']:.2f}x (target {e['target']:.1f}x: {met}); "
            f"max score difference {e['max_abs_diff']:.1e}",
        ]
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
