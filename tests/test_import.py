"""Importing existing Hugging Face reward models (tiny, random, saved locally with a tokenizer of
the model's real tokenizer class, trained here): GPT-2 (no special tokens) and RoBERTa (<s> in
front, </s> at the end). Through the store CLI and real uvicorn, /score equals the plain Hugging
Face forward of the same rendered text; pickles are refused; over-long input is truncated, never a
500; a user text containing </s> cannot end the item early."""

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


def make_gpt2(d: Path, positions: int = 64) -> Path:
    from transformers import GPT2Config, GPT2ForSequenceClassification, GPT2TokenizerFast

    tok = GPT2TokenizerFast(**_bpe(d / "bpe", ["<|endoftext|>"]))
    tok.pad_token = tok.eos_token
    cfg = GPT2Config(
        vocab_size=len(tok), n_positions=positions, n_embd=32, n_layer=2, n_head=2, num_labels=1,
        pad_token_id=tok.pad_token_id, bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
    )  # fmt: skip
    torch.manual_seed(0)
    GPT2ForSequenceClassification(cfg).save_pretrained(d / "model", safe_serialization=True)
    tok.save_pretrained(d / "model")
    return d / "model"


def make_roberta(d: Path, positions: int = 64) -> Path:
    from transformers import RobertaConfig, RobertaForSequenceClassification, RobertaTokenizerFast

    tok = RobertaTokenizerFast(**_bpe(d / "bpe", ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]))
    cfg = RobertaConfig(
        vocab_size=len(tok), max_position_embeddings=positions + 2, hidden_size=32, num_hidden_layers=2,
        num_attention_heads=2, intermediate_size=64, num_labels=1, pad_token_id=tok.pad_token_id,
    )  # fmt: skip
    torch.manual_seed(0)
    RobertaForSequenceClassification(cfg).save_pretrained(d / "model", safe_serialization=True)
    tok.save_pretrained(d / "model")
    return d / "model"


MAKERS = {"gpt2": make_gpt2, "roberta": make_roberta}


def store_cli(root: Path, name: str, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "model_store", "--store", str(root), "--name", name, *args]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)


def hf_scores(path: Path, texts: list[str]) -> list[float]:
    """The plain Hugging Face forward, one text at a time, with the tokenizer's own special tokens
    (and user text never read as special tokens)."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(path))
    model = AutoModelForSequenceClassification.from_pretrained(str(path), dtype=torch.float32).eval()
    with torch.no_grad():
        return [model(**tok(t, return_tensors="pt", split_special_tokens=True)).logits[0, 0].item() for t in texts]


def _tokenizer(path: Path) -> Any:
    from modeling.loader import load_tokenizer

    return load_tokenizer(path)


def rendered(item: Any) -> str:
    return item if isinstance(item, str) else f"{item['prompt']}\n\n{item['response']}"


@pytest.mark.parametrize("arch", sorted(MAKERS))
def test_import_then_score_equals_the_plain_forward(arch: str, tmp_path: Path, serve: Any) -> None:
    src = MAKERS[arch](tmp_path / arch)
    root = tmp_path / "store"
    out = store_cli(root, arch, "import", str(src), "--promote")
    assert out.returncode == 0, out.stderr[-2000:]
    vid = json.loads(out.stdout)["version"]
    m = ModelStore(root).resolve(arch, vid).manifest
    assert m.architecture == arch and m.input.max_length == 64
    if arch == "roberta":
        assert len(m.input.prefix_ids) == 1 and len(m.input.suffix_ids) == 1  # <s> ... </s>
    srv = serve(root, model=arch, device="cpu", dtype="float32")
    r = httpx.post(srv.url + "/score", json={"items": ITEMS})  # mixed lengths in one batch
    assert r.status_code == 200, r.text
    got = [x["score"] for x in r.json()["results"]]
    assert got == pytest.approx(hf_scores(src, [rendered(i) for i in ITEMS]), abs=1e-4)
    # bf16, as a GPU serves it
    srv16 = serve(root, model=arch, device="cpu", dtype="bfloat16")
    got16 = [x["score"] for x in httpx.post(srv16.url + "/score", json={"items": ITEMS}).json()["results"]]
    assert got16 == pytest.approx(got, abs=2e-2)
    # longer than the model's positions: truncated (prompt first), never a 500
    long = {"prompt": "where is my order " * 200, "response": "it arrives tomorrow " * 100}
    r = httpx.post(srv.url + "/score", json={"items": [long, "thanks"]})
    assert r.status_code == 200, r.text
    # a user text holding the tokenizer's end token is text, not the end of the item (GPT-2 reads
    # its score at the last token that is not padding, and its padding is that very token)
    end = "</s>" if arch == "roberta" else "<|endoftext|>"
    texts = [f"thanks {end} not my problem", f"thanks {end}"]
    r = httpx.post(srv.url + "/score", json={"items": texts})
    assert [x["score"] for x in r.json()["results"]] == pytest.approx(hf_scores(src, texts), abs=1e-4)
    from modeling import encode

    ids = encode(m.input, _tokenizer(src), [(None, t) for t in texts])
    special = set(_tokenizer(src).all_special_ids)
    assert all(
        i not in special for seq in ids for i in seq[len(m.input.prefix_ids) : len(seq) - len(m.input.suffix_ids)]
    )


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


def test_training_from_a_local_pretrained_base(tmp_path: Path, serve: Any) -> None:
    from training.train import train

    from .conftest import tiny_config

    src = make_gpt2(tmp_path / "gpt2")
    root = tmp_path / "store"
    with pytest.raises(ValueError, match="positions"):
        train(tiny_config(root, base_model=str(src), max_length=128, max_steps=2))
    res = train(tiny_config(root, base_model=str(src), max_length=64, max_steps=4))
    assert res.version is not None
    m = ModelStore(root).resolve("default", res.version).manifest
    assert m.architecture == "gpt2" and m.base_model == str(src)
    srv = serve(root, device="cpu", dtype="float32")
    assert httpx.post(srv.url + "/score", json={"items": ITEMS}).status_code == 200
