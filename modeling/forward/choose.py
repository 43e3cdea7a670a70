"""The choice of a forward strategy, made once when a model is wrapped: the first packed strategy
that fits the architecture and passes the check against the Hugging Face forward, else padded.
A new architecture's forward is a module of this folder and a line in ``PACKED``."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from .contract import ForwardStrategy
from .decoder import DecoderPacked
from .decoder_varlen import DecoderVarlen
from .encoder import EncoderPacked
from .opt import OptPacked
from .padded import Padded
from .probe import matches_hf

log = logging.getLogger(__name__)

# Most specific first: OPT also fits the generic decoder strategies, which are slower for it; on
# CUDA the one-row variable-length decoder before transformers' rows.
PACKED: tuple[type[ForwardStrategy], ...] = (OptPacked, EncoderPacked, DecoderVarlen, DecoderPacked)


def choose(model: Any, candidates: Sequence[type[ForwardStrategy]] = PACKED) -> ForwardStrategy:
    for cls in candidates:
        if cls.fits(model):
            strategy = cls()
            if matches_hf(strategy, model):
                log.info("%s: %s forward", model.config.model_type, strategy.name)
                return strategy
    log.info("%s: padded forward", model.config.model_type)
    return Padded()
