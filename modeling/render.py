"""Turn (prompt, response) into model input, the same way in training and in serving.

The manifest's ``input`` block (``model_store.InputSpec``) drives it::

    {"template": "{prompt}\\n\\n{response}", "template_no_prompt": "{response}",
     "max_length": 512, "truncation_side": "left", "prefix_ids": [2], "suffix_ids": []}

Over-long input is cut from the left, inside the tokenizer's own special tokens (OPT's BOS in
front, RoBERTa's ``</s>`` at the end, which are added back after the cut): since the prompt comes
first, the prompt is cut first and the response, which is what is judged, is kept.
"""

from __future__ import annotations

from typing import Any, Protocol

from model_store import InputSpec


class Tokenizer(Protocol):
    def __call__(self, text: Any, add_special_tokens: bool = ..., split_special_tokens: bool = ...) -> Any: ...


def render(spec: InputSpec, prompt: str | None, response: str) -> str:
    """The exact text the model reads for one item. ``str.format`` substitutes in one pass, so
    braces inside user text are never interpreted."""
    if prompt:
        return spec.template.format(prompt=prompt, response=response)
    return spec.template_no_prompt.format(response=response)


def special_ids_of(tokenizer: Tokenizer) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The special tokens the tokenizer's own post-processor puts before and after a text (OPT
    and Llama: BOS in front; BERT, RoBERTa, DeBERTa: CLS/BOS in front and SEP/EOS at the end).
    They are added around the text after truncation, so they always survive it."""
    probe = "rewardgate probe text"
    bare = list(tokenizer(probe, add_special_tokens=False)["input_ids"])
    full = list(tokenizer(probe, add_special_tokens=True)["input_ids"])
    for i in range(len(full) - len(bare) + 1):
        if full[i : i + len(bare)] == bare:
            return tuple(full[:i]), tuple(full[i + len(bare) :])
    raise ValueError("cannot tell where this tokenizer puts its special tokens around a text")


def _token_ids(tokenizer: Tokenizer, texts: list[str]) -> list[list[int]]:
    """The tokenizer's ids without special tokens, and none made from user text: a reply that
    contains ``</s>`` or ``<|im_end|>`` is encoded as those characters, so it cannot end the item
    early or pose as padding. A fast tokenizer's Rust backend is called directly: the same ids,
    without ~0.1 ms of Python per call on the request path."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None and backend.truncation is None and backend.padding is None:
        backend.encode_special_tokens = True
        return [e.ids for e in backend.encode_batch(texts, add_special_tokens=False)]
    return list(tokenizer(texts, add_special_tokens=False, split_special_tokens=True)["input_ids"])


def encode(spec: InputSpec, tokenizer: Tokenizer, items: list[tuple[str | None, str]]) -> list[list[int]]:
    """Token ids for each (prompt, response), truncated to ``spec.max_length``."""
    texts = [render(spec, p, r) for p, r in items]
    ids = _token_ids(tokenizer, texts)
    prefix, suffix = list(spec.prefix_ids), list(spec.suffix_ids)
    room = spec.max_length - len(prefix) - len(suffix)
    out = []
    for seq in ids:
        if len(seq) > room:
            seq = seq[-room:] if spec.truncation_side == "left" else seq[:room]
        if not seq:
            # An empty rendering would leave no token to score: fall back to the prefix alone
            # or, lacking one, a single pad-free token of the template's first character.
            seq = tokenizer([" "], add_special_tokens=False)["input_ids"][0][:1]
        out.append(prefix + list(seq) + suffix)
    return out
