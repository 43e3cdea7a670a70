"""The check a packed strategy passes before it serves a model: its scores for a few items of
different lengths, in one batch, equal the Hugging Face forward of each item alone. An
architecture whose modules do something the strategy does not know (a mask that ignores position
ids, an extra projection) fails it, and the model is served padded."""

from __future__ import annotations

import logging
from typing import Any

import torch

from .contract import ForwardStrategy
from .padded import Padded

log = logging.getLogger(__name__)

PROBE_LENGTHS = (9, 4, 1, 6)  # mixed, one of a single token: every boundary case of a packed row


def probe_items(model: Any) -> list[list[int]]:
    vocab = int(getattr(model.config, "vocab_size", 0) or 0) or 2
    return [[(7 * i + 5 * k + 3) % vocab for i in range(n)] for k, n in enumerate(PROBE_LENGTHS)]


def tolerance(model: Any) -> float:
    return 1e-3 if next(model.parameters()).dtype == torch.float32 else 5e-2


@torch.no_grad()
def matches_hf(strategy: ForwardStrategy, model: Any, tol: float | None = None) -> bool:
    """Whether ``strategy`` scores like the plain Hugging Face forward of each item alone (within
    ``tol``, absolute and relative; default: by the model's dtype)."""
    was_training = model.training
    model.eval()
    items = probe_items(model)
    kind = model.config.model_type
    try:
        got = strategy.forward(model, items)
        want = torch.cat([Padded().forward(model, [s]) for s in items])
    except Exception as exc:  # an architecture the strategy's calls do not fit
        log.info("%s: not %s (it failed: %s)", kind, strategy.name, exc)
        return False
    finally:
        model.train(was_training)
    tol = tolerance(model) if tol is None else tol
    same = got.shape == want.shape and bool(torch.allclose(got, want, atol=tol, rtol=tol))
    if not same:
        log.info("%s: not %s (its scores differ from the Hugging Face forward)", kind, strategy.name)
    return same
