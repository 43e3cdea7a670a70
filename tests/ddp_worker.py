"""Run by test_training under torchrun (``ddp``) or alone (``share``: rank 0's share of the
batches, trained without DDP): fits a tiny model and saves this rank's weights."""

import sys
from pathlib import Path

import torch
from safetensors.torch import save_file

from training.config import TrainConfig
from training.train import Processes, build_model, fit, processes, training_data

out, mode = Path(sys.argv[1]), sys.argv[2]
cfg = TrainConfig.from_dict(
    dict(
        default_prompts=60, vocab_size=300, hidden_size=32, num_layers=1, num_heads=2, ffn_dim=64,
        max_length=64, max_steps=6, batch_size=4, lr=3e-3, log_every=1000,
    )
)  # fmt: skip


def run(procs: Processes) -> None:
    with training_data(cfg) as data:
        model = build_model(cfg, data, procs)
        fit(cfg, model, data, procs)
    weights = {k: v.detach().clone().contiguous() for k, v in model.hf.state_dict().items()}
    save_file(weights, str(out / f"{mode}-rank{procs.rank}.safetensors"))


if mode == "share":
    run(Processes(world=2, rank=0, device=torch.device("cpu")))
else:
    with processes(cfg) as procs:
        run(procs)
