"""The model runtime shared by training and the service: rendering and encoding items, the reward
model (``PackedRewardModel``) and its forward strategies (``forward/``), loading a stored version
onto a device, batched scoring."""

from .packed import PackedRewardModel
from .render import chat_templates, encode, encode_items, render, special_ids_of

__all__ = ["PackedRewardModel", "chat_templates", "encode", "encode_items", "render", "special_ids_of"]
