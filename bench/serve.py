"""Serving benchmark: the real service over HTTP against in-process baselines, in one run."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import torch

from model_store import ModelStore
from modeling import encode
from modeling.loader import load_version

from .common import log, non_embedding_params, percentile, summary
from .load import drive

ROOT = Path(__file__).resolve().parents[1]
Item = tuple[str | None, str]


def _body(item: Item) -> dict[str, Any]:
    p, r = item
    return {"items": [{"prompt": p, "response": r} if p else r]}


# -- in-process baselines ---------------------------------------------------------------------
@torch.inference_mode()
def naive_batch1(hf: Any, seqs: list[list[int]]) -> float:
    """One text per forward, no padding: the plain Hugging Face model."""
    hf(torch.tensor([seqs[0]]))
    t0 = time.perf_counter()
    for s in seqs:
        hf(torch.tensor([s]))
    return len(seqs) / (time.perf_counter() - t0)


@torch.inference_mode()
def bare_latencies(hf: Any, seqs: list[list[int]]) -> list[float]:
    out = []
    for s in seqs:
        t0 = time.perf_counter()
        hf(torch.tensor([s]))
        out.append(time.perf_counter() - t0)
    return out


@torch.inference_mode()
def padded_reference(hf: Any, seqs: list[list[int]], pad_id: int, batch: int = 16, max_length: int = 512) -> float:
    """The reference recipe: pad every batch to max_length."""
    t0 = time.perf_counter()
    for i in range(0, len(seqs), batch):
        chunk = seqs[i : i + batch]
        ids = torch.full((len(chunk), max_length), pad_id)
        mask = torch.zeros((len(chunk), max_length), dtype=torch.long)
        for j, s in enumerate(chunk):
            ids[j, : len(s)] = torch.tensor(s)
            mask[j, : len(s)] = 1
        hf(input_ids=ids, attention_mask=mask)
    return len(seqs) / (time.perf_counter() - t0)


@torch.inference_mode()
def hf_pipeline(hf: Any, tokenizer: Any, texts: list[str], batch: int = 16, max_length: int = 512) -> float:
    from transformers import pipeline

    pipe = pipeline("text-classification", model=hf, tokenizer=tokenizer, device="cpu", function_to_apply="none")
    kw = {"batch_size": batch, "truncation": True, "max_length": max_length}
    pipe(texts[:2], **kw)
    t0 = time.perf_counter()
    pipe(texts, **kw)
    return len(texts) / (time.perf_counter() - t0)


# -- the service ---------------------------------------------------------------------------
class Service:
    """``python -m app`` in a subprocess on 127.0.0.1."""

    def __init__(self, store: Path, name: str, port: int, **env: Any) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        e = {
            **os.environ,
            "REWARDGATE_STORE": str(store),
            "REWARDGATE_MODEL": name,
            "PORT": str(port),
            "REWARDGATE_LOG_LEVEL": "warning",
            "PYTHONPATH": str(ROOT),
        }
        e.update({f"REWARDGATE_{k.upper()}": str(v) for k, v in env.items()})
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "app"], cwd=ROOT, env=e, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    "service exited: " + (self.proc.stderr.read().decode()[-2000:] if self.proc.stderr else "")
                )
            try:
                if httpx.get(self.url + "/readyz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError("service not ready in time")

    def metrics(self) -> dict[str, float]:
        text = httpx.get(self.url + "/metrics", timeout=10).text
        out: dict[str, float] = {}
        for line in text.splitlines():
            m = re.match(
                r"^(rewardgate_(?:batch_size_sum|batch_size_count|real_tokens_total|computed_tokens_total|items_scored_total)) (\S+)$",
                line,
            )
            if m:
                out[m.group(1)] = float(m.group(2))
        return out

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def run_service(
    svc: Service, items: list[Item], tokens: int, concurrency: int, flop_per_token: float
) -> dict[str, Any]:
    bodies = [_body(it) for it in items]
    asyncio.run(drive("127.0.0.1", svc.port, "/score", bodies[: 2 * concurrency], concurrency))  # warm-up
    before = svc.metrics()
    res = asyncio.run(drive("127.0.0.1", svc.port, "/score", bodies, concurrency))
    after = svc.metrics()
    d = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    n = res["done"]
    lat = res["latencies"]
    return {
        "items_per_s": n / res["wall"],
        "tokens_per_s": tokens / res["wall"],
        "gflops": flop_per_token * tokens / res["wall"] / 1e9,
        "p50_ms": percentile(lat, 50) * 1e3,
        "p95_ms": percentile(lat, 95) * 1e3,
        "p99_ms": percentile(lat, 99) * 1e3,
        "mean_batch": d.get("rewardgate_batch_size_sum", 0) / max(1, d.get("rewardgate_batch_size_count", 1)),
        "padding_share": 1
        - d.get("rewardgate_real_tokens_total", 0) / max(1, d.get("rewardgate_computed_tokens_total", 1)),
        "errors": res["errors"],
    }


def bench_model(
    store: Path,
    name: str,
    workloads: dict[str, list[Item]],
    concurrencies: list[int],
    repeats: int,
    peak: float,
    port: int,
    baselines: bool = True,
    pipeline: bool = True,
    baseline_items: int = 64,
) -> dict[str, Any]:
    """Every figure for one model: in-process baselines, then the service with and without batching."""
    loaded = load_version(ModelStore(store), name, device="cpu", dtype="float32")
    from transformers import AutoModelForSequenceClassification

    hf = AutoModelForSequenceClassification.from_pretrained(str(loaded.version.path), dtype=torch.float32).eval()
    flop_per_token = 2 * non_embedding_params(hf)
    out: dict[str, Any] = {"flop_per_token": flop_per_token, "workloads": {}}
    for wname, items in workloads.items():
        seqs = encode(loaded.spec, loaded.tokenizer, items)
        tokens = sum(len(s) for s in seqs)
        w: dict[str, Any] = {"items": len(items), "mean_tokens": tokens / len(items), "runs": {}}
        log.info("%s/%s: %d items, %.0f tokens each", name, wname, len(items), tokens / len(items))
        runs: dict[str, list[dict[str, Any]]] = {}

        def add(key: str, ips: float, mean_tokens: float, runs: dict[str, list[dict[str, Any]]] = runs) -> None:
            runs.setdefault(key, []).append(
                {
                    "items_per_s": ips,
                    "tokens_per_s": ips * mean_tokens,
                    "gflops": ips * mean_tokens * flop_per_token / 1e9,
                }
            )

        # the slow padded baselines run on a subset (their rate does not depend on how many)
        sub = seqs[:baseline_items]
        for _ in range(repeats):
            add("naive batch-1 (in-process)", naive_batch1(hf, seqs), tokens / len(seqs))
            if baselines:
                add(
                    "reference padded to 512, batch 16 (in-process)",
                    padded_reference(hf, sub, loaded.tokenizer.pad_token_id, max_length=loaded.spec.max_length),
                    sum(len(x) for x in sub) / len(sub),
                )
                texts = [it[1] if not it[0] else f"{it[0]}\n\n{it[1]}" for it in items[:baseline_items]]
                if pipeline:
                    add(
                        "HF pipeline, batch 16 (in-process)",
                        hf_pipeline(hf, loaded.tokenizer, texts),
                        sum(len(x) for x in sub) / len(sub),
                    )
        bare = bare_latencies(hf, seqs)  # the same items the c=1 run sends, one forward each
        w["bare_forward_p99_ms"] = percentile(bare, 99) * 1e3
        w["bare_forward_p50_ms"] = percentile(bare, 50) * 1e3
        for label, env in (("service", {}), ("service, batching off", {"max_batch_items": 1})):
            svc = Service(store, name, port, **env)
            try:
                for c in concurrencies if label == "service" else [max(concurrencies)]:
                    for _ in range(repeats):
                        runs.setdefault(f"{label}, c={c}", []).append(
                            run_service(svc, items, tokens, c, flop_per_token)
                        )
            finally:
                svc.stop()
        for key, rs in runs.items():
            w["runs"][key] = {k: summary([r[k] for r in rs]) for k in rs[0] if isinstance(rs[0][k], float)}
            w["runs"][key]["peak_share"] = summary([r["gflops"] / peak for r in rs])
            errs = [r.get("errors") for r in rs if r.get("errors")]
            if errs:
                w["runs"][key]["errors"] = errs
        out["workloads"][wname] = w
    return out
