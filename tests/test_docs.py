"""Every command and example of the README is exercised here, so the docs cannot drift."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from app.settings import Settings
from training.data import load_pairs

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README, re.S)


def test_every_setting_is_documented() -> None:
    for name in Settings.model_fields:
        assert f"`REWARDGATE_{name.upper()}`" in README, name


def test_make_targets_exist() -> None:
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z-]+):", makefile, re.M))
    used = set(re.findall(r"`make ([a-z-]+)|^make ([a-z-]+)", README, re.M))
    used = {a or b for a, b in used}
    assert used and used <= targets, used - targets
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_data_format_examples_parse(tmp_path: Path) -> None:
    examples = blocks("jsonl")
    assert len(examples) == 5  # pairs, rankings, labelled texts, TRL conversational pairs, quality dimensions
    for i, text in enumerate(examples):
        f = tmp_path / f"ex{i}.jsonl"
        f.write_text(text)
        assert len(load_pairs([str(f)])) >= 1
    with_dimensions = tmp_path / "ex4.jsonl"
    assert {p.dimension for p in load_pairs([str(with_dimensions)])} == {None, "privacy", "tone", "helpfulness"}


def _shape(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _shape(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_shape(x[0])] if x else []
    return type(x).__name__ if not isinstance(x, int | float) or isinstance(x, bool) else "number"


def _same_shape(got: Any, doc: Any) -> bool:
    """The same fields and types; an empty list fits any list (how many reasons an item has
    depends on the model's scores)."""
    if isinstance(got, dict) and isinstance(doc, dict):
        return got.keys() == doc.keys() and all(_same_shape(got[k], doc[k]) for k in got)
    if isinstance(got, list) and isinstance(doc, list):
        return not got or not doc or _same_shape(got[0], doc[0])
    return _shape(got) == _shape(doc)


def test_curl_examples_against_live_server(trained_store: dict, serve: Any) -> None:
    srv = serve(trained_store["root"])
    text = README
    calls = re.findall(r"```bash\n(curl .*?)\n```\n\n```json\n(.*?)\n```", text, re.S)
    assert len(calls) == 7  # /gate and /score in the quick start; /classify and /predict; /rank, /rerank, /v1/rerank
    for cmd, documented in calls:
        cmd = cmd.replace("http://127.0.0.1:8000", srv.url)
        out = subprocess.run(shlex.split(cmd), capture_output=True, text=True, timeout=60, check=True).stdout
        got, doc = json.loads(out), json.loads(documented)
        assert _same_shape(got, doc), (cmd, _shape(got), _shape(doc))
        length = (lambda x: len(x["results"] if "results" in x else x["data"])) if isinstance(doc, dict) else len
        assert length(got) == length(doc)
    reload_cmd = next(line for b in blocks("bash") for line in b.splitlines() if "/admin/reload" in line)
    out = subprocess.run(
        shlex.split(reload_cmd.replace("http://127.0.0.1:8000", srv.url)),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert json.loads(out)["version"] == trained_store["v2"]


def test_store_commands(store_copy: dict) -> None:
    block = next(b for b in blocks("bash") if "-m model_store list" in b)
    lines = [line for line in block.splitlines() if "-m model_store" in line]
    assert len(lines) == 5
    env = {"REWARDGATE_STORE": str(store_copy["root"]), "PATH": "/usr/bin:/bin"}
    outputs = {}
    for line in lines:
        args = shlex.split(line)[1:]
        args = [store_copy["v2"] if re.fullmatch(r"\d{8}T\d+Z-[0-9a-f]{6}", a) else a for a in args]
        proc = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        outputs[args[2]] = proc.stdout
    assert store_copy["v1"] in outputs["rollback"]
    assert json.loads(outputs["verify"])["verified"] is True
    assert "kept" in outputs["gc"]


def test_training_help_runs() -> None:
    proc = subprocess.run([sys.executable, "-m", "training", "--help"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0 and "--base-model" in proc.stdout and "--min-accuracy" in proc.stdout


@pytest.mark.parametrize(
    "path", sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "training/configs").glob("*.toml"))
)
def test_shipped_configs_load(path: str) -> None:
    from training.config import TrainConfig

    TrainConfig.from_args(["--config", str(ROOT / path)])


@pytest.mark.slow
def test_make_run_trains_when_empty_then_serves(tmp_path: Path) -> None:
    """`make run` on an empty store: trains (a tiny model here, for time), then answers /gate."""
    import os
    import signal
    import time

    import httpx

    from .conftest import free_port

    port = free_port()
    tiny = (
        "--default-prompts 60 --vocab-size 300 --hidden-size 32 --num-layers 1 --num-heads 2 --ffn-dim 64 "
        "--max-steps 5 --min-accuracy 0"
    )
    env = {**os.environ, "REWARDGATE_STORE": str(tmp_path / "store")}
    proc = subprocess.Popen(
        # the scratch recipe: the packaged MiniLM default trains for minutes, not seconds
        ["make", "run", f"PORT={port}", "CONFIG=training/configs/scratch-opt.toml", f"ARGS={tiny}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            try:
                r = httpx.post(f"http://127.0.0.1:{port}/gate", json={"items": ["Thanks, it is on its way."]})
                if r.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        else:
            pytest.fail("make run did not serve /gate in time")
        assert r.json()["results"][0]["decision"] in ("allow", "block")
        assert (tmp_path / "store" / "default" / "current").is_file()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def test_error_table_matches_the_code() -> None:
    from app.errors import ERRORS, INTERNAL

    section = README.split("Every error has one shape")[1].split("## Settings")[0]
    rows = re.findall(r"^\| (\d{3}) \| `(\w+)` \| (.*) \|$", section, re.M)
    assert rows == [(str(e.status), e.type, e.when) for e in [*ERRORS.values(), INTERNAL]]


def test_openapi_error_responses_come_from_the_table() -> None:
    from app.errors import ERRORS
    from app.main import create_app

    kinds = {(e.status, e.type) for e in ERRORS.values()}
    spec = create_app(Settings()).openapi()
    seen = set()
    for path, ops in spec["paths"].items():
        for op in ops.values():
            for status, resp in op["responses"].items():
                for t in re.findall(r"`(\w+)`:", resp.get("description", "")):
                    assert (int(status), t) in kinds, (path, status, t)
                    seen.add((path, int(status), t))
    for status, t in [(429, "queue_full"), (413, "too_many_items"), (503, "shutting_down"), (500, "inference_failed")]:
        assert ("/gate", status, t) in seen and ("/score", status, t) in seen
    assert ("/admin/reload", 409, "reload_failed") in seen
