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

import httpx
import numpy as np
import torch

from model_store import InputSpec, ModelStore
from modeling import PackedRewardModel, encode_items
from modeling.forward.runtimes import RUNTIMES, make_runtime, runtime_of

from .common import percentile, short_items

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
def bench_runtimes(store: Path | None = None, quick: bool = False, repeats: int = 3, port: int = 0) -> dict[str, Any]:
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
    if trained and port:
        out["http"] = http(store, hf, spec, tokenizer, items, repeats, port)
    log.info("CPU runtimes: %s", {n: round(r["items_per_s"], 1) for n, r in rows.items()})
    return out


def http(
    store: Path | None, hf: Any, spec: InputSpec, tokenizer: Any, items: list[Any], repeats: int, port: int
) -> dict[str, Any]:
    """The same replies sent to the service as ``make run`` starts it (the ``auto`` runtime), one per
    ``/score`` request: items/s at c=16 and latency at c=1, against the bare forward of one item."""
    from .serve import Service, bare_latencies, run_service

    seqs = encode_items(spec, tokenizer, items)[0]
    flop = 2.0 * sum(p.numel() for n, p in hf.named_parameters() if "embeddings" not in n)
    bare = bare_latencies(hf, seqs[:128])
    out: dict[str, Any] = {"bare_p50_ms": percentile(bare, 50) * 1e3, "bare_p99_ms": percentile(bare, 99) * 1e3}
    svc = Service(store or ModelStore().root, "default", port)
    try:
        out["runtime"] = httpx.get(svc.url + "/v1/models", timeout=10).json()["runtime"]
        for c, sent in ((16, items), (1, items[:128])):
            n = sum(len(s) for s in seqs[: len(sent)])
            rs = [run_service(svc, sent, n, c, flop) for _ in range(repeats)]
            out[f"c={c}"] = {k: statistics.median(r[k] for r in rs) for k in ("items_per_s", "p50_ms", "p99_ms")}
            out[f"c={c}"]["errors"] = sum(sum(r["errors"].values()) for r in rs)
    finally:
        svc.stop()
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
    lines += ["", f"CPU default the figures justify: {r['default']} ({why})", ""]
    h = r.get("http")
    if h:
        rows = r["rows"]
        c16, c1 = h["c=16"], h["c=1"]
        lines += [
            f"Over HTTP (`python -m app` on the same model, runtime `{h['runtime']}`, one reply per `/score` "
            f"request, median of {r['repeats']}): c=16 **{c16['items_per_s']:.1f} items/s**, "
            + "; ".join(
                f"{c16['items_per_s'] / rows[k]['items_per_s']:.2f}x {k} in-process"
                for k in ("onnx-int8", "padded HF (fp32)", "torch")
                if k in rows
            )
            + f" (p50 {c16['p50_ms']:.0f} ms, p99 {c16['p99_ms']:.0f} ms, errors {c16['errors']}); "
            f"c=1 p99 {c1['p99_ms']:.1f} ms against the bare fp32 forward of one item p99 {h['bare_p99_ms']:.1f} ms "
            f"({c1['p99_ms'] / h['bare_p99_ms']:.2f}x; p50 {c1['p50_ms']:.1f} against {h['bare_p50_ms']:.1f} ms).",
            "",
        ]
    return lines


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.runtimes", description=__doc__)
    p.add_argument("--store", type=Path, default=None, help="a model store with a trained `default`")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--port", type=int, default=8765, help="for the HTTP figures (0: leave them out)")
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    for noisy in ("transformers", "model_store"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    print("\n".join(markdown(bench_runtimes(args.store, args.quick, args.repeats, args.port))))


if __name__ == "__main__":
    main()
