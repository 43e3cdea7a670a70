"""Forward strategies (``modeling/forward/``): each one, on the architectures it is chosen for,
scores a batch of mixed-length items as the plain Hugging Face forward scores each item alone
(fp32, 1e-4), in training (gradients) as in inference; the choice falls back to padded when a
strategy's scores differ; sharded training gets the padded forward by asking for it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
import torch
import transformers as tf

from modeling import PackedRewardModel
from modeling.forward import DecoderPacked, EncoderPacked, ForwardStrategy, OptPacked, Padded, choose

SMALL: dict[str, Any] = {"vocab_size": 300, "num_labels": 1}
ENCODER: dict[str, Any] = {
    **SMALL, "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 64,
}  # fmt: skip
DECODER: dict[str, Any] = {
    **SMALL, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
    "num_key_value_heads": 2, "max_position_embeddings": 128, "pad_token_id": 0,
}  # fmt: skip
OPT: dict[str, Any] = {
    **SMALL, "hidden_size": 32, "num_hidden_layers": 2, "ffn_dim": 64, "num_attention_heads": 4,
    "max_position_embeddings": 128, "pad_token_id": 1, "word_embed_proj_dim": 32,
}  # fmt: skip

# family -> (config, the strategy chosen for it)
FAMILIES: dict[str, tuple[Any, str]] = {
    "opt": (tf.OPTConfig(**OPT), "opt-packed"),
    # opt-350m's layout: post-LN, 16 -> 32 projections around the layers
    "opt-post-ln": (tf.OPTConfig(**{**OPT, "word_embed_proj_dim": 16, "do_layer_norm_before": False}), "opt-packed"),
    "gpt2": (tf.GPT2Config(**SMALL, n_embd=32, n_layer=2, n_head=2, n_positions=128, pad_token_id=0), "decoder-packed"),
    "llama": (tf.LlamaConfig(**DECODER), "decoder-packed"),
    "bert": (tf.BertConfig(**ENCODER, max_position_embeddings=128), "encoder-packed"),
    # RoBERTa numbers positions from padding_idx + 1
    "roberta": (tf.RobertaConfig(**ENCODER, max_position_embeddings=130, pad_token_id=1), "encoder-packed"),
    "deberta-v2": (tf.DebertaV2Config(**ENCODER, max_position_embeddings=128), "padded"),
    # ELECTRA's embeddings are projected up before the layers: the encoder path does not know
    # that, its scores differ on the probe, and the model is served padded
    "electra-projected": (tf.ElectraConfig(**ENCODER, embedding_size=16, max_position_embeddings=128), "padded"),
}
# mixed lengths, one of a single token, and (for RoBERTa) the pad id inside an item
SEQS = [[5, 6, 7, 8, 9], [10, 11], list(range(20, 60)), [3], [4, 1, 1, 7, 8], list(range(100, 117))]


def build(family: str, **over: Any) -> Any:
    torch.manual_seed(0)
    cfg, _ = FAMILIES[family]
    cfg = type(cfg).from_dict({**cfg.to_dict(), **over})
    return tf.AutoModelForSequenceClassification.from_config(cfg).eval()


def hf_alone(hf: Any, seqs: Sequence[Sequence[int]]) -> torch.Tensor:
    """The reference: the plain Hugging Face forward of each item alone, no padding anywhere."""
    return torch.stack([hf(torch.tensor([s])).logits[0, 0] for s in seqs])


@pytest.mark.parametrize("family", FAMILIES)
def test_packed_forward_equals_hf_forward(family: str) -> None:
    hf = build(family)
    model = PackedRewardModel(hf).eval()
    assert model.strategy.name == FAMILIES[family][1]
    with torch.no_grad():
        ref = hf_alone(hf, SEQS)
        got = model(SEQS)
    model.fuse_for_inference()
    with torch.inference_mode():
        fused = model(SEQS)
    torch.testing.assert_close(got, ref, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(fused, ref, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("family", ["opt", "opt-post-ln", "bert", "roberta"])
def test_hand_written_paths_train_like_hf(family: str) -> None:
    """Gradients through the packed row equal those through the Hugging Face forward (dropout off,
    so the two are the same function)."""
    no_dropout = {"dropout": 0.0, "attention_dropout": 0.0, "hidden_dropout_prob": 0.0}
    no_dropout["attention_probs_dropout_prob"] = 0.0
    hf = build(family, **no_dropout).train()
    model = PackedRewardModel(hf).train()
    assert model.packed
    weights = torch.linspace(-1, 1, len(SEQS))

    def grads(scores: torch.Tensor) -> list[torch.Tensor]:
        hf.zero_grad()
        (scores * weights).sum().backward()
        return [p.grad.clone() for p in hf.parameters() if p.grad is not None]

    want, got = grads(hf_alone(hf, SEQS)), grads(model(SEQS))
    assert len(got) == len(want) > 0
    for g, w in zip(got, want, strict=True):
        torch.testing.assert_close(g, w, atol=1e-4, rtol=1e-3)


def test_encoder_trains_with_dropout_and_lora() -> None:
    """Training the default model runs the encoder path: dropout active, LoRA adapters (peft wraps
    the linear layers) receive gradients, and with the adapters merged it still equals HF."""
    peft = pytest.importorskip("peft")
    hf = build("bert")
    lora = peft.get_peft_model(hf, peft.LoraConfig(r=4, target_modules="all-linear", modules_to_save=["classifier"]))
    model = PackedRewardModel(hf).train()
    assert model.strategy.name == "encoder-packed"
    torch.manual_seed(1)
    a, b = model(SEQS), model(SEQS)
    assert not torch.equal(a, b)  # dropout is on
    a.sum().backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for n, p in hf.named_parameters() if "lora_B" in n)
    merged = lora.merge_and_unload().eval()
    with torch.inference_mode():
        torch.testing.assert_close(PackedRewardModel(merged)(SEQS), hf_alone(merged, SEQS), atol=1e-4, rtol=1e-4)


def test_a_strategy_whose_scores_differ_is_not_chosen() -> None:
    class OffByOne(EncoderPacked):
        def forward(self, model: Any, seqs: Sequence[Sequence[int]]) -> torch.Tensor:
            return super().forward(model, seqs) + 1

    class Raises(EncoderPacked):
        def forward(self, model: Any, seqs: Sequence[Sequence[int]]) -> torch.Tensor:
            raise RuntimeError("an architecture this path does not fit")

    hf = build("bert")
    assert isinstance(choose(hf, (OffByOne, Raises)), Padded)
    assert isinstance(choose(hf, (OffByOne, EncoderPacked)), EncoderPacked)
    model = PackedRewardModel(hf, Padded())
    assert not model.packed


def test_strategies_fit_only_their_architectures() -> None:
    opt, bert, llama = build("opt"), build("bert"), build("llama")
    assert OptPacked.fits(opt) and DecoderPacked.fits(opt) and not EncoderPacked.fits(opt)
    assert EncoderPacked.fits(bert) and not OptPacked.fits(bert) and not DecoderPacked.fits(bert)
    assert DecoderPacked.fits(llama) and not OptPacked.fits(llama) and not EncoderPacked.fits(llama)


def test_sharded_training_asks_for_the_padded_forward() -> None:
    """FSDP and DeepSpeed hook the modules' own forwards: training asks for the padded strategy
    by constructing it, and nothing switches a model's strategy afterwards."""
    hf = build("bert")
    model = PackedRewardModel.padded(hf)
    assert isinstance(model.strategy, Padded) and not model.packed
    assert model.computed_tokens([3, 10, 4]) == 30
    with torch.no_grad():
        torch.testing.assert_close(model(SEQS), hf_alone(hf, SEQS), atol=1e-4, rtol=1e-4)


def test_computed_tokens_per_strategy() -> None:
    lengths = [300, 100, 100, 50]
    strategies: list[ForwardStrategy] = [OptPacked(), EncoderPacked(), DecoderPacked(), Padded()]
    # decoder rows are at least 256 tokens and hold whole items: [300], [100, 100, 50]
    assert [s.computed_tokens(lengths) for s in strategies] == [550, 550, 600, 1200]


@pytest.mark.parametrize("family", ["opt", "bert"])
def test_fused_weights_follow_the_weights(family: str) -> None:
    """A fused QKV copy made before the weights change (an optimizer step, a bf16 rounding) is made
    again, never used stale."""
    hf = build(family)
    model = PackedRewardModel(hf).eval()
    model.fuse_for_inference()
    with torch.no_grad():
        model(SEQS)
        for p in hf.parameters():
            p.mul_(1.1)
        ref = hf_alone(hf, SEQS)
    with torch.inference_mode():
        torch.testing.assert_close(model(SEQS), ref, atol=1e-4, rtol=1e-4)


def test_a_model_built_under_inference_mode_fuses() -> None:
    """Its weights are inference tensors (no version counter): how the benchmark builds models."""
    with torch.inference_mode():
        hf = build("bert")
        model = PackedRewardModel(hf)
        model.fuse_for_inference()
        torch.testing.assert_close(model(SEQS), hf_alone(hf, SEQS), atol=1e-4, rtol=1e-4)


def test_empty_items_are_refused() -> None:
    model = PackedRewardModel(build("bert"))
    with pytest.raises(ValueError):
        model([[1, 2], []])
