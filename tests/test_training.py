import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from transformers import AutoModelForSequenceClassification

from model_store import InputSpec, ModelStore
from modeling import PackedRewardModel, encode
from modeling.forward.runtimes import cpu_has_vnni
from modeling.loader import load_version
from training.config import TrainConfig
from training.dimensions import overall_label
from training.model import train_tokenizer
from training.train import QualityGateFailed, bt_loss, lr_factor, train, training_data

from .conftest import tiny_config

ROOT = Path(__file__).resolve().parents[1]


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
    metrics = loaded.manifest.metrics
    assert metrics is not None and 0.0 <= metrics.accuracy <= 1.0 and 0.0 <= metrics.roc_auc <= 1.0


def test_saved_weights_are_bf16_tensors(trained_store: dict) -> None:
    v = ModelStore(trained_store["root"]).resolve("default")
    dtypes = set()
    with safe_open(str(v.path / "model.safetensors"), framework="pt") as f:
        for key in f.keys():  # noqa: SIM118 (safe_open has no __iter__)
            t = f.get_tensor(key)
            if t.is_floating_point():
                dtypes.add(t.dtype)
    assert dtypes == {torch.bfloat16}


def test_embedded_data_lives_only_inside_its_context(tmp_path: Path) -> None:
    cfg = TrainConfig.from_dict({"default_prompts": 40})
    before = set(Path(tempfile.gettempdir()).glob("rewardgate-data-*"))  # other runs on this machine keep theirs
    with training_data(cfg) as data:
        tmp_dirs = set(Path(tempfile.gettempdir()).glob("rewardgate-data-*")) - before
        assert data.train and data.validation and tmp_dirs
    assert not [p for p in tmp_dirs if p.exists()]


def test_schedule_follows_steps_or_time() -> None:
    assert lr_factor(0.0, 0.1) == pytest.approx(1e-3)
    assert lr_factor(0.05, 0.1) == pytest.approx(0.5)
    assert lr_factor(0.1, 0.1) == pytest.approx(1.0)
    assert lr_factor(0.55, 0.1) == pytest.approx(0.5)
    assert lr_factor(1.0, 0.1) == 0.0


def test_time_limit_ends_with_the_learning_rate_decayed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run cut by its clock, not its step count, still anneals to zero. Training's clock is a
    fake one, 0.1 s a reading, so the test does not hang on how fast this machine is today."""
    import itertools
    import types

    from training import train as train_module

    readings = itertools.count()
    fake = types.SimpleNamespace(**{n: getattr(train_module.time, n) for n in ("gmtime", "strftime")})
    fake.perf_counter = lambda: next(readings) * 0.1
    monkeypatch.setattr(train_module, "time", fake)
    caplog.set_level("INFO", logger="training")
    r = train(tiny_config(tmp_path, max_steps=100_000, time_limit_s=4.0, log_every=1))
    assert 10 < r.train["steps"] < 100_000 and r.train["seconds"] < 10
    lrs = [float(m.split("lr ")[1].split()[0]) for m in caplog.messages if m.startswith("step ")]
    assert max(lrs) > 1e-3 and lrs[-1] < 0.05 * max(lrs)


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
    with pytest.raises(ValueError, match="dtype must be auto, fast, float32 or bfloat16"):
        TrainConfig.from_dict({"dtype": "fp16"})


def test_fast_dtype_trains_in_bf16_only_where_the_cpu_multiplies_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """dtype "fast" picks bf16 autocast on a CPU with native bf16 and fp32 elsewhere, and says which."""
    from modeling.forward.runtimes import cpu_has_bf16
    from training.train import build_model, fit, processes

    def two_steps(dtype: str) -> dict[str, torch.Tensor]:
        cfg = tiny_config(tmp_path / dtype, max_steps=2, dtype=dtype)
        with processes(cfg) as procs, training_data(cfg) as data:
            model = build_model(cfg, data, procs)
            fit(cfg, model, data, procs)
        return {k: v.detach().clone() for k, v in model.hf.state_dict().items()}

    with caplog.at_level("INFO", logger="training"):
        fast = two_steps("fast")
    native = cpu_has_bf16()
    said = "bf16 (native)" if native else "fp32 (no native bf16)"
    assert f"matmuls in {said} on this CPU" in caplog.text
    # what the steps computed: bf16 matmuls change the weights against fp32 ones; fp32 leaves them equal
    same = all(torch.equal(fast[k].float(), v.float()) for k, v in two_steps("float32").items())
    assert same is not native


def _torchrun(args: list[str], port: int) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", f"--master_port={port}", *args]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def _weights(path: Path) -> dict[str, torch.Tensor]:
    with safe_open(str(path), framework="pt") as f:
        return {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118


def _accelerate_launch(args: list[str], port: int) -> subprocess.CompletedProcess[str]:
    config = ROOT / "training" / "accelerate" / "multi_cpu.yaml"
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(config)]
    cmd += [f"--main_process_port={port}", *args]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
@pytest.mark.parametrize("launcher", ["torchrun", "accelerate"])
def test_two_processes_synchronise_gradients(tmp_path: Path, launcher: str) -> None:
    """Under torchrun and under `accelerate launch` (training/accelerate/multi_cpu.yaml), both
    ranks end with identical weights, and those differ from training on one rank's share alone:
    the gradients really were averaged across processes."""
    launch = _torchrun if launcher == "torchrun" else _accelerate_launch
    proc = launch(["tests/ddp_worker.py", str(tmp_path), "ddp"], 29517 if launcher == "torchrun" else 29527)
    assert proc.returncode == 0, proc.stderr[-3000:]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    alone = subprocess.run(
        [sys.executable, "tests/ddp_worker.py", str(tmp_path), "share"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert alone.returncode == 0, alone.stderr[-3000:]
    r0, r1 = _weights(tmp_path / "ddp-rank0.safetensors"), _weights(tmp_path / "ddp-rank1.safetensors")
    share = _weights(tmp_path / "share-rank0.safetensors")
    assert r0.keys() == r1.keys() == share.keys()
    assert all(torch.equal(r0[k], r1[k]) for k in r0)
    assert any(not torch.equal(r0[k], share[k]) for k in r0)


@pytest.mark.slow
def test_failed_quality_gate_ends_every_rank_with_code_3(tmp_path: Path) -> None:
    """Two ranks started by hand (as torchrun would, minus its habit of killing the slower rank
    once one has exited), so each rank's own exit code is seen."""
    args = [sys.executable, "-m", "training", "--store", str(tmp_path), "--default-prompts", "60"]
    args += ["--vocab-size", "300", "--hidden-size", "32", "--num-layers", "1", "--num-heads", "2"]
    args += ["--ffn-dim", "64", "--max-length", "64", "--max-steps", "6", "--batch-size", "4", "--min-accuracy", "1.01"]
    base = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT), "WORLD_SIZE": "2"}
    base |= {"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "29518"}
    ranks = [
        subprocess.Popen(
            args, cwd=ROOT, env={**base, "RANK": str(r), "LOCAL_RANK": str(r)}, stderr=subprocess.PIPE, text=True
        )
        for r in (0, 1)
    ]
    errs = [p.communicate(timeout=300)[1] for p in ranks]
    assert [p.returncode for p in ranks] == [3, 3], errs[0][-2000:] + errs[1][-2000:]
    assert all("quality gate failed" in e for e in errs)
    store = ModelStore(tmp_path)
    assert store.current("default") is None
    (vid,) = store.list_versions("default")
    train_stats = store.resolve("default", vid).manifest.train
    assert train_stats is not None and train_stats["world_size"] == 2
    assert train_stats["pairs_seen"] == 6 * 4 * 2


def test_embedded_data_knows_which_replies_are_good_and_which_fail() -> None:
    cfg = TrainConfig.from_dict({"default_prompts": 40})
    with training_data(cfg) as data:
        labels = data.labels
    assert {"good", "leak", "rude"} <= set(labels.values())
    train_items = {(p.prompt, t) for p in data.train for t in (p.chosen, p.rejected)}
    assert len(train_items & set(labels)) > 0.9 * len(train_items)
    # a good reply is never the rejected side of a pair from its own prompt, a failing one never chosen over a good one
    verdict = {item: overall_label(kind) for item, kind in labels.items()}
    assert all(verdict.get((p.prompt, p.rejected)) != 1 for p in data.train)
    assert all(
        not (verdict.get((p.prompt, p.chosen)) == -1 and verdict.get((p.prompt, p.rejected)) == 1) for p in data.train
    )


def test_cross_prompt_term_moves_the_weights(tmp_path: Path) -> None:
    """The cross-prompt term is a real part of the loss: same seed, same batches, one step,
    different weights with it than without it."""
    from training.train import build_model, fit, processes

    def one_step(weight: float) -> dict[str, torch.Tensor]:
        cfg = tiny_config(tmp_path / "store", max_steps=1, batch_size=16, cross_prompt_weight=weight)
        with processes(cfg) as procs, training_data(cfg) as data:
            model = build_model(cfg, data, procs)
            fit(cfg, model, data, procs)
        return {k: v.detach().clone() for k, v in model.hf.state_dict().items()}

    without, with_term = one_step(0.0), one_step(1.0)
    assert any(not torch.equal(without[k], with_term[k]) for k in without)
    assert torch.equal(one_step(0.0)["score.weight"], without["score.weight"])  # deterministic otherwise


def test_cross_prompt_term_trains_every_dimension_head(tmp_path: Path) -> None:
    """With quality dimensions, each head is also put in order across prompts (a reply passing
    its dimension above one failing it), so one threshold per dimension works for every prompt.
    One step moves a head's row only through that head's own loss: the rows of the dimension
    heads differ with the term and without it."""
    from training.train import build_model, fit, processes

    def one_step(weight: float) -> torch.Tensor:
        cfg = tiny_config(
            tmp_path / "store", max_steps=1, batch_size=64, cross_prompt_weight=weight, embedded_dimensions=True
        )
        with processes(cfg) as procs, training_data(cfg) as data:
            model = build_model(cfg, data, procs)
            fit(cfg, model, data, procs)
        return model.hf.state_dict()["score.weight"].detach().clone()

    without, with_term = one_step(0.0), one_step(1.0)
    assert without.shape[0] == 6  # overall and five dimensions
    assert any(not torch.equal(without[d], with_term[d]) for d in range(1, 6))


def test_overall_pairs_keep_their_share_of_the_loss_beside_dimension_pairs() -> None:
    """Averaged apart: one overall pair weighs as much as all the dimension pairs of its batch
    together, so many dimension pairs do not drown it."""
    from training.train import pairs_loss

    chosen = torch.zeros(5, requires_grad=True)
    rejected = torch.zeros(5)
    head = torch.tensor([0, 1, 1, 2, 2])  # one overall pair, four dimension pairs
    ones = torch.ones(5)
    pairs_loss(chosen, rejected, head, torch.zeros(5), ones).backward()
    assert chosen.grad is not None
    assert chosen.grad[0] == pytest.approx(-0.5)  # d/dx -logsigmoid(x) at 0, the overall mean of one
    assert chosen.grad[1:].tolist() == pytest.approx([-0.125] * 4)  # the four share one mean


def test_cross_prompt_loss_reaches_each_output_that_has_both_sides() -> None:
    from training.train import cross_prompt_loss

    scores = torch.zeros(4, 3, requires_grad=True)
    # output 0: two pass, two fail; output 1: one fails, the rest pass; output 2: nothing fails
    verdicts = torch.tensor([[1, 1, 1], [1, -1, 1], [-1, 1, 1], [-1, 1, 0]])
    cross_prompt_loss(scores, verdicts).backward()
    assert scores.grad is not None
    grad = scores.grad
    assert (grad[:2, 0] < 0).all() and (grad[2:, 0] > 0).all()  # passing ones pushed up, failing down
    assert grad[1, 1] > 0 and (grad[[0, 2, 3], 1] < 0).all()
    assert (grad[:, 2] == 0).all()


@pytest.mark.skipif(not cpu_has_vnni(), reason="this CPU has no VNNI: int8 would need 7-bit activations")
def test_fast_dtype_calibrates_with_the_runtime_the_service_picks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """On a CPU with VNNI and no native bf16, `auto` serves int8: training evaluates and calibrates
    the threshold with that runtime, not with the fp32 forward it trained."""
    from modeling.forward import runtimes
    from training import train as train_module

    monkeypatch.setattr(runtimes, "cpu_has_bf16", lambda: False)
    monkeypatch.setattr(train_module, "cpu_has_bf16", lambda: False)  # training's autocast too
    with caplog.at_level("INFO"):
        train(tiny_config(tmp_path, max_steps=2, dtype="fast"))
    assert "evaluating with the CPU runtime the service will use here: torch-int8" in caplog.text
    assert "CPU runtime torch-int8 not used" not in caplog.text  # it passed its probe on the trained model
