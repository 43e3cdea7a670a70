"""The base model: a small OPT built from a config with a locally trained byte-level BPE
tokenizer (``scratch``, no download), or any Hugging Face model loadable as
``AutoModelForSequenceClassification`` with one output."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from torch import nn

from model_store import BaseSource

from . import bases
from .config import TrainConfig

log = logging.getLogger(__name__)

DROPOUT_FIELDS = (
    "hidden_dropout_prob", "attention_probs_dropout_prob", "dropout", "attention_dropout", "activation_dropout",
    "resid_pdrop", "embd_pdrop", "attn_pdrop", "classifier_dropout",
)  # fmt: skip
SPECIALS = {"pad_token": "<pad>", "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}


def train_tokenizer(texts: Iterable[str], vocab_size: int) -> Any:
    """Byte-level BPE trained on the training texts; no BOS/EOS added, so an item's last token
    is its own text's last token (the one the score is read from)."""
    from tokenizers import ByteLevelBPETokenizer
    from transformers import PreTrainedTokenizerFast

    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(
        texts, vocab_size=vocab_size, min_frequency=2, special_tokens=list(SPECIALS.values()), show_progress=False
    )
    tok = PreTrainedTokenizerFast(tokenizer_object=bpe._tokenizer, **SPECIALS)
    tok.padding_side = "right"
    return tok


def head_config(dimensions: list[str]) -> dict[str, Any]:
    """The head's config: one output without dimensions, else ``id2label`` naming outputs 1.. by
    their dimensions. Output 0, the overall reward, keeps Hugging Face's default label
    ``LABEL_0`` either way: vLLM's and TEI's answers show it, and clients may match on it."""
    if not dimensions:
        return {"num_labels": 1}
    labels = dict(enumerate(["LABEL_0", *dimensions]))
    return {"id2label": labels, "label2id": {v: k for k, v in labels.items()}}


def build_scratch(cfg: TrainConfig, tokenizer: Any, dimensions: list[str] | None = None) -> nn.Module:
    from transformers import OPTConfig, OPTForSequenceClassification

    config = OPTConfig(  # type: ignore[call-arg]
        vocab_size=len(tokenizer),
        hidden_size=cfg.hidden_size,
        word_embed_proj_dim=cfg.hidden_size,
        num_hidden_layers=cfg.num_layers,
        num_attention_heads=cfg.num_heads,
        ffn_dim=cfg.ffn_dim,
        max_position_embeddings=cfg.max_length,
        dropout=cfg.dropout,
        attention_dropout=cfg.dropout,
        **head_config(dimensions or []),
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    return OPTForSequenceClassification(config)


def load_pretrained(
    model_id: str, max_length: int, dropout: float = -1.0, dimensions: list[str] | None = None
) -> tuple[nn.Module, Any]:
    """A hub id or local directory of any architecture ``AutoModelForSequenceClassification``
    loads, with a fresh head: one output, and one more per quality dimension. Safetensors only (a pickle is never unpickled), no
    remote code; a missing pad token is set to EOS; ``max_length`` must fit the model's positions."""
    from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

    from modeling.loader import usable_positions

    config = AutoConfig.from_pretrained(model_id, trust_remote_code=False)
    # the names of dropout rates differ by architecture; only those the config has are set
    rates = {k: dropout for k in DROPOUT_FIELDS if hasattr(config, k)} if dropout >= 0 else {}
    positions = usable_positions(config.to_dict())
    if positions is not None and max_length > positions:
        raise ValueError(
            f"max_length {max_length} is longer than {model_id}'s {positions} positions: use --max-length {positions} or less"
        )
    tokenizer = AutoTokenizer.from_pretrained(model_id, trust_remote_code=False)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    try:
        model = AutoModelForSequenceClassification.from_pretrained(
            model_id,
            **head_config(dimensions or []),
            use_safetensors=True,
            trust_remote_code=False,
            # a base saved with another head (a one-output reward model, trained on with
            # dimensions) gets a fresh head of the size asked for; the backbone loads as saved
            ignore_mismatched_sizes=True,
            **rates,
        )
    except OSError as exc:
        if "safetensors" not in str(exc).lower():
            raise
        raise ValueError(
            f"{model_id} has no safetensors weights, and pickled weights (pytorch_model.bin) are never loaded. "
            "Convert them once where you trust the file: AutoModel.from_pretrained(path).save_pretrained(out, "
            "safe_serialization=True), or use the hub's safetensors conversion."
        ) from None
    model.config.pad_token_id = tokenizer.pad_token_id
    return model, tokenizer


def add_lora(model: nn.Module, cfg: TrainConfig) -> Any:
    """Low-rank adapters on every linear layer of the backbone, the score head trained in full:
    a head left frozen at its random start (or adapted but never saved) would make every score
    noise. ``model`` is changed in place; the returned peft wrapper merges it back."""
    from peft import LoraConfig, get_peft_model

    head = "score" if hasattr(model, "score") else "classifier"
    if not isinstance(getattr(model, head, None), nn.Module):
        raise ValueError(f"{type(model).__name__} has no 'score' or 'classifier' head for LoRA to leave in full")
    peft_model = get_peft_model(
        model,  # type: ignore[arg-type]
        LoraConfig(
            r=cfg.lora_rank,
            lora_alpha=cfg.lora_alpha,
            lora_dropout=cfg.lora_dropout,
            target_modules="all-linear",
            modules_to_save=[head],
        ),
    )
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    log.info(
        "LoRA rank %d: %.2fM of %.1fM parameters train (head %r in full)",
        cfg.lora_rank,
        trainable / 1e6,
        total / 1e6,
        head,
    )
    return peft_model


@dataclass
class Base:
    model: nn.Module
    tokenizer: Any
    source: BaseSource | None = None  # set when a package shipped the pretrained files


def build(cfg: TrainConfig, texts: Iterable[str], dimensions: list[str] | None = None) -> Base:
    """``scratch``, a packaged base by name (``minilm``: verified against its pinned hashes),
    or a hub id / local directory."""
    if cfg.base_model == "scratch":
        tokenizer = train_tokenizer(texts, cfg.vocab_size)
        base = Base(build_scratch(cfg, tokenizer, dimensions), tokenizer)
    elif bases.is_packaged(cfg.base_model):
        found = bases.resolve(cfg.base_model)
        loaded = load_pretrained(str(found.path), cfg.max_length, cfg.base_dropout, dimensions)
        base = Base(*loaded, source=found.source)
    else:
        base = Base(*load_pretrained(cfg.base_model, cfg.max_length, cfg.base_dropout, dimensions))
    n = sum(p.numel() for p in base.model.parameters())
    log.info("model %s: %.1fM parameters, vocabulary %d", cfg.base_model, n / 1e6, len(base.tokenizer))
    if cfg.freeze_embeddings:
        hf: Any = base.model  # a transformers PreTrainedModel
        embeddings = hf.get_input_embeddings()
        embeddings.weight.requires_grad_(False)
        log.info("token embeddings frozen (%.1fM parameters)", embeddings.weight.numel() / 1e6)
    return base
