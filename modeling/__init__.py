"""The model runtime shared by training and the service: rendering and encoding items, the
padding-free reward forward, loading a stored version onto a device, batched scoring."""

from .packed import PackedRewardModel
from .render import encode, prefix_ids_of, render

__all__ = ["PackedRewardModel", "encode", "prefix_ids_of", "render"]
