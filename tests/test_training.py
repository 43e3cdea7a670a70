import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForSequenceClassification, OPTConfig, OPTForSequenceClassification

from model_store import InputSpec, ModelStore, PackedRewardModel, encode
from model_store.loader import load_version
from training.config import TrainConfig
from training.model import train_tokenizer
from training.train import QualityGateFailed, bt_loss, train

from .conftest import tiny_config

ROOT = Path(__file__).resolve().parents[1]


def test_packed_forward_equals_hf_forward() -> None:
    torch.manual_seed(0)
    cfg = OPTConfig(
        vocab_size=300,
        hidden_size=32,
        num_hidden_layers=2,
        ffn_dim=64,
        num_attention_heads=4,
        max_position_embeddings=64,
        num_labels=1,
        pad_token_id=1,
        word_embed_proj_dim=32,
    )
    hf = OPTForSequenceClassification(cfg).eval()
    model = PackedRewardModel(hf).eval()
    seqs = [[5, 6, 7, 8, 9], [10, 11], list(range(20, 60))]
    with torch.no_grad():
        ref = torch.stack([hf(torch.tensor([s])).logits[0, 0] for s in seqs])
        got = model(seqs)
        model.fuse_for_inference()
        fused = model(seqs)
    torch.testing.assert_close(got, ref, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(fused, ref, atol=1e-5, rtol=1e-5)


def test_loss_falls_and_weights_change() -> None:
    torch.manual_seed(0)
    tok = train_tokenizer(["good reply thanks", "bad reply go away"] * 50, vocab_size=300)
    cfg = tiny_config(Path("."))
    from training.model import build_scratch

    model = PackedRewardModel(build_scratch(cfg, tok)).train()
    spec = InputSpec(max_length=32)
    good = encode(spec, tok, [(None, "good reply thanks")] * 8)
    bad = encode(spec, tok, [(None, "bad reply go away")] * 8)
    before = [p.detach().clone() for p in model.parameters()]
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    losses = []
    ones, zeros = torch.ones(8), torch.zeros(8)
    for _ in range(15):
        s = model(good + bad)
        loss = bt_loss(s[:8], s[8:], zeros, ones)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] * 0.5
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


def test_published_model_scores_identically_after_reload(trained_store: dict) -> None:
    """The saved bf16 model, loaded by the store, scores what a plain HF forward of the files does."""
    store = ModelStore(trained_store["root"])
    loaded = load_version(store, "default", trained_store["v2"], device="cpu")
    items = [("Where is my order #12345?", "Hi Sam, it is out for delivery."), (None, "Figure it out yourself.")]
    seqs = encode(loaded.spec, loaded.tokenizer, items)
    hf = AutoModelForSequenceClassification.from_pretrained(str(loaded.version.path), dtype=torch.float32).eval()
    with torch.no_grad():
        ref = [hf(torch.tensor([s])).logits[0, 0].item() for s in seqs]
        got = loaded.model(seqs).tolist()
    assert got == pytest.approx(ref, abs=1e-4)
    metrics = loaded.manifest["metrics"]
    assert 0.0 <= metrics["accuracy"] <= 1.0 and "roc_auc" in metrics


def test_quality_gate_keeps_current(trained_store: dict, tmp_path: Path) -> None:
    import shutil

    root = tmp_path / "s"
    shutil.copytree(trained_store["root"], root)
    before = ModelStore(root).current("default")
    with pytest.raises(QualityGateFailed):
        train(tiny_config(root, min_accuracy=1.01))
    store = ModelStore(root)
    assert store.current("default") == before
    assert len(store.list_versions("default")) == 3  # published for inspection, not promoted


def test_config_from_toml_and_cli(tmp_path: Path) -> None:
    f = tmp_path / "c.toml"
    f.write_text("[train]\nbatch_size = 4\nlr = 0.001\n")
    cfg = TrainConfig.from_args(["--config", str(f), "--lr", "0.01", "--no-promote"])
    assert cfg.batch_size == 4 and cfg.lr == 0.01 and cfg.promote is False
    with pytest.raises(ValueError, match="unknown"):
        TrainConfig.from_dict({"nope": 1})


@pytest.mark.slow
def test_torchrun_two_processes(tmp_path: Path) -> None:
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node=2",
        "--master_port=29517",
        "-m",
        "training",
        "--store",
        str(tmp_path),
        "--default-prompts",
        "60",
        "--vocab-size",
        "300",
        "--hidden-size",
        "32",
        "--num-layers",
        "1",
        "--num-heads",
        "2",
        "--ffn-dim",
        "64",
        "--max-length",
        "64",
        "--max-steps",
        "6",
        "--batch-size",
        "4",
        "--min-accuracy",
        "0",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    store = ModelStore(tmp_path)
    v = store.resolve("default")
    assert v.manifest["train"]["world_size"] == 2
    assert v.manifest["train"]["pairs_seen"] == 6 * 4 * 2
