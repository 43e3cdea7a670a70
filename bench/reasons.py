"""What saying why costs (issue 20): ``POST /gate`` on a model with quality dimensions (every block
with its reasons) against ``POST /gate`` on a single-output model of the same base, the same
support replies one per request at c=16, both services up at once and driven in turn, median of
the repeats. Also counted: how many of the dimension model's blocks came with reasons, so the
figure is the cost of answers that really carry them.

``python -m bench.reasons --single STORE[:NAME] --dims STORE[:NAME]`` (e.g. a store trained with
``training/configs/default-single.toml`` and one with ``training/configs/default.toml``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
from pathlib import Path
from typing import Any

from .common import log, percentile, short_items
from .load import drive, free_port
from .serve import Service, _body

CONCURRENCY = 16
TARGET = 0.95  # the dimension model's items/s at least this share of the single-output one's


def _gate(svc: Service, bodies: list[dict[str, Any]]) -> dict[str, Any]:
    asyncio.run(drive("127.0.0.1", svc.port, "/gate", bodies[: 2 * CONCURRENCY], CONCURRENCY))  # warm-up
    res = asyncio.run(drive("127.0.0.1", svc.port, "/gate", bodies, CONCURRENCY, keep_bodies=True))
    answers = [json.loads(b)["results"][0] for b in res["bodies"] if b]
    blocked = [a for a in answers if not a["allowed"]]
    return {
        "items_per_s": res["done"] / res["wall"],
        "p50_ms": percentile(res["latencies"], 50) * 1e3,
        "errors": sum(res["errors"].values()),
        "blocked": len(blocked),
        "blocked_with_reasons": sum(1 for a in blocked if a.get("reasons")),
    }


def bench_reasons(single: tuple[Path, str], dims: tuple[Path, str], n: int = 512, repeats: int = 3) -> dict[str, Any]:
    bodies = [_body(it) for it in short_items(n, seed=3)]
    services: dict[str, Service] = {}
    runs: dict[str, list[dict[str, Any]]] = {"single output": [], "quality dimensions": []}
    try:
        services["single output"] = Service(single[0], single[1], free_port())
        services["quality dimensions"] = Service(dims[0], dims[1], free_port())
        for _ in range(repeats):
            for name, svc in services.items():
                runs[name].append(_gate(svc, bodies))
    finally:
        for svc in services.values():
            svc.stop()
    out: dict[str, Any] = {"items": n, "concurrency": CONCURRENCY, "repeats": repeats, "rows": {}}
    for name, rs in runs.items():
        out["rows"][name] = {
            "items_per_s": statistics.median(r["items_per_s"] for r in rs),
            "runs": [r["items_per_s"] for r in rs],
            "p50_ms": statistics.median(r["p50_ms"] for r in rs),
            "errors": sum(r["errors"] for r in rs),
            "blocked": rs[-1]["blocked"],
            "blocked_with_reasons": rs[-1]["blocked_with_reasons"],
        }
    rows = out["rows"]
    out["ratio"] = rows["quality dimensions"]["items_per_s"] / rows["single output"]["items_per_s"]
    log.info("/gate at c=%d: %s", CONCURRENCY, {k: round(v["items_per_s"], 1) for k, v in rows.items()})
    return out


def markdown(r: dict[str, Any]) -> list[str]:
    lines = [
        f"## /gate with reasons (c={r['concurrency']}, {r['items']} support replies one per request, median of "
        f"{r['repeats']})",
        "",
        "| model | items/s | p50 ms | blocked | blocked with reasons | errors |",
        "|---|---|---|---|---|---|",
    ]
    for name, x in r["rows"].items():
        runs = ", ".join(f"{v:.0f}" for v in x["runs"])
        lines.append(
            f"| {name} | {x['items_per_s']:.1f} ({runs}) | {x['p50_ms']:.0f} | {x['blocked']} | "
            f"{x['blocked_with_reasons']} | {x['errors']} |"
        )
    met = "met" if r["ratio"] >= TARGET else "not met"
    lines += ["", f"with reasons: {r['ratio']:.3f}x the single-output items/s (target >= {TARGET}: {met})", ""]
    return lines


def _model(arg: str) -> tuple[Path, str]:
    store, sep, name = arg.rpartition(":")
    return (Path(store), name or "default") if sep else (Path(arg), "default")


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.reasons", description=__doc__)
    p.add_argument("--single", type=_model, required=True, help="STORE[:NAME] of a single-output model")
    p.add_argument("--dims", type=_model, required=True, help="STORE[:NAME] of a model with quality dimensions")
    p.add_argument("--items", type=int, default=512)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    for noisy in ("httpx",):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    print("\n".join(markdown(bench_reasons(args.single, args.dims, args.items, args.repeats))))


if __name__ == "__main__":
    main()
