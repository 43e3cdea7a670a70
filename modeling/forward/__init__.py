"""Forward strategies: how a batch of token sequences becomes one score per sequence.

``contract.py`` says what a strategy promises; one module per strategy (``opt.py``,
``encoder.py``, ``decoder.py``, ``padded.py``); ``choose.py`` picks one per model, once, after
``probe.py`` has checked it against the Hugging Face forward. ``packing.py`` and ``attention.py``
hold what the hand-written paths share.
"""

from .choose import PACKED, choose
from .contract import ForwardStrategy
from .decoder import DecoderPacked
from .encoder import EncoderPacked
from .opt import OptPacked
from .padded import Padded
from .probe import matches_hf

__all__ = ["PACKED", "DecoderPacked", "EncoderPacked", "ForwardStrategy", "OptPacked", "Padded", "choose", "matches_hf"]
