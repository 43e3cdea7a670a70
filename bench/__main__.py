"""``python -m bench`` (make bench): serving and training benchmarks against the naive baselines,
in one run, with ratios against the targets. ``--quick`` (make bench-quick) runs a reduced set in
under 3 minutes. Writes ``bench/results/<stamp>.json`` and ``.md`` and prints the table."""

from __future__ import annotations

import argparse
import json
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from model_store import ModelStore

from .architectures import bench_architectures
from .architectures import markdown as architectures_markdown
from .architectures import targets as architectures_targets
from .challenger import bench_challenger
from .common import imdb_rows, log, matmul_peak, publish_random, short_items, train_imdb_tokenizer
from .rank import bench_rank
from .rank import markdown as rank_markdown
from .runtimes import bench_runtimes, plot_concurrency
from .runtimes import markdown as runtimes_markdown
from .serve import bench_model
from .train import bench_training
from .train_default import bench_default_training
from .train_default import markdown as default_training_markdown
from .train_default import ratio as default_training_ratio

ROOT = Path(__file__).resolve().parents[1]


def default_model_store(tmp: Path, quick: bool) -> Path:
    """The `make train` model if the store has one, else train it now (smaller in quick mode)."""
    store = ModelStore()
    if store.current("default"):
        return store.root
    from training.config import TrainConfig
    from training.train import train

    log.info("no default model in %s: training one for the benchmark", store.root)
    over = {"default_prompts": 300, "epochs": 1.0} if quick else {}
    train(TrainConfig.from_dict({"store": str(tmp), **over}))
    return tmp


def med(run: dict[str, Any] | None, key: str = "items_per_s") -> float:
    return float(run[key]["median"]) if run and key in run else float("nan")


def targets(serving: dict[str, Any], training: dict[str, Any] | None) -> list[tuple[str, float, float | None]]:
    out: list[tuple[str, float, float | None]] = []
    big = serving.get("opt-125m", {}).get("workloads", {})
    if "long" in big:
        r = big["long"]["runs"]
        svc = med(r.get("service, c=16"))
        out.append(("long, opt-125m, HTTP c=16 vs naive batch-1", svc / med(r.get("naive batch-1 (in-process)")), 1.10))
        out.append(
            (
                "long, opt-125m, HTTP c=16 vs reference padded batches",
                svc / med(r.get("reference padded to 512, batch 16 (in-process)")),
                2.0,
            )
        )
        p99 = med(r.get("service, c=1"), "p99_ms")
        out.append(
            ("long, opt-125m, p99 at c=1 / bare forward p99 (at most)", p99 / big["long"]["bare_forward_p99_ms"], 1.2)
        )
    if "short" in big:
        r = big["short"]["runs"]
        out.append(
            (
                "short, opt-125m, HTTP c=16 vs naive batch-1",
                med(r.get("service, c=16")) / med(r.get("naive batch-1 (in-process)")),
                1.5,
            )
        )
    small = serving.get("default", {}).get("workloads", {})
    if "short" in small:
        r = small["short"]["runs"]
        # No target any more (issue 10): batch-1 of this small model already runs at about half
        # the CPU's matmul peak, so batching cannot win 5x here; the GPU targets take its place.
        out.append(
            (
                "short, default model, c=64 vs batching off",
                med(r.get("service, c=64")) / med(r.get("service, batching off, c=64")),
                None,
            )
        )
        p99 = med(r.get("service, c=1"), "p99_ms")
        out.append(
            (
                "short, default model, p99 at c=1 / bare forward p99 (at most)",
                p99 / small["short"]["bare_forward_p99_ms"],
                1.2,
            )
        )
    if training:
        runs = training["runs"]

        def tmed(label: str) -> float:
            rs = runs.get(label)
            if not isinstance(rs, list):
                return float("nan")
            return sorted(x["pairs_per_s"] for x in rs)[len(rs) // 2]

        ours = tmed("make train loop (packed, one forward)")
        out.append(
            (
                "training pairs/s vs reference recipe",
                ours / tmed("reference recipe (pad to max_length, two forwards)"),
                1.8,
            )
        )
        out.append(("training pairs/s vs TRL RewardTrainer", ours / tmed("TRL RewardTrainer"), 1.15))
    return out


def fmt(s: dict[str, Any], key: str, digits: int = 1) -> str:
    if key not in s:
        return ""
    v = s[key]
    return f"{v['median']:.{digits}f} ({v['min']:.{digits}f}-{v['max']:.{digits}f})"


def markdown(result: dict[str, Any]) -> str:
    lines = [
        f"# rewardgate benchmark {result['stamp']}",
        "",
        f"machine: {result['machine']}; matmul peak (six linears of an opt-125m block, 4096 tokens, fp32): "
        f"{result['peak_gflops']:.0f} GFLOP/s. Figures: median (min-max) of {result['repeats']} repeats.",
        "",
    ]
    for model, m in result["serving"].items():
        for wname, w in m["workloads"].items():
            lines += [
                f"## serving: {model}, {wname} texts ({w['items']} items, {w['mean_tokens']:.0f} tokens each)",
                "",
                f"bare forward of one item: p50 {w['bare_forward_p50_ms']:.1f} ms, p99 {w['bare_forward_p99_ms']:.1f} ms",
                "",
                "| run | items/s | tokens/s | GFLOP/s | share of peak | p50 ms | p95 ms | p99 ms | mean batch | padding |",
                "|---|---|---|---|---|---|---|---|---|---|",
            ]
            for key, s in w["runs"].items():
                lines.append(
                    f"| {key} | {fmt(s, 'items_per_s', 2)} | {fmt(s, 'tokens_per_s', 0)} | {fmt(s, 'gflops', 1)} | "
                    f"{fmt(s, 'peak_share', 2)} | {fmt(s, 'p50_ms')} | {fmt(s, 'p95_ms')} | {fmt(s, 'p99_ms')} | "
                    f"{fmt(s, 'mean_batch', 1)} | {fmt(s, 'padding_share', 2)} |"
                )
            lines.append("")
    if result.get("rank"):
        lines += rank_markdown(result["rank"])
    if result.get("architectures"):
        lines += architectures_markdown(result["architectures"])
    if result.get("runtimes"):
        lines += runtimes_markdown(result["runtimes"])
    if result.get("training"):
        t = result["training"]
        lines += [
            f"## training: {t['model']}, IMDB, max_length {t['max_length']}, {t['batch_pairs']} pairs/batch, {t['steps']} steps",
            "",
            "| loop | pairs/s | real tokens/s | held-out accuracy |",
            "|---|---|---|---|",
        ]
        for label, rs in t["runs"].items():
            if not isinstance(rs, list):
                lines.append(f"| {label} | skipped: {rs['skipped']} | | |")
                continue
            pp = sorted(r["pairs_per_s"] for r in rs)
            tp = sorted(r["tokens_per_s"] for r in rs)
            acc = sorted(r["accuracy"] for r in rs)
            lines.append(
                f"| {label} | {pp[len(pp) // 2]:.2f} ({pp[0]:.2f}-{pp[-1]:.2f}) | {tp[len(tp) // 2]:.0f} | "
                f"{acc[len(acc) // 2]:.3f} ({acc[0]:.3f}-{acc[-1]:.3f}) |"
            )
        lines.append("")
    if result.get("default_training"):
        lines += default_training_markdown(result["default_training"])
    lines += ["## targets", "", "| target | measured | goal | met |", "|---|---|---|---|"]
    for name, value, goal in result["targets"]:
        if goal is None:
            lines.append(f"| {name} | {value:.2f}x | no target | - |")
            continue
        if value != value:  # nan: a side of the ratio was not run (quick mode, or trl not installed)
            lines.append(f"| {name} | not run | {goal:.2f}x | - |")
            continue
        ok = value <= goal if "at most" in name else value >= goal
        lines.append(f"| {name} | {value:.2f}x | {goal:.2f}x | {'yes' if ok else 'NO'} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--quick", action="store_true", help="a reduced run, under 3 minutes")
    p.add_argument("--repeats", type=int, default=None)
    p.add_argument("--skip-train", action="store_true")
    p.add_argument("--skip-serve", action="store_true")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    for noisy in ("httpx", "model_store", "modeling", "training", "app"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    quick = args.quick
    repeats = args.repeats or (1 if quick else 3)
    t_start = time.time()
    result: dict[str, Any] = {
        "stamp": time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()),
        "repeats": repeats,
        "machine": f"{os.cpu_count()} CPU cores, torch {torch.__version__}, "
        f"{'CUDA ' + torch.cuda.get_device_name() if torch.cuda.is_available() else 'no GPU'}",
        "quick": quick,
        "serving": {},
    }
    result["peak_gflops"] = peak = matmul_peak()
    log.info("matmul peak %.0f GFLOP/s", peak)
    with tempfile.TemporaryDirectory(prefix="rewardgate-bench-") as d:
        tmp = Path(d)
        if not args.skip_serve:
            rows = imdb_rows(3000 if not quick else 1000)
            tok = train_imdb_tokenizer([r["text"] for r in rows], 16000)
            publish_random(tmp / "store", "opt-125m", "opt-125m", tok)
            long_items = [(None, r["text"]) for r in rows[: 12 if quick else 48]]
            cs = [1, 16] if quick else [1, 4, 16, 64]
            result["serving"]["opt-125m"] = bench_model(
                tmp / "store",
                "opt-125m",
                {"long": long_items, "short": short_items(48 if quick else 160)},
                cs,
                repeats,
                peak,
                args.port,
                pipeline=not quick,
                baseline_items=16 if quick else 64,
            )
            store = default_model_store(tmp / "default-store", quick)
            result["serving"]["default"] = bench_model(
                store,
                "default",
                {"short": short_items(400 if quick else 2000, seed=3)},
                [1, 64] if quick else [1, 4, 16, 64],
                repeats,
                peak,
                args.port,
                baselines=not quick,
            )
            result["challenger"] = bench_challenger(store, args.port, quick)
            result["rank"] = bench_rank(store, args.port, quick, repeats)
            result["architectures"] = bench_architectures(quick, repeats)
            result["runtimes"] = bench_runtimes(store, quick, repeats, args.port)
            if result["runtimes"].get("http"):
                png = Path(args.out) / f"{result['stamp']}-runtimes-concurrency.png"
                result["runtimes"]["plot"] = str(plot_concurrency(result["runtimes"], png))
        if not args.skip_train:
            result["training"] = bench_training(600 if quick else 2000, 4 if quick else 40, repeats)
            if quick:
                result["training"]["runs"].pop("TRL RewardTrainer", None)
            result["default_training"] = bench_default_training(peak, quick, repeats)
    result["targets"] = targets(result["serving"], result.get("training"))
    result["targets"] += architectures_targets(result.get("architectures") or {})
    if "challenger" in result:
        result["targets"].append(
            ("live p99 at half load, challenger share 1.0 / none (at most)", result["challenger"]["p99_ratio"], 1.10)
        )
    if "default_training" in result:
        result["targets"].append(
            (
                "default model training pairs/s vs reference recipe",
                default_training_ratio(result["default_training"]),
                2.0,
            )
        )
    if "rank" in result:
        result["targets"].append(
            ("best-of-4 candidates/s, one /rank vs four /gate calls, c=16", result["rank"]["items_ratio"], None)
        )
    result["seconds"] = time.time() - t_start
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = out / (result["stamp"] + ("-quick" if quick else ""))
    stem.with_suffix(".json").write_text(json.dumps(result, indent=2))
    md = markdown(result)
    stem.with_suffix(".md").write_text(md)
    print(md)
    print(f"wrote {stem}.json and .md in {result['seconds']:.0f}s")


if __name__ == "__main__":
    main()
