"""Turn (prompt, response) into model input, the same way in training and in serving.

The manifest's ``input`` block (``model_store.InputSpec``) drives it::

    {"template": "{prompt}\\n\\n{response}", "template_no_prompt": "{response}",
     "max_length": 512, "truncation_side": "left", "prefix_ids": [2], "suffix_ids": []}

Over-long input is cut from the left, inside the tokenizer's own special tokens (OPT's BOS in
front, RoBERTa's ``</s>`` at the end, which are added back after the cut): since the prompt comes
first, the prompt is cut first and the response, which is what is judged, is kept.
"""

from __future__ import annotations

import functools
import re
import string
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


def input_spec_for(
    tokenizer: Any, max_length: int, template: str = "{prompt}\n\n{response}", template_no_prompt: str = "{response}"
) -> InputSpec:
    """How items are rendered for a model with this tokenizer: through its chat template when it
    has one (the text templates are then unused: a chat model's head judges text in its own
    format), else through the text templates with the tokenizer's own special tokens around."""
    if getattr(tokenizer, "chat_template", None):
        with_prompt, without = chat_templates(tokenizer)
        spec = InputSpec(template=with_prompt, template_no_prompt=without, max_length=max_length, chat_template=True)
        room = max_length - fixed_length(spec, tokenizer)
        if room < 8:
            raise ValueError(f"max_length {max_length} leaves {room} tokens for text after the chat template's own")
        return spec
    prefix, suffix = special_ids_of(tokenizer)
    return InputSpec(
        template=template,
        template_no_prompt=template_no_prompt,
        max_length=max_length,
        truncation_side="left",
        prefix_ids=prefix,
        suffix_ids=suffix,
    )


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
    return encode_items(spec, tokenizer, items)[0]


def encode_items(
    spec: InputSpec, tokenizer: Tokenizer, items: list[tuple[str | None, str]]
) -> tuple[list[list[int]], list[bool]]:
    """Token ids for each (prompt, response), and whether the response itself had to be cut
    (cutting the prompt alone is not reported: the response is what is judged)."""
    if spec.chat_template:
        return _encode_chat(spec, tokenizer, items)
    texts = [render(spec, p, r) for p, r in items]
    ids = _token_ids(tokenizer, texts)
    prefix, suffix = list(spec.prefix_ids), list(spec.suffix_ids)
    room = spec.max_length - len(prefix) - len(suffix)
    out_ids, cut = [], []
    for (prompt, response), seq in zip(items, ids, strict=True):
        response_cut = False
        if len(seq) > room:
            response_cut = spec.truncation_side == "right" or _response_part(spec, tokenizer, prompt, response) > room
            seq = seq[-room:] if spec.truncation_side == "left" else seq[:room]
        if not seq:
            # An empty rendering would leave no token to score: fall back to the prefix alone
            # or, lacking one, a single pad-free token of the template's first character.
            seq = tokenizer([" "], add_special_tokens=False)["input_ids"][0][:1]
        out_ids.append(prefix + list(seq) + suffix)
        cut.append(response_cut)
    return out_ids, cut


def _response_part(spec: InputSpec, tokenizer: Tokenizer, prompt: str | None, response: str) -> int:
    """Tokens of the rendering from the response on: what left truncation must keep whole for
    the response to survive. Counted only for items that are cut, so the common path pays nothing."""
    template = spec.template if prompt else spec.template_no_prompt
    tail = template[template.index("{response}") :]
    return len(_token_ids(tokenizer, [tail.format(prompt=prompt, response=response)])[0])


# -- chat templates ------------------------------------------------------------------------
_MARKS = {"prompt": "\ue000rewardgate prompt\ue000", "response": "\ue001rewardgate response\ue001"}


def chat_templates(tokenizer: Any) -> tuple[str, str]:
    """The tokenizer's chat template rendered for one user turn and one assistant turn, with
    ``{prompt}`` and ``{response}`` where the texts go (braces of its own text doubled): the
    templates of an ``InputSpec`` with ``chat_template`` set. Rendered once, at import or
    training, so serving never runs Jinja. An item without a prompt gets an empty user turn."""

    def one(prompt: str) -> str:
        messages = [{"role": "user", "content": prompt}, {"role": "assistant", "content": _MARKS["response"]}]
        text = str(tokenizer.apply_chat_template(messages, tokenize=False))
        text = text.replace("{", "{{").replace("}", "}}")
        for field, mark in _MARKS.items():
            want = 0 if field == "prompt" and not prompt else 1
            if text.count(mark) != want:
                raise ValueError(f"the chat template does not put the {field} in its text exactly once")
            text = text.replace(mark, "{" + field + "}")
        return text

    return one(_MARKS["prompt"]), one("")


@functools.lru_cache(maxsize=256)
def _fixed_ids(tokenizer: Any, text: str) -> tuple[int, ...]:
    """Ids of a chat template's own text, its special tokens read as such, as the tokenizer reads
    a whole text: added tokens are matched first and the text between them encoded on its own.
    Done here rather than by a tokenizer call, so the backend's never-special setting, shared
    with concurrent requests, is never switched."""
    added = sorted((t.content for t in tokenizer.added_tokens_decoder.values()), key=len, reverse=True)
    ids: list[int] = []
    pieces = re.split("(" + "|".join(map(re.escape, added)) + ")", text) if added else [text]
    for i, piece in enumerate(pieces):
        if i % 2:
            ids.append(int(tokenizer.convert_tokens_to_ids(piece)))
        elif piece:
            ids.extend(_token_ids(tokenizer, [piece])[0])
    return tuple(ids)


@functools.lru_cache(maxsize=64)
def _chat_parts(tokenizer: Any, template: str) -> tuple[tuple[int, ...] | str, ...]:
    """A rendered chat template as its own token ids (tuples) and the fields between them
    (``"prompt"``, ``"response"``): parsed and tokenized once per version, not per item."""
    parts: list[tuple[int, ...] | str] = []
    for literal, field, _, _ in string.Formatter().parse(template):
        if literal:
            parts.append(_fixed_ids(tokenizer, literal))
        if field:
            parts.append(field)
    return tuple(parts)


def _own_tokens(parts: tuple[tuple[int, ...] | str, ...]) -> int:
    return sum(len(p) for p in parts if isinstance(p, tuple))


def fixed_length(spec: InputSpec, tokenizer: Any) -> int:
    """Tokens a chat template's own text takes in an item (the most of its two templates)."""
    if not spec.chat_template:
        return 0
    return max(_own_tokens(_chat_parts(tokenizer, t)) for t in (spec.template, spec.template_no_prompt))


def _encode_chat(
    spec: InputSpec, tokenizer: Any, items: list[tuple[str | None, str]]
) -> tuple[list[list[int]], list[bool]]:
    """The chat template's own tokens always kept; the prompt cut first, then the response. The
    user texts of all items are encoded in one backend call, with special tokens never matched."""
    prompts = _token_ids(tokenizer, [p or "" for p, _ in items])
    responses = _token_ids(tokenizer, [r for _, r in items])
    left = spec.truncation_side == "left"
    out, cuts = [], []
    for (prompt, _), p, r in zip(items, prompts, responses, strict=True):
        parts = _chat_parts(tokenizer, spec.template if prompt else spec.template_no_prompt)
        room = spec.max_length - len(spec.prefix_ids) - len(spec.suffix_ids) - _own_tokens(parts)
        cut = len(r) > room
        if len(r) + len(p) > room:
            r = (r[len(r) - room :] if left else r[:room]) if cut else r
            keep = room - len(r)
            p = (p[len(p) - keep :] if left else p[:keep]) if keep > 0 else []
        user = {"prompt": p, "response": r}
        ids = [t for part in parts for t in (part if isinstance(part, tuple) else user[part])]
        out.append(list(spec.prefix_ids) + ids + list(spec.suffix_ids))
        cuts.append(cut)
    return out, cuts
