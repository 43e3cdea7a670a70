"""The model runtime shared by training and the service: rendering and encoding items, the
padding-free reward forward, loading a stored version onto a device, batched scoring."""

from .packed import PackedRewardModel
from .render import encode, render, special_ids_of

__all__ = ["PackedRewardModel", "encode", "render", "special_ids_of"]
