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
import gc
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
from modeling.forward.runtimes import RUNTIMES, OnnxInt8, make_runtime, runtime_of

from .common import percentile, short_items

log = logging.getLogger("bench")

ACCURACY_MOVE = 0.005
CORRELATION = 0.999
BATCH = 32
LENGTHS = (10, 150)
CONCURRENCY = (1, 2, 4, 8, 16, 32)
# the padded forward as a user writes it first: batches of 32 in the order the items come
AS_THEY_COME = "padded HF (fp32), batches as they come"


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


@torch.inference_mode()
def imdb_heldout(store: Path, limit: int) -> dict[str, Any] | None:
    """What each CPU runtime changes on the IMDB recipe's held-out split: the ``imdb`` model of
    ``store`` (trained with ``training/configs/imdb-minilm.toml``) on the validation pairs that
    recipe's split of ``../shared/data/imdb/train.jsonl.gz`` set aside (the first ``limit``), each
    runtime against torch fp32: pairwise accuracy and the correlation of the scores. None when the
    model or the data is not there."""
    from modeling.loader import load_version
    from training.config import TrainConfig, load_toml
    from training.train import training_data

    from .common import SHARED

    data = SHARED / "imdb" / "train.jsonl.gz"
    s = ModelStore(store)
    if not data.is_file() or not s.current("imdb"):
        log.warning("IMDB figures left out: no `imdb` model in %s or no %s", store, data)
        return None
    recipe = Path(__file__).resolve().parents[1] / "training" / "configs" / "imdb-minilm.toml"
    cfg = TrainConfig.from_dict({**load_toml(recipe), "data": [str(data)]})
    with training_data(cfg) as split:
        pairs = split.validation[:limit]
    loaded = load_version(s, "imdb", device="cpu", dtype="float32")
    hf = loaded.model.model.float().eval()
    texts = list(dict.fromkeys([(p.prompt, p.chosen) for p in pairs] + [(p.prompt, p.rejected) for p in pairs]))
    index = {t: i for i, t in enumerate(texts)}
    ids, _ = encode_items(loaded.spec, loaded.tokenizer, texts)
    out: dict[str, Any] = {"model": f"imdb/{loaded.id}", "pairs": len(pairs), "rows": {}}
    ref: np.ndarray | None = None
    for name in ("torch", "torch-int8", "torch-bf16", "onnx-int8"):
        strategy = make_runtime(name, hf, torch.device("cpu"))
        if runtime_of(strategy) != name:
            continue
        sc = _score(PackedRewardModel(hf, strategy).eval(), ids)
        ref = sc if ref is None else ref
        acc = float(np.mean([sc[index[(p.prompt, p.chosen)]] > sc[index[(p.prompt, p.rejected)]] for p in pairs]))
        out["rows"][name] = {"pairwise_accuracy": acc, "correlation": float(np.corrcoef(sc, ref)[0, 1])}
    for row in out["rows"].values():
        row["accuracy_change"] = row["pairwise_accuracy"] - out["rows"]["torch"]["pairwise_accuracy"]
    return out


class _OrtInt8(OnnxInt8):
    """ONNX Runtime int8 as an expert would tune it towards fp32's scores: weights per channel,
    activations at full 8-bit range and, with ``fp32_feed_forward``, the feed-forward MatMuls
    (non-square weights, where one activation scale per batch loses most) left in fp32. ORT's
    dynamic int8 has no per-token activation scale."""

    fp32_feed_forward = False

    def int8_options(self, graph: Path) -> dict[str, Any]:
        import onnx

        g = onnx.load(str(graph)).graph
        dims = {t.name: tuple(t.dims) for t in g.initializer}
        wide = [
            n.name
            for n in g.node
            if n.op_type == "MatMul" and len(dims.get(n.input[1], ())) == 2 and len(set(dims[n.input[1]])) == 2
        ]
        options: dict[str, Any] = {"per_channel": True, "reduce_range": False}
        if self.fp32_feed_forward:
            options["nodes_to_exclude"] = wide
        return options


class _OrtInt8Kept(_OrtInt8):
    fp32_feed_forward = True


ORT_TUNED = {
    "onnx-int8, per-channel, full range": _OrtInt8,
    "onnx-int8, per-channel, full range, feed-forward fp32": _OrtInt8Kept,
}


def meets(row: dict[str, Any], trained: bool) -> bool:
    """Whether a runtime's figures allow it as a CPU default (on a trained model only)."""
    return trained and abs(row["accuracy_change"]) <= ACCURACY_MOVE and row["correlation"] >= CORRELATION


def _score(model: PackedRewardModel, ids: list[list[int]], sort: bool = True) -> np.ndarray:
    """Scores of ``ids`` in batches of ``BATCH`` (length-sorted unless ``sort`` is False: batches as
    the items come), in the given order."""
    order = sorted(range(len(ids)), key=lambda i: len(ids[i])) if sort else list(range(len(ids)))
    out = np.zeros(len(ids))
    for k in range(0, len(order), BATCH):
        idx = order[k : k + BATCH]
        out[idx] = model([ids[i] for i in idx]).float().numpy()
    return out


def _items_per_s(
    model: PackedRewardModel, spec: InputSpec, tokenizer: Any, items: list[Any], sort: bool = True
) -> float:
    t0 = time.perf_counter()
    ids, _ = encode_items(spec, tokenizer, items)  # tokenization included
    _score(model, ids, sort)
    return len(items) / (time.perf_counter() - t0)


@torch.inference_mode()
def bench_runtimes(store: Path | None = None, quick: bool = False, repeats: int = 3, port: int = 0) -> dict[str, Any]:
    hf, tokenizer, spec, what, trained = load_default(store)
    hf = hf.float().eval()
    items = support_replies(spec, tokenizer, 128 if quick else 512)
    texts, pairs = hand_written()
    text_ids, _ = encode_items(spec, tokenizer, texts)
    padded = PackedRewardModel.padded(hf)
    models: dict[str, PackedRewardModel] = {AS_THEY_COME: padded, "padded HF (fp32), length-sorted": padded}
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
    if "onnx-int8" in models:
        for name, cls in ORT_TUNED.items():
            t0 = time.perf_counter()
            try:
                models[name] = PackedRewardModel(hf, cls(hf)).eval()
            except Exception as exc:  # a quantization option this onnxruntime lacks: a row less, not a crash
                log.warning("%s not measured: %s: %s", name, type(exc).__name__, exc)
                continue
            built[name] = time.perf_counter() - t0
    scores = {name: _score(m, text_ids) for name, m in models.items()}
    ref = scores["torch"]

    def accuracy(s: np.ndarray) -> float:
        return float(np.mean([s[g] > s[b] for g, b in pairs]))

    for m in models.values():  # warm-up
        _items_per_s(m, spec, tokenizer, items[:BATCH])
    runs: dict[str, list[float]] = {name: [] for name in models}
    for _ in range(repeats):
        for name, m in models.items():
            runs[name].append(_items_per_s(m, spec, tokenizer, items, sort=name != AS_THEY_COME))
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
    allowed = [n for n in RUNTIMES if n in rows and (n == "torch" or meets(rows[n], trained))]
    best = max(allowed, key=lambda n: rows[n]["items_per_s"])
    ort_ok = [n for n in rows if n.startswith("onnx-int8") and meets(rows[n], trained)]
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
        "ort_int8_at_bar": max(ort_ok, key=lambda n: rows[n]["items_per_s"]) if ort_ok else None,
    }
    if trained and port:
        # the in-process runtimes go first: ONNX Runtime's thread pools must not share the cores
        # with the service
        models.clear()
        gc.collect()
        out["http"] = http(store, hf, spec, tokenizer, items, repeats, port)
    log.info("CPU runtimes: %s", {n: round(r["items_per_s"], 1) for n, r in rows.items()})
    return out


def http(
    store: Path | None, hf: Any, spec: InputSpec, tokenizer: Any, items: list[Any], repeats: int, port: int
) -> dict[str, Any]:
    """The same replies sent to the service as ``make run`` starts it (the ``auto`` runtime), one per
    ``/score`` request, at each of ``CONCURRENCY`` (c=1: the first 128): items/s and latency,
    against the bare forward of one item."""
    from .serve import Service, bare_latencies, run_service

    seqs = encode_items(spec, tokenizer, items)[0]
    flop = 2.0 * sum(p.numel() for n, p in hf.named_parameters() if "embeddings" not in n)
    bare = bare_latencies(hf, seqs[:128])
    out: dict[str, Any] = {"bare_p50_ms": percentile(bare, 50) * 1e3, "bare_p99_ms": percentile(bare, 99) * 1e3}
    svc = Service(store or ModelStore().root, "default", port)
    try:
        out["runtime"] = httpx.get(svc.url + "/v1/models", timeout=10).json()["runtime"]
        for c in CONCURRENCY:
            sent = items[:128] if c == 1 else items
            n = sum(len(s) for s in seqs[: len(sent)])
            rs = [run_service(svc, sent, n, c, flop) for _ in range(repeats)]
            out[f"c={c}"] = {k: statistics.median(r[k] for r in rs) for k in ("items_per_s", "p50_ms", "p99_ms")}
            out[f"c={c}"]["errors"] = sum(sum(r["errors"].values()) for r in rs)
    finally:
        svc.stop()
    return out


def plot_concurrency(r: dict[str, Any], path: Path) -> Path:
    """Items/s against concurrency: the service over HTTP, and each in-process baseline (one
    caller scoring batches of 32, the same at any concurrency) as a level line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    h = r["http"]
    fig, ax = plt.subplots(figsize=(10, 4.2), dpi=110)
    ax.plot(
        CONCURRENCY,
        [h[f"c={c}"]["items_per_s"] for c in CONCURRENCY],
        "o-",
        lw=2.5,
        color="black",
        label=f"rewardgate over HTTP ({h['runtime']}, one reply per /score request)",
    )
    for name, row in r["rows"].items():
        ax.axhline(
            row["items_per_s"],
            ls="--",
            lw=1.2,
            color=plt.cm.tab10(list(r["rows"]).index(name)),
            label=f"{name}, in-process",
        )
    ax.set_xscale("log", base=2)
    ax.set_xticks(CONCURRENCY, [str(c) for c in CONCURRENCY])
    ax.set_xlabel("concurrent callers")
    ax.set_ylabel("items/s")
    ax.set_ylim(bottom=0)
    ax.set_title(
        f"default model, {r['items']} support replies of {LENGTHS[0]}-{LENGTHS[1]} tokens, {r['threads']} CPU threads",
        fontsize=9,
    )
    ax.legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


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
    at_bar = r.get("ort_int8_at_bar")
    if any(n.startswith("onnx-int8") for n in r["rows"]):
        lines += [
            "Fastest ONNX Runtime int8 configuration that meets the same bar: "
            + (f"{at_bar} ({r['rows'][at_bar]['items_per_s']:.1f} items/s)" if at_bar else "none"),
            "",
        ]
    h = r.get("http")
    if h:
        rows = r["rows"]
        c16, c1 = h["c=16"], h["c=1"]
        lines += [
            f"Over HTTP (`python -m app` on the same model, runtime `{h['runtime']}`, one reply per `/score` "
            f"request, median of {r['repeats']}): c=16 **{c16['items_per_s']:.1f} items/s**, "
            + "; ".join(
                f"{c16['items_per_s'] / rows[k]['items_per_s']:.2f}x {k} in-process"
                for k in dict.fromkeys(
                    ("onnx-int8", r.get("ort_int8_at_bar"), AS_THEY_COME, "padded HF (fp32), length-sorted", "torch")
                )
                if k in rows
            )
            + f" (p50 {c16['p50_ms']:.0f} ms, p99 {c16['p99_ms']:.0f} ms, errors {c16['errors']}); "
            f"c=1 p99 {c1['p99_ms']:.1f} ms against the bare fp32 forward of one item p99 {h['bare_p99_ms']:.1f} ms "
            f"({c1['p99_ms'] / h['bare_p99_ms']:.2f}x; p50 {c1['p50_ms']:.1f} against {h['bare_p50_ms']:.1f} ms).",
            "",
            "| concurrent callers | " + " | ".join(str(c) for c in CONCURRENCY) + " |",
            "|---|" + "---|" * len(CONCURRENCY),
            "| items/s over HTTP | " + " | ".join(f"{h[f'c={c}']['items_per_s']:.1f}" for c in CONCURRENCY) + " |",
            "| p50 ms | " + " | ".join(f"{h[f'c={c}']['p50_ms']:.1f}" for c in CONCURRENCY) + " |",
            "| p99 ms | " + " | ".join(f"{h[f'c={c}']['p99_ms']:.1f}" for c in CONCURRENCY) + " |",
            "",
        ]
        if r.get("plot"):
            lines += [f"Plot: `{r['plot']}`", ""]
    imdb = r.get("imdb")
    if imdb:
        lines += [
            f"On the IMDB recipe's held-out split ({imdb['model']}, {imdb['pairs']} validation pairs of "
            "`training/configs/imdb-minilm.toml`'s split):",
            "",
            "| runtime | pairwise accuracy | change | correlation with fp32 |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| {n} | {x['pairwise_accuracy']:.4f} | {x['accuracy_change']:+.4f} | {x['correlation']:.5f} |"
            for n, x in imdb["rows"].items()
        ]
        lines.append("")
    return lines


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.runtimes", description=__doc__)
    p.add_argument("--store", type=Path, default=None, help="a model store with a trained `default`")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--port", type=int, default=8765, help="for the HTTP figures (0: leave them out)")
    p.add_argument("--imdb-store", type=Path, default=None, help="a store with an `imdb` model (imdb-minilm.toml)")
    p.add_argument("--imdb-pairs", type=int, default=1022, help="how many of its held-out pairs")
    p.add_argument("--plot", type=Path, default=Path("bench/results/runtimes-concurrency.png"))
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    for noisy in ("transformers", "model_store"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    r = bench_runtimes(args.store, args.quick, args.repeats, args.port)
    if r.get("http"):
        r["plot"] = str(plot_concurrency(r, args.plot))
    if args.imdb_store:
        r["imdb"] = imdb_heldout(args.imdb_store, args.imdb_pairs)
    print("\n".join(markdown(r)))


if __name__ == "__main__":
    main()
