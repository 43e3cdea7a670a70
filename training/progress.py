"""How training shows its progress: a tqdm bar on a terminal, plain log lines elsewhere (CI,
files, containers). The loop reports steps; this decides what a person sees."""

from __future__ import annotations

import logging
import sys
from typing import Any

from tqdm.auto import tqdm

log = logging.getLogger("training")


class Progress:
    def __init__(self, total_steps: int, main: bool, log_every: int, timed: bool) -> None:
        self.total = total_steps
        self.log_every = log_every
        self.timed = timed  # the run ends on the clock: the bar's total follows the time used
        self.quiet = not main
        self.bar = tqdm(total=total_steps, unit="step", disable=not (main and sys.stderr.isatty()), dynamic_ncols=True)
        self.loss = self.acc = 0.0
        self.n = 0

    def batch(self, loss: float, acc: float) -> None:
        self.loss += loss
        self.acc += acc
        self.n += 1

    def step(self, step: int, progress: float, lr: float, pairs: int, tokens: int, elapsed: float) -> None:
        self.bar.update(1)
        loss, acc = self.loss / max(self.n, 1), self.acc / max(self.n, 1)
        if not self.bar.disable:
            if step % 5 == 0:
                self.bar.set_postfix(loss=f"{loss:.3f}", acc=f"{acc:.3f}", pairs_s=f"{pairs / elapsed:.1f}")
                self._reset()
            if self.timed:
                self.bar.total = max(step, min(self.total, int(step / max(progress, 1e-9))))
            return
        if not self.quiet and (step % self.log_every == 0 or step == self.total or progress >= 1.0):
            log.info(
                "step %d/%d  loss %.4f  acc %.3f  lr %.2e  %.1f pairs/s  %.0f tok/s  %.0fs (%.0f%%)",
                step, self.total, loss, acc, lr, pairs / elapsed, tokens / elapsed, elapsed, 100 * min(progress, 1.0),
            )  # fmt: skip
            self._reset()

    def _reset(self) -> None:
        self.loss = self.acc = 0.0
        self.n = 0

    def close(self) -> None:
        self.bar.close()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
