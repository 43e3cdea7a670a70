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
def mismatch(
    strategy: ForwardStrategy, model: Any, tol: float | None = None, reference: str = "the Hugging Face forward"
) -> str | None:
    """Why ``strategy`` does not score like the plain Hugging Face forward of each item alone
    (every output of it, within ``tol``, absolute and relative; default: by the model's dtype),
    or None when it does. ``reference``: what the reasons call that forward."""
    was_training = model.training
    model.eval()
    items = probe_items(model)
    try:
        got = strategy.forward(model, items)
        want = torch.cat([Padded().forward(model, [s]) for s in items])
    except Exception as exc:  # an architecture the strategy's calls do not fit
        return f"it failed: {exc}"
    finally:
        model.train(was_training)
    if got.shape != want.shape:
        # a strategy that reads the overall output alone would serve a model with dimensions wrong
        return f"it answers {tuple(got.shape)} where {reference} answers {tuple(want.shape)} (items, outputs)"
    tol = tolerance(model) if tol is None else tol
    if not torch.allclose(got, want, atol=tol, rtol=tol):
        return f"its scores differ from {reference} by more than {tol}"
    return None


def matches_hf(strategy: ForwardStrategy, model: Any, tol: float | None = None) -> bool:
    """Whether ``strategy`` scores like the plain Hugging Face forward of each item alone (within
    ``tol``, absolute and relative; default: by the model's dtype)."""
    why = mismatch(strategy, model, tol)
    if why is not None:
        log.info("%s: not %s (%s)", model.config.model_type, strategy.name, why)
    return why is None
