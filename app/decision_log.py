"""The /gate decision log: one JSON line per gated item, written off the request path.

Records go into a bounded queue; one writer thread appends them to hourly files
(``decisions-YYYYMMDDTHH.jsonl``, UTC). A slow, full or read-only disk never delays or fails a
request: when the queue is full or a write fails, records are dropped and counted in
``rewardgate_decision_log_dropped_total``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import queue
import threading
import time
from pathlib import Path
from typing import Any

from .metrics import Metrics

log = logging.getLogger(__name__)
_STOP = object()


def item_hash(prompt: str | None, response: str) -> str:
    """sha256 of the item, so a decision can be matched to a text without storing it."""
    return hashlib.sha256(f"{prompt or ''}\x00{response}".encode()).hexdigest()


class DecisionLog:
    def __init__(self, directory: Path, metrics: Metrics, max_queue: int = 10_000) -> None:
        self.directory = directory
        self.metrics = metrics
        self._queue: queue.Queue[Any] = queue.Queue(max_queue)
        self._thread = threading.Thread(target=self._run, name="rewardgate-decision-log", daemon=True)
        self._thread.start()

    def record(self, rec: dict[str, Any]) -> None:
        try:
            self._queue.put_nowait(rec)
        except queue.Full:
            self.metrics.decision_log_dropped.labels("queue_full").inc()

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued (up to ``timeout``), then stop the writer."""
        try:
            self._queue.put(_STOP, timeout=timeout)
        except queue.Full:
            return
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            rec = self._queue.get()
            if rec is _STOP:
                return
            batch = [rec]
            while len(batch) < 1000:  # what else is waiting goes in the same write
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is _STOP:
                    self._write(batch)
                    return
                batch.append(more)
            self._write(batch)

    def _write(self, batch: list[dict[str, Any]]) -> None:
        by_file: dict[str, list[str]] = {}
        for rec in batch:
            hour = time.strftime("%Y%m%dT%H", time.gmtime(rec["time"]))
            by_file.setdefault(f"decisions-{hour}.jsonl", []).append(json.dumps(rec, sort_keys=True))
        for name, lines in by_file.items():
            try:
                self.directory.mkdir(parents=True, exist_ok=True)
                with open(self.directory / name, "a", encoding="utf-8") as f:
                    f.write("\n".join(lines) + "\n")
                self.metrics.decision_log_written.inc(len(lines))
            except OSError as exc:
                self.metrics.decision_log_dropped.labels("write_failed").inc(len(lines))
                log.warning("decision log: %d records dropped: %s", len(lines), exc)
