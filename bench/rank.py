"""Best-of-4 through ``POST /rank`` against four ``POST /gate`` calls for the same candidates, in
one run on one service (the default model): candidates scored per second and the p50 latency of
one decision (the four /gate calls are sent at once, on four connections, and the decision waits
for the last). Then the hand-written best-of evaluation (``training/best_of.py``) on the same
service: the share of prompts where ``best`` is the good reply (acceptance: >= 0.95 with the
default model). ``python -m bench.rank`` runs this section alone; ``make bench`` includes it.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
import time
from pathlib import Path
from typing import Any

from app.client import RewardGateClient
from training.best_of import Rank, evaluate
from training.default_data import generate

from .common import log, percentile, summary
from .load import _read_response, request_bytes
from .serve import Service

N = 4


def best_of_sets(n: int, seed: int = 11) -> list[tuple[str, list[str]]]:
    """``n`` chat prompts with four candidate replies each: the embedded data's three replies to
    the prompt and one written for another prompt."""
    rows = generate(n + 1, seed=seed)
    return [(rows[i]["prompt"], [*rows[i]["responses"][: N - 1], rows[i + 1]["responses"][0]]) for i in range(n)]


async def _decisions(port: int, decisions: list[list[bytes]], concurrency: int) -> dict[str, Any]:
    """Closed loop: ``concurrency`` callers, each sending one decision's requests at once (one
    keep-alive connection per request) and waiting for all of them."""
    width = max(len(d) for d in decisions)
    lat: list[float] = []
    errors = 0
    nxt = 0

    async def caller() -> None:
        nonlocal nxt, errors
        conns = [await asyncio.open_connection("127.0.0.1", port) for _ in range(width)]
        try:
            while nxt < len(decisions):
                reqs = decisions[nxt]
                nxt += 1
                t0 = time.perf_counter()
                used = conns[: len(reqs)]
                for (_, writer), req in zip(used, reqs, strict=True):
                    writer.write(req)
                answers = await asyncio.gather(*(_read_response(reader) for reader, _ in used))
                lat.append(time.perf_counter() - t0)
                errors += sum(status != 200 for status, _ in answers)
        finally:
            for _, writer in conns:
                writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(concurrency)))
    wall = time.perf_counter() - t0
    return {"items_per_s": N * len(lat) / wall, "p50_ms": percentile(lat, 50) * 1e3, "errors": errors}


def service_rank(client: RewardGateClient) -> Rank:
    """``training.best_of``'s ranker: one ``/rank`` call; a degraded answer is an error here."""

    def rank(prompt: str, replies: list[str]) -> int | None:
        pick = client.best_of(prompt, replies)
        if pick.degraded:
            raise RuntimeError(f"the service could not rank: {pick.error}")
        return pick.best

    return rank


def bench_rank(store: Path, port: int, quick: bool, repeats: int) -> dict[str, Any]:
    sets = best_of_sets(60 if quick else 300)
    host = f"127.0.0.1:{port}"
    ways = {
        "/rank, one request of 4": [[request_bytes(host, "/rank", {"prompt": p, "responses": rs})] for p, rs in sets],
        "/gate, 4 requests of 1": [
            [request_bytes(host, "/gate", {"items": [{"prompt": p, "response": r}]}) for r in rs] for p, rs in sets
        ],
    }
    concurrencies = [1, 16] if quick else [1, 4, 16]
    runs: dict[str, list[dict[str, Any]]] = {}
    svc = Service(store, "default", port)
    try:
        for decisions in ways.values():  # warm-up
            asyncio.run(_decisions(port, decisions[:16], 4))
        for c in concurrencies:
            for _ in range(repeats):
                for way, decisions in ways.items():  # interleaved, so drift hits both alike
                    runs.setdefault(f"{way}, c={c}", []).append(asyncio.run(_decisions(port, decisions, c)))
        with RewardGateClient(svc.url, timeout=60) as client:
            model = client.best_of("hi", ["hello"]).model
            t0 = time.perf_counter()
            report = evaluate(service_rank(client))
            eval_s = time.perf_counter() - t0
    finally:
        svc.stop()
    from model_store import ModelStore

    out: dict[str, Any] = {"decisions": len(sets), "candidates": N, "model": model, "runs": {}}
    # a model the benchmark trained itself (no `make train` model in the store) is not the default model
    out["trained_for_bench"] = Path(store).resolve() != ModelStore().root.resolve()
    for key, rs in runs.items():
        out["runs"][key] = {k: summary([r[k] for r in rs]) for k in ("items_per_s", "p50_ms")}
        out["runs"][key]["errors"] = sum(r["errors"] for r in rs)
    c = max(concurrencies)
    out["items_ratio"] = (
        out["runs"][f"/rank, one request of 4, c={c}"]["items_per_s"]["median"]
        / out["runs"][f"/gate, 4 requests of 1, c={c}"]["items_per_s"]["median"]
    )
    out["best_of_eval"] = {**report.as_dict(), "seconds": eval_s}
    log.info("best-of-%d: %s", N, out)
    return out


def markdown(r: dict[str, Any]) -> list[str]:
    def fmt(s: dict[str, float], digits: int) -> str:
        return f"{s['median']:.{digits}f} ({s['min']:.{digits}f}-{s['max']:.{digits}f})"

    lines = [
        f"## best-of-{r['candidates']}: /rank against {r['candidates']} /gate calls (model {r['model']['name']} "
        f"{r['model']['version']}, {r['decisions']} prompts)",
        "",
        "| run | candidates/s | p50 ms per decision | errors |",
        "|---|---|---|---|",
    ]
    for key, s in r["runs"].items():
        lines.append(f"| {key} | {fmt(s['items_per_s'], 1)} | {fmt(s['p50_ms'], 1)} | {s['errors']} |")
    e = r["best_of_eval"]
    lines += [
        "",
        f"Hand-written exchanges (training/best_of.py): `best` is the good reply for {e['good_best']} of "
        f"{e['prompts']} prompts, **{e['share']:.3f}** (acceptance: >= 0.95 with the default model"
        f"{'; this model was trained by the benchmark, not by `make train`' if r.get('trained_for_bench') else ''}); no reply "
        f"allowed: {e['none_passed']}; a bad reply picked, by kind: {e['bad_best'] or 'none'}; "
        f"{e['candidates'] / max(1, e['prompts']):.1f} candidates per prompt; {e['skipped']} skipped.",
        "",
    ]
    return lines


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.rank", description=__doc__)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--repeats", type=int, default=None)
    p.add_argument("--port", type=int, default=8765)
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    for noisy in ("httpx", "model_store", "modeling", "training", "app"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    from .__main__ import default_model_store

    with tempfile.TemporaryDirectory(prefix="rewardgate-bench-") as d:
        store = default_model_store(Path(d), args.quick)
        r = bench_rank(store, args.port, args.quick, args.repeats or (1 if args.quick else 3))
    print("\n".join(markdown(r)))


if __name__ == "__main__":
    main()
