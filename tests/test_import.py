"""Importing existing Hugging Face reward models (tiny, random, saved locally with a tokenizer of
the model's real tokenizer class and special-token layout, trained here): OPT (pre-LN, BOS in
front), an opt-350m-style OPT (post-LN, project_in/project_out), GPT-2 (no special tokens), Llama
(Llama 3's byte-level tokenizer and chat template), Qwen3 (ChatML), RoBERTa (<s> in front, </s> at
the end) and DeBERTa-v2 ([CLS] ... [SEP], Unigram). Through the store CLI and real uvicorn,
/score equals the plain Hugging Face forward of the same rendered text (the chat template applied
where there is one); pickles are refused; over-long input is truncated, never a 500; a user text
containing an end token cannot end the item early."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import torch

from model_store import ModelStore

from .test_api import metric_samples

ROOT = Path(__file__).resolve().parents[1]
CORPUS = [
    "where is my order it arrives tomorrow thanks for waiting",
    "your refund is on its way to the card you paid with",
    "not my problem figure it out yourself",
    "please reset your password from the login page",
] * 30
ITEMS: list[Any] = [
    {"prompt": "where is my order", "response": "it arrives tomorrow, thanks for waiting"},
    "not my problem",
    {"prompt": "refund?", "response": "your refund is on its way to the card you paid with, thanks"},
]


def _bpe(d: Path, specials: list[str]) -> dict[str, Any]:
    """A byte-level BPE vocabulary and merges trained here, as GPT-2's and RoBERTa's tokenizers take them."""
    from tokenizers import ByteLevelBPETokenizer

    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(CORPUS, vocab_size=300, min_frequency=1, special_tokens=specials, show_progress=False)
    d.mkdir(parents=True, exist_ok=True)
    vocab_file, merges_file = bpe.save_model(str(d))
    vocab = json.loads(Path(vocab_file).read_text())
    lines = Path(merges_file).read_text().splitlines()[1:]
    return {"vocab": vocab, "merges": [tuple(line.split()) for line in lines if line.strip()]}


def _save(d: Path, model_class: Any, cfg: Any, tok: Any) -> Path:
    """A randomly initialised (seeded) checkpoint and its tokenizer, in Hugging Face format."""
    torch.manual_seed(0)
    model_class(cfg).save_pretrained(d / "model", safe_serialization=True)
    tok.save_pretrained(d / "model")
    return d / "model"


def make_gpt2(d: Path, positions: int = 64) -> Path:
    from transformers import GPT2Config, GPT2ForSequenceClassification, GPT2TokenizerFast

    tok = GPT2TokenizerFast(**_bpe(d / "bpe", ["<|endoftext|>"]))
    tok.pad_token = tok.eos_token
    cfg = GPT2Config(
        vocab_size=len(tok), n_positions=positions, n_embd=32, n_layer=2, n_head=2, num_labels=1,
        pad_token_id=tok.pad_token_id, bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
    )  # fmt: skip
    return _save(d, GPT2ForSequenceClassification, cfg, tok)


def make_roberta(d: Path, positions: int = 64) -> Path:
    from transformers import RobertaConfig, RobertaForSequenceClassification, RobertaTokenizerFast

    tok = RobertaTokenizerFast(**_bpe(d / "bpe", ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]))
    cfg = RobertaConfig(
        vocab_size=len(tok), max_position_embeddings=positions + 2, hidden_size=32, num_hidden_layers=2,
        num_attention_heads=2, intermediate_size=64, num_labels=1, pad_token_id=tok.pad_token_id,
    )  # fmt: skip
    return _save(d, RobertaForSequenceClassification, cfg, tok)


def make_opt(d: Path, positions: int = 64, post_ln: bool = False) -> Path:
    """OPT's tokenizer is GPT-2's with </s> as BOS in front; opt-350m is post-LN with a 512->1024
    projection around the layers (here 16->32)."""
    from transformers import GPT2TokenizerFast, OPTConfig, OPTForSequenceClassification

    tok = GPT2TokenizerFast(
        **_bpe(d / "bpe", ["<s>", "<pad>", "</s>", "<unk>"]), bos_token="</s>", eos_token="</s>", pad_token="<pad>",
        unk_token="</s>", add_bos_token=True,
    )  # fmt: skip
    cfg = OPTConfig(
        vocab_size=len(tok), hidden_size=32, word_embed_proj_dim=16 if post_ln else 32, num_hidden_layers=2,
        num_attention_heads=2, ffn_dim=64, max_position_embeddings=positions, do_layer_norm_before=not post_ln,
        num_labels=1, pad_token_id=tok.pad_token_id, bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
        dropout=0.0,
    )  # fmt: skip
    return _save(d, OPTForSequenceClassification, cfg, tok)


def make_opt350(d: Path, positions: int = 64) -> Path:
    return make_opt(d, positions, post_ln=True)


LLAMA3_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}<|start_header_id|>{{ m['role'] }}<|end_header_id|>\n\n"
    "{{ m['content'] | trim }}<|eot_id|>{% endfor %}"
)
CHATML_TEMPLATE = "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"


def make_llama(d: Path, positions: int = 64) -> Path:
    """Llama 3 reward models ship a byte-level BPE tokenizer (no class of its own) that puts
    <|begin_of_text|> in front, and a chat template."""
    from tokenizers import ByteLevelBPETokenizer, processors
    from transformers import LlamaConfig, LlamaForSequenceClassification, PreTrainedTokenizerFast

    specials = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(CORPUS, vocab_size=300, min_frequency=1, special_tokens=specials, show_progress=False)
    backend = bpe._tokenizer
    bos = backend.token_to_id("<|begin_of_text|>")
    backend.post_processor = processors.TemplateProcessing(
        single="<|begin_of_text|> $A", pair="<|begin_of_text|> $A $B", special_tokens=[("<|begin_of_text|>", bos)]
    )
    tok = PreTrainedTokenizerFast(
        tokenizer_object=backend, bos_token="<|begin_of_text|>", eos_token="<|eot_id|>",
        pad_token="<|end_of_text|>", chat_template=LLAMA3_TEMPLATE,
    )  # fmt: skip
    cfg = LlamaConfig(
        vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=positions, num_labels=1, pad_token_id=tok.pad_token_id,
        bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
    )  # fmt: skip
    return _save(d, LlamaForSequenceClassification, cfg, tok)


def make_qwen3(d: Path, positions: int = 64) -> Path:
    from transformers import Qwen2TokenizerFast, Qwen3Config, Qwen3ForSequenceClassification

    tok = Qwen2TokenizerFast(
        **_bpe(d / "bpe", ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]), chat_template=CHATML_TEMPLATE
    )
    tok.add_special_tokens({"additional_special_tokens": ["<|im_start|>", "<|im_end|>"]})  # as Qwen's are
    cfg = Qwen3Config(
        vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, head_dim=8, max_position_embeddings=positions, num_labels=1,
        pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id,
    )  # fmt: skip
    return _save(d, Qwen3ForSequenceClassification, cfg, tok)


def make_deberta(d: Path, positions: int = 64) -> Path:
    """DeBERTa-v2's tokenizer is a SentencePiece Unigram: a vocabulary of scored pieces, here
    the corpus's words and characters."""
    from transformers import DebertaV2Config, DebertaV2ForSequenceClassification, DebertaV2TokenizerFast

    words = sorted({w for line in CORPUS for w in line.split()})
    chars = sorted({c for line in CORPUS for c in line if c != " "} | set(",.?!<>/|_"))
    vocab = [("[PAD]", 0.0), ("[UNK]", 0.0), ("[CLS]", 0.0), ("[SEP]", 0.0), ("[MASK]", 0.0), ("\u2581", -3.0)]
    vocab += [("\u2581" + w, -1.0) for w in words] + [(c, -5.0) for c in chars] + [("\u2581" + c, -5.5) for c in chars]
    tok = DebertaV2TokenizerFast(vocab=vocab)
    cfg = DebertaV2Config(
        vocab_size=len(tok), hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
        max_position_embeddings=positions, num_labels=1, pad_token_id=tok.pad_token_id,
        relative_attention=True, position_buckets=16, pos_att_type=["p2c", "c2p"],
    )  # fmt: skip
    return _save(d, DebertaV2ForSequenceClassification, cfg, tok)


MAKERS = {
    "opt": make_opt,
    "opt350": make_opt350,
    "gpt2": make_gpt2,
    "llama": make_llama,
    "qwen3": make_qwen3,
    "roberta": make_roberta,
    "deberta": make_deberta,
}


def store_cli(root: Path, name: str, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "model_store", "--store", str(root), "--name", name, *args]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)


def hf_scores(path: Path, items: list[Any]) -> list[float]:
    """The plain Hugging Face forward, one item at a time: through the tokenizer's chat template
    when it has one, else the text template with the tokenizer's own special tokens (user text
    never read as special tokens)."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(path))
    model = AutoModelForSequenceClassification.from_pretrained(str(path), dtype=torch.float32).eval()
    out = []
    for item in items:
        prompt, response = (None, item) if isinstance(item, str) else (item["prompt"], item["response"])
        if tok.chat_template:
            messages = [{"role": "user", "content": prompt or ""}, {"role": "assistant", "content": response}]
            ids = tok.apply_chat_template(messages, tokenize=True, return_dict=False)
        else:
            text = f"{prompt}\n\n{response}" if prompt else response
            ids = tok(text, split_special_tokens=True)["input_ids"]
        with torch.no_grad():
            out.append(model(torch.tensor([ids])).logits[0, 0].item())
    return out


def _tokenizer(path: Path) -> Any:
    from modeling.loader import load_tokenizer

    return load_tokenizer(path)


END_TOKEN = {"gpt2": "<|endoftext|>", "llama": "<|eot_id|>", "qwen3": "<|im_end|>", "deberta": "[SEP]"}


@pytest.mark.parametrize("arch", sorted(MAKERS))
def test_import_then_score_equals_the_plain_forward(arch: str, tmp_path: Path, serve: Any) -> None:
    src = MAKERS[arch](tmp_path / arch)
    root = tmp_path / "store"
    out = store_cli(root, arch, "import", str(src), "--promote")
    assert out.returncode == 0, out.stderr[-2000:]
    vid = json.loads(out.stdout)["version"]
    m = ModelStore(root).resolve(arch, vid).manifest
    assert m.architecture == {"opt350": "opt", "deberta": "deberta-v2"}.get(arch, arch) and m.input.max_length == 64
    assert m.input.chat_template == (arch in ("llama", "qwen3"))
    if arch in ("roberta", "deberta"):
        assert len(m.input.prefix_ids) == 1 and len(m.input.suffix_ids) == 1  # <s> ... </s>, [CLS] ... [SEP]
    srv = serve(root, model=arch, device="cpu", dtype="float32")
    r = httpx.post(srv.url + "/score", json={"items": ITEMS})  # mixed lengths in one batch
    assert r.status_code == 200, r.text
    got = [x["score"] for x in r.json()["results"]]
    assert got == pytest.approx(hf_scores(src, ITEMS), abs=1e-4)
    # decoders and RoBERTa run padding-free (only real tokens computed), DeBERTa padded to the
    # longest item
    m_ = metric_samples(srv.url)
    computed, real = m_["rewardgate_computed_tokens_total"], m_["rewardgate_real_tokens_total"]
    assert (computed == real) if arch != "deberta" else (computed > real)
    # bf16, as a GPU serves it
    srv16 = serve(root, model=arch, device="cpu", dtype="bfloat16")
    got16 = [x["score"] for x in httpx.post(srv16.url + "/score", json={"items": ITEMS}).json()["results"]]
    assert got16 == pytest.approx(got, abs=2e-2)
    # longer than the model's positions: truncated (prompt first), never a 500, and said so
    # when the response itself had to be cut
    long = {"prompt": "where is my order " * 200, "response": "it arrives tomorrow " * 100}
    long_prompt = {"prompt": "where is my order " * 200, "response": "thanks"}
    r = httpx.post(srv.url + "/score", json={"items": [long, "thanks", long_prompt]})
    assert r.status_code == 200, r.text
    assert [x["truncated"] for x in r.json()["results"]] == [True, False, False]
    # a user text holding the model's end token is text, not the end of the item (GPT-2 reads
    # its score at the last token that is not padding, and its padding is that very token)
    end = END_TOKEN.get(arch, "</s>")
    texts = [f"thanks {end} not my problem", f"thanks {end}"]
    r = httpx.post(srv.url + "/score", json={"items": texts})
    tok = _tokenizer(src)
    special = set(tok.all_special_ids) - {tok.unk_token_id}  # unknown characters are not an item's end
    from modeling import encode

    ids = encode(m.input, tok, [(None, t) for t in texts])
    if m.input.chat_template:  # the template's own special tokens, and not one more
        plain = encode(m.input, tok, [(None, t.replace(end, "")) for t in texts])
        assert [sum(i in special for i in s) for s in ids] == [sum(i in special for i in s) for s in plain]
    else:
        assert [x["score"] for x in r.json()["results"]] == pytest.approx(hf_scores(src, texts), abs=1e-4)
        inner = [seq[len(m.input.prefix_ids) : len(seq) - len(m.input.suffix_ids)] for seq in ids]
        # DeBERTa's Unigram vocabulary holds "[SEP]" as a piece, so its text becomes that id, as in
        # Hugging Face's own forward (checked above); an encoder reads its score at [CLS], so a
        # [SEP] inside cannot end the item
        if arch != "deberta":
            assert not any(i in special for seq in inner for i in seq)


def test_import_refuses_pickles_and_wrong_heads(tmp_path: Path) -> None:
    src = make_gpt2(tmp_path / "gpt2")
    root = tmp_path / "store"
    pickled = tmp_path / "pickled"
    pickled.mkdir()
    for f in src.iterdir():
        if f.suffix != ".safetensors":
            (pickled / f.name).write_bytes(f.read_bytes())
    (pickled / "pytorch_model.bin").write_bytes(b"not really a pickle")
    out = store_cli(root, "m", "import", str(pickled))
    assert out.returncode == 2 and "no safetensors weights" in out.stderr and "safe_serialization=True" in out.stderr
    cfg = json.loads((src / "config.json").read_text())
    cfg["id2label"] = {"0": "bad", "1": "good"}
    (src / "config.json").write_text(json.dumps(cfg))
    out = store_cli(root, "m", "import", str(src))
    assert out.returncode == 2 and "2 labels" in out.stderr
    assert ModelStore(root).list_versions("m") == []


def test_import_calibrates_on_a_pairs_file(tmp_path: Path) -> None:
    src = make_gpt2(tmp_path / "gpt2")
    pairs = tmp_path / "pairs.jsonl"
    rows = [{"prompt": "where is my order", "chosen": "it arrives tomorrow", "rejected": "not my problem"}] * 10
    rows += [{"chosen": "your refund is on its way", "rejected": "figure it out yourself"}] * 10
    pairs.write_text("\n".join(json.dumps(r) for r in rows))
    root = tmp_path / "store"
    # --name after `import`, as the README's synopsis writes it
    cmd = [sys.executable, "-m", "model_store", "--store", str(root), "import", str(src), "--name", "m"]
    out = subprocess.run(
        [*cmd, "--calibrate", str(pairs), "--max-length", "32"], cwd=ROOT, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr[-2000:]
    m = ModelStore(root).resolve("m", json.loads(out.stdout)["version"]).manifest
    assert m.metrics is not None and m.metrics.pairs == 20 and m.input.max_length == 32
    assert m.threshold.method == "max_good_blocked" and ModelStore(root).current("m") is None


@pytest.mark.parametrize("arch", sorted(MAKERS))
def test_training_from_a_local_pretrained_base(arch: str, tmp_path: Path, serve: Any) -> None:
    from training.train import train

    from .conftest import tiny_config

    src = MAKERS[arch](tmp_path / arch)
    root = tmp_path / "store"
    with pytest.raises(ValueError, match="positions"):
        train(tiny_config(root, base_model=str(src), max_length=128, max_steps=2))
    res = train(tiny_config(root, base_model=str(src), max_length=64, max_steps=4))
    assert res.version is not None
    m = ModelStore(root).resolve("default", res.version).manifest
    assert m.base_model == str(src) and m.input.chat_template == (arch in ("llama", "qwen3"))
    srv = serve(root, device="cpu", dtype="float32")
    r = httpx.post(srv.url + "/score", json={"items": ITEMS})
    assert r.status_code == 200, r.text
    # what is served is the published checkpoint, read the plain Hugging Face way
    published = ModelStore(root).resolve("default", res.version).path
    assert [x["score"] for x in r.json()["results"]] == pytest.approx(hf_scores(published, ITEMS), abs=1e-4)


def test_lora_trains_adapters_and_the_head_and_publishes_merged_weights(tmp_path: Path, serve: Any) -> None:
    from safetensors.torch import load_file

    from training.train import train

    from .conftest import tiny_config

    src = make_llama(tmp_path / "llama")
    root = tmp_path / "store"
    res = train(tiny_config(root, base_model=str(src), max_length=64, max_steps=6, lora_rank=4, lora_alpha=8, lr=1e-2))
    assert res.version is not None
    published = ModelStore(root).resolve("default", res.version).path
    before, after = load_file(str(src / "model.safetensors")), load_file(str(published / "model.safetensors"))
    assert not [k for k in after if "lora" in k or "modules_to_save" in k] and set(after) == set(before)
    changed = {k for k in before if not torch.equal(before[k].to(torch.bfloat16), after[k])}
    assert "score.weight" in changed  # the head trained in full and was saved
    assert "model.layers.0.self_attn.q_proj.weight" in changed  # adapters merged into the backbone
    assert "model.layers.0.input_layernorm.weight" not in changed  # not a LoRA target: frozen
    srv = serve(root, device="cpu", dtype="float32")
    r = httpx.post(srv.url + "/score", json={"items": ITEMS})
    assert [x["score"] for x in r.json()["results"]] == pytest.approx(hf_scores(published, ITEMS), abs=1e-4)
    # what trains: adapters on the backbone, and the whole head (not an adapter on it)
    from transformers import AutoModelForSequenceClassification

    from training.model import add_lora

    model = AutoModelForSequenceClassification.from_pretrained(str(src))
    add_lora(model, tiny_config(root, lora_rank=4))
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert "score.modules_to_save.default.weight" in trainable
    assert all(".lora_" in n for n in trainable if not n.startswith("score.modules_to_save"))
