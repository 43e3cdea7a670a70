"""The CPU runtimes (``modeling/forward/runtimes.py``) on the default model, in one process: items/s
on support replies of mixed length (10-150 tokens) scored as a user scores them in-process
(tokenize, sort by length, batches of 32; tokenization included), median of the repeats, runtimes
interleaved; and what each changes against torch fp32 on the hand-written sets
(``training/eval_sets``): pairwise accuracy (a good reply above each failing reply of its
exchange) and the Pearson correlation of all scores.

The model: the store's ``default`` (``--store``, else ``REWARDGATE_STORE``'s), else the packaged
base ``minilm`` with a fresh head, whose accuracy figures mean nothing (said in the table). A
runtime may become the CPU default only if it is faster than torch and, on a trained model, moves
pairwise accuracy by at most 0.005 and correlates at least 0.999 with fp32 (``ACCURACY_MOVE``,
``CORRELATION``). ``python -m bench.runtimes`` prints the table; ``make bench`` includes it.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from model_store import InputSpec, ModelStore
from modeling import PackedRewardModel, encode_items
from modeling.forward.runtimes import RUNTIMES, make_runtime, runtime_of

from .common import short_items

log = logging.getLogger("bench")

ACCURACY_MOVE = 0.005
CORRELATION = 0.999
BATCH = 32
LENGTHS = (10, 150)


def load_default(store: Path | None) -> tuple[Any, Any, InputSpec, str, bool]:
    """(Hugging Face model, tokenizer, input spec, what it is, whether it is trained)."""
    from modeling.loader import load_version

    s = ModelStore(store) if store else ModelStore()
    if s.current("default"):
        loaded = load_version(s, "default", device="cpu", dtype="float32")
        return loaded.model.model, loaded.tokenizer, loaded.spec, f"default/{loaded.id} from {s.root}", True
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from training.bases import resolve

    path = resolve("minilm").path
    model = AutoModelForSequenceClassification.from_pretrained(str(path), num_labels=1).eval()
    return model, AutoTokenizer.from_pretrained(str(path)), InputSpec(max_length=160), "minilm base, fresh head", False


def support_replies(spec: InputSpec, tokenizer: Any, n: int) -> list[tuple[str | None, str]]:
    """``n`` support exchanges (prompt + reply) of 10-150 tokens, in no order."""
    items = short_items(n * 2, seed=5)
    ids, _ = encode_items(spec, tokenizer, items)
    keep = [it for it, s in zip(items, ids, strict=True) if LENGTHS[0] <= len(s) <= LENGTHS[1]]
    return keep[:n]


def hand_written() -> tuple[list[tuple[str | None, str]], list[tuple[int, int]]]:
    """Every text of the hand-written sets, and the (good, failing) pairs among them by index."""
    from training.gate_check import Exchange, load_rows, packaged

    items: list[tuple[str | None, str]] = []
    pairs: list[tuple[int, int]] = []
    for row in load_rows(packaged()):
        if isinstance(row, Exchange):
            good = len(items)
            items.append((row.prompt, row.good))
            for bad in row.bad:
                pairs.append((good, len(items)))
                items.append((row.prompt, bad.text))
        else:
            items.append((row.prompt, row.text))
    return items, pairs


def _score(model: PackedRewardModel, ids: list[list[int]]) -> np.ndarray:
    """Scores of ``ids`` in length-sorted batches of ``BATCH``, in the given order."""
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    out = np.zeros(len(ids))
    for k in range(0, len(order), BATCH):
        idx = order[k : k + BATCH]
        out[idx] = model([ids[i] for i in idx]).float().numpy()
    return out


def _items_per_s(model: PackedRewardModel, spec: InputSpec, tokenizer: Any, items: list[Any]) -> float:
    t0 = time.perf_counter()
    ids, _ = encode_items(spec, tokenizer, items)  # tokenization included
    _score(model, ids)
    return len(items) / (time.perf_counter() - t0)


@torch.inference_mode()
def bench_runtimes(store: Path | None = None, quick: bool = False, repeats: int = 3) -> dict[str, Any]:
    hf, tokenizer, spec, what, trained = load_default(store)
    hf = hf.float().eval()
    items = support_replies(spec, tokenizer, 128 if quick else 512)
    texts, pairs = hand_written()
    text_ids, _ = encode_items(spec, tokenizer, texts)
    models: dict[str, PackedRewardModel] = {"padded HF (fp32)": PackedRewardModel.padded(hf)}
    built: dict[str, float] = {}
    for name in RUNTIMES:
        t0 = time.perf_counter()
        strategy = make_runtime(name, hf, torch.device("cpu"))
        built[name] = time.perf_counter() - t0
        if runtime_of(strategy) != name:
            log.warning("runtime %s unavailable here (see the log above): not measured", name)
            continue
        models[name] = PackedRewardModel(hf, strategy).eval()
        models[name].fuse_for_inference()
    scores = {name: _score(m, text_ids) for name, m in models.items()}
    ref = scores["torch"]

    def accuracy(s: np.ndarray) -> float:
        return float(np.mean([s[g] > s[b] for g, b in pairs]))

    for m in models.values():  # warm-up
        _items_per_s(m, spec, tokenizer, items[:BATCH])
    runs: dict[str, list[float]] = {name: [] for name in models}
    for _ in range(repeats):
        for name, m in models.items():
            runs[name].append(_items_per_s(m, spec, tokenizer, items))
    rows: dict[str, Any] = {}
    for name in models:
        s = scores[name]
        rows[name] = {
            "items_per_s": statistics.median(runs[name]),
            "runs": runs[name],
            "vs_torch": statistics.median(runs[name]) / statistics.median(runs["torch"]),
            "pairwise_accuracy": accuracy(s),
            "accuracy_change": accuracy(s) - accuracy(ref),
            "correlation": float(np.corrcoef(s, ref)[0, 1]),
            "max_abs_diff": float(np.abs(s - ref).max()),
            "build_s": built.get(name, 0.0),
        }
    allowed = [
        n
        for n in RUNTIMES
        if n in rows
        and (n == "torch" or (trained and abs(rows[n]["accuracy_change"]) <= ACCURACY_MOVE))
        and rows[n]["correlation"] >= CORRELATION
    ]
    best = max(allowed, key=lambda n: rows[n]["items_per_s"])
    lengths = [len(s) for s in encode_items(spec, tokenizer, items)[0]]
    out = {
        "model": what,
        "trained": trained,
        "items": len(items),
        "mean_tokens": statistics.mean(lengths),
        "batch": BATCH,
        "repeats": repeats,
        "threads": torch.get_num_threads(),
        "pairs": len(pairs),
        "texts": len(texts),
        "rows": rows,
        "default": best,
    }
    log.info("CPU runtimes: %s", {n: round(r["items_per_s"], 1) for n, r in rows.items()})
    return out


def markdown(r: dict[str, Any]) -> list[str]:
    lines = [
        f"## CPU runtimes on the default model ({r['model']}; {r['items']} support replies of "
        f"{LENGTHS[0]}-{LENGTHS[1]} tokens, mean {r['mean_tokens']:.0f}, tokenized, length-sorted, batches of "
        f"{r['batch']}, {r['threads']} threads, median of {r['repeats']}; accuracy on the hand-written sets: "
        f"{r['pairs']} pairs, {r['texts']} texts)",
        "",
        "| runtime | items/s | vs torch | pairwise accuracy | change | correlation with fp32 | max score diff | build s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, x in r["rows"].items():
        runs = ", ".join(f"{v:.0f}" for v in x["runs"])
        lines.append(
            f"| {name} | {x['items_per_s']:.1f} ({runs}) | {x['vs_torch']:.2f}x | {x['pairwise_accuracy']:.4f} | "
            f"{x['accuracy_change']:+.4f} | {x['correlation']:.5f} | {x['max_abs_diff']:.3f} | {x['build_s']:.1f} |"
        )
    why = (
        f"fastest with accuracy change <= {ACCURACY_MOVE} and correlation >= {CORRELATION}"
        if r["trained"]
        else "the model is untrained, so the accuracy figures cannot justify an int8 runtime"
    )
    return [*lines, "", f"CPU default the figures justify: {r['default']} ({why})", ""]


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.runtimes", description=__doc__)
    p.add_argument("--store", type=Path, default=None, help="a model store with a trained `default`")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    for noisy in ("transformers", "model_store"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    print("\n".join(markdown(bench_runtimes(args.store, args.quick, args.repeats))))


if __name__ == "__main__":
    main()
