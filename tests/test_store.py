import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from model_store import (
    ChecksumMismatch,
    InputSpec,
    InvalidVersionName,
    ManifestError,
    ModelStore,
    Threshold,
    VersionInfo,
    VersionNotFound,
    new_version_id,
)
from modeling.loader import load_version

ROOT = Path(__file__).resolve().parents[1]


def _write(d: Path) -> None:
    (d / "model.safetensors").write_bytes(b"weights")
    (d / "config.json").write_text("{}")


def _info(note: str = "") -> VersionInfo:
    return VersionInfo(
        created_at="2026-01-01T00:00:00Z",
        base_model=note or "test",
        architecture="opt",
        dtype="bfloat16",
        input=InputSpec(),
        threshold=Threshold(value=0.5, method="fixed"),
    )


def test_publish_promote_rollback(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    a = store.publish("m", _write, _info("a"))
    b = store.publish("m", _write, _info("b"))
    assert store.list_versions("m") == sorted([a.id, b.id])
    assert store.current("m") == b.id
    assert store.resolve("m").manifest.base_model == "b"
    assert set(b.manifest.files) == {"model.safetensors", "config.json"}
    assert store.rollback("m") == a.id
    assert store.current("m") == a.id
    store.promote("m", b.id)
    assert store.current("m") == b.id
    with pytest.raises(VersionNotFound):
        store.promote("m", "nope")


def test_version_ids_sort_by_time_and_are_unique() -> None:
    ids = [new_version_id() for _ in range(200)]
    assert len(set(ids)) == 200
    assert ids == sorted(ids)


def test_failed_write_leaves_no_version_and_current(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    good = store.publish("m", _write, _info())

    def half(d: Path) -> None:
        (d / "model.safetensors").write_bytes(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        store.publish("m", half, _info())
    assert store.list_versions("m") == [good.id]
    assert store.current("m") == good.id
    assert not [p for p in (tmp_path / "m").iterdir() if p.name.startswith(".tmp-")]


def test_killed_publish_is_invisible(tmp_path: Path) -> None:
    """A process killed mid-write leaves only a .tmp directory, which no reader lists."""
    store = ModelStore(tmp_path)
    good = store.publish("m", _write, _info())
    stale = tmp_path / "m" / ".tmp-20990101T000000000000Z-dead00"
    stale.mkdir()
    (stale / "model.safetensors").write_bytes(b"x")
    assert store.list_versions("m") == [good.id]
    assert store.resolve("m").id == good.id


def test_publish_refuses_without_safetensors(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    with pytest.raises(ManifestError):
        store.publish("m", lambda d: (d / "pytorch_model.bin").write_bytes(b"pickle"), _info())
    assert store.list_versions("m") == []


def test_checksum_mismatch_is_refused(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    v = store.publish("m", _write, _info())
    store.verify(v)
    (v.path / "model.safetensors").write_bytes(b"weightz")
    with pytest.raises(ChecksumMismatch, match=r"model\.safetensors"):
        store.verify(v)
    (v.path / "model.safetensors").unlink()
    with pytest.raises(ChecksumMismatch, match="missing"):
        store.verify(v)


def test_manifest_faults(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    v = store.publish("m", _write, _info())
    m = json.loads((v.path / "manifest.json").read_text())
    m["schema_version"] = 99
    (v.path / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(ManifestError, match="schema_version 99"):
        store.resolve("m", v.id)
    (v.path / "manifest.json").unlink()
    with pytest.raises(ManifestError, match="missing"):
        store.resolve("m", v.id)
    (tmp_path / "m" / "current").write_text("20000101T000000000000Z-gone00\n")
    with pytest.raises(VersionNotFound):
        store.resolve("m")


@pytest.mark.parametrize("bad", ["../m", "/etc", "a/b", "..", "x/../../y", "", ".hidden"])
def test_version_names_cannot_escape(tmp_path: Path, bad: str) -> None:
    store = ModelStore(tmp_path)
    store.publish("m", _write, _info())
    with pytest.raises(InvalidVersionName):
        store.resolve("m", bad)


def test_symlinked_version_is_refused(tmp_path: Path) -> None:
    store = ModelStore(tmp_path / "store")
    v = store.publish("m", _write, _info())
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "manifest.json").write_text((v.path / "manifest.json").read_text())
    os.symlink(outside, v.path.parent / "evil")
    with pytest.raises(InvalidVersionName):
        store.resolve("m", "evil")


def test_trained_version_loads_verified(trained_store: dict) -> None:
    store = ModelStore(trained_store["root"])
    loaded = load_version(store, "default", "current", device="cpu")
    assert loaded.id == trained_store["v2"]
    assert not any(p.suffix in (".bin", ".pt", ".pkl") for p in loaded.version.path.iterdir())
    m = loaded.manifest
    assert m.dtype == "bfloat16" and m.input.truncation_side == "left"
    assert m.metrics is not None and m.training_config is not None and m.score_stats is not None
    assert m.data["pairs_train"] > 0 and m.threshold.method == "max_good_blocked"
    assert m.threshold.good_block_rate is not None and m.threshold.good_block_rate <= 0.05
    # the default data's evaluation lands in the manifest: held-out phrasing families, hand-written check
    assert set(m.evaluations) == {"validation, seen phrasings", "validation, held-out phrasings and topics"}
    assert m.gate_check is not None and m.gate_check.pairs >= 150
    assert {"leak", "rude", "evasive", "degenerate", "off_topic", "leak (embedded)", "leak:card"} <= set(
        m.gate_check.blocked
    )
    assert 0.0 <= m.gate_check.accuracy <= 1.0 and m.gate_check.counts["good"] >= 50
    assert (loaded.version.path / "report.md").read_text().startswith(f"# default {m.version}")


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda m: m.pop("input"), "field 'input': field required"),
        (lambda m: m["input"].update(max_length="long"), "field 'input.max_length'"),
        (lambda m: m.update(threshold=None), "field 'threshold'"),
        (lambda m: m.update(files={"config.json": "00"}), "no safetensors"),
        (lambda m: m.update(schema_version="1"), "schema_version '1' is not supported"),
        (lambda m: m.update(surprise=1), "field 'surprise': extra inputs are not permitted"),
    ],
)
def test_invalid_manifest_is_a_clear_store_error(tmp_path: Path, change: object, message: str) -> None:
    store = ModelStore(tmp_path)
    v = store.publish("m", _write, _info())
    m = json.loads((v.path / "manifest.json").read_text())
    change(m)  # type: ignore[operator]
    (v.path / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(ManifestError, match=message):
        store.resolve("m", v.id)


def test_import_is_light_and_list_is_fast(trained_store: dict) -> None:
    code = "import sys, model_store, model_store.__main__; print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    t0 = time.perf_counter()
    res = subprocess.run(
        [sys.executable, "-m", "model_store", "--store", str(trained_store["root"]), "list"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    took = time.perf_counter() - t0
    assert trained_store["v2"] in res.stdout and "accuracy=" in res.stdout
    assert took < 2.0, f"`python -m model_store list` took {took:.2f}s"  # generous: a loaded CI machine


def test_gc_keeps_current_history_newest_and_leased(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    ids = [store.publish("m", _write, _info(), make_current=False).id for _ in range(6)]
    store.promote("m", ids[0])
    store.promote("m", ids[2])  # history: 0, 2; current: 2
    store.lease("m", ids[1])  # a running service (this process) holds version 1
    dead = tmp_path / "m" / "leases" / ids[3]
    (dead / f"{os.uname().nodename}-999999999").parent.mkdir(parents=True)
    (dead / f"{os.uname().nodename}-999999999").touch()  # a lease of a process that is gone: stale
    stale = tmp_path / "m" / f".tmp-{new_version_id()}"
    stale.mkdir()
    os.utime(stale, (time.time() - 7200, time.time() - 7200))
    fresh = tmp_path / "m" / f".tmp-{new_version_id()}"  # a publish still under way
    fresh.mkdir()

    dry = store.gc("m", keep=1, dry_run=True)
    assert dry.removed == [ids[3], ids[4]] and store.list_versions("m") == ids
    res = store.gc("m", keep=1)
    assert res.removed == [ids[3], ids[4]]
    assert store.list_versions("m") == [ids[0], ids[1], ids[2], ids[5]]
    assert res.temp_removed == [stale.name] and fresh.is_dir() and not stale.exists()
    store.release("m", ids[1])
    assert store.gc("m", keep=0).removed == [ids[1], ids[5]]
    assert store.current("m") == ids[2] and store.rollback("m") == ids[0]


def test_gc_command(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    ids = [store.publish("m", _write, _info()).id for _ in range(3)]
    (tmp_path / "m" / "history").write_text(ids[-1] + "\n")
    cmd = [sys.executable, "-m", "model_store", "--store", str(tmp_path), "--name", "m", "gc", "--keep", "1"]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == [f"removed {ids[0]}", f"removed {ids[1]}", "kept 1 version(s)"]
    bad = subprocess.run([*cmd[:-1], "-1"], cwd=ROOT, capture_output=True, text=True)
    assert bad.returncode == 2 and "keep must be >= 0" in bad.stderr
