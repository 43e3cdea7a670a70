"""Prometheus metrics, one registry per app (so several apps can live in one process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
SIZE_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
TOKEN_BUCKETS = (16, 64, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536)
SCORE_BUCKETS = (-20, -10, -5, -3, -2, -1, -0.5, 0, 0.5, 1, 2, 3, 5, 10, 20)


class Metrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        p = "rewardgate_"
        self.requests = Counter(
            p + "requests_total", "HTTP requests by route and status", ["route", "status"], registry=r
        )
        self.latency = Histogram(
            p + "request_latency_seconds", "HTTP request latency", ["route"], buckets=LATENCY_BUCKETS, registry=r
        )
        self.queue_wait = Histogram(
            p + "queue_wait_seconds",
            "time an item waits before its forward starts",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.inference = Histogram(
            p + "inference_seconds", "forward pass time per batch", buckets=LATENCY_BUCKETS, registry=r
        )
        self.batch_size = Histogram(p + "batch_size", "items per forward pass", buckets=SIZE_BUCKETS, registry=r)
        self.batch_tokens = Histogram(
            p + "batch_tokens", "real tokens per forward pass", buckets=TOKEN_BUCKETS, registry=r
        )
        self.real_tokens = Counter(p + "real_tokens_total", "tokens of the items themselves", registry=r)
        self.computed_tokens = Counter(p + "computed_tokens_total", "tokens computed, padding included", registry=r)
        self.queue_depth = Gauge(p + "queue_depth", "items waiting for a forward pass", registry=r)
        self.items = Counter(p + "items_scored_total", "items scored", registry=r)
        self.decisions = Counter(p + "gate_decisions_total", "gate decisions", ["decision"], registry=r)
        self.decision_reasons = Counter(
            p + "gate_decision_reasons_total",
            "gate decisions by reason: each dimension below its threshold, 'overall' when the overall score is",
            ["decision", "reason"],
            registry=r,
        )
        self.scores = Histogram(p + "score", "distribution of raw scores", buckets=SCORE_BUCKETS, registry=r)
        self.model_info = Gauge(
            p + "model_info", "the model being served (value 1)", ["name", "version", "device", "dtype"], registry=r
        )
        self.model_runtime = Gauge(
            p + "model_runtime",
            "what runs the served model's forward (value 1): torch, torch-int8, torch-bf16, onnx or onnx-int8",
            ["runtime"],
            registry=r,
        )
        self.reloads = Counter(p + "reloads_total", "model reloads by result", ["result"], registry=r)
        self.ready = Gauge(p + "ready", "1 when a model is loaded and warmed", registry=r)
        self.would_block = Counter(
            p + "gate_would_block_total", "items the threshold would block (counted in every gate mode)", registry=r
        )
        self.decision_log_written = Counter(p + "decision_log_written_total", "decision records written", registry=r)
        self.decision_log_dropped = Counter(
            p + "decision_log_dropped_total",
            "decision records dropped (queue full, write failed)",
            ["reason"],
            registry=r,
        )
        self.challenger_decisions = Counter(
            p + "challenger_decisions_total",
            "items the challenger scored, by whether its decision agreed with the served model's",
            ["agree"],
            registry=r,
        )
        self.challenger_skipped = Counter(
            p + "challenger_skipped_total", "sampled items the challenger could not score (queue full)", registry=r
        )
        self.challenger_pending = Gauge(
            p + "challenger_pending_items", "sampled items waiting for the challenger (its backlog)", registry=r
        )

    def set_model(self, name: str, version: str, device: str, dtype: str, runtime: str = "torch") -> None:
        self.model_info.clear()
        self.model_info.labels(name, version, device, dtype).set(1)
        self.model_runtime.clear()
        self.model_runtime.labels(runtime).set(1)
