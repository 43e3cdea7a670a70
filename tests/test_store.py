import json
import os
from pathlib import Path

import pytest

from model_store import (
    ChecksumMismatch,
    InvalidVersionName,
    ManifestError,
    ModelStore,
    VersionNotFound,
    new_version_id,
)
from model_store.loader import load_version


def _write(d: Path) -> None:
    (d / "model.safetensors").write_bytes(b"weights")
    (d / "config.json").write_text("{}")


def test_publish_promote_rollback(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    a = store.publish("m", _write, {"note": "a"})
    b = store.publish("m", _write, {"note": "b"})
    assert store.list_versions("m") == sorted([a.id, b.id])
    assert store.current("m") == b.id
    assert store.resolve("m").manifest["note"] == "b"
    assert set(b.manifest["files"]) == {"model.safetensors", "config.json"}
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
    good = store.publish("m", _write, {})

    def half(d: Path) -> None:
        (d / "model.safetensors").write_bytes(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        store.publish("m", half, {})
    assert store.list_versions("m") == [good.id]
    assert store.current("m") == good.id
    assert not [p for p in (tmp_path / "m").iterdir() if p.name.startswith(".tmp-")]


def test_killed_publish_is_invisible(tmp_path: Path) -> None:
    """A process killed mid-write leaves only a .tmp directory, which no reader lists."""
    store = ModelStore(tmp_path)
    good = store.publish("m", _write, {})
    stale = tmp_path / "m" / ".tmp-20990101T000000000000Z-dead00"
    stale.mkdir()
    (stale / "model.safetensors").write_bytes(b"x")
    assert store.list_versions("m") == [good.id]
    assert store.resolve("m").id == good.id


def test_publish_refuses_without_safetensors(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    with pytest.raises(ManifestError):
        store.publish("m", lambda d: (d / "pytorch_model.bin").write_bytes(b"pickle"), {})
    assert store.list_versions("m") == []


def test_checksum_mismatch_is_refused(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    v = store.publish("m", _write, {})
    store.verify(v)
    (v.path / "model.safetensors").write_bytes(b"weightz")
    with pytest.raises(ChecksumMismatch, match=r"model\.safetensors"):
        store.verify(v)
    (v.path / "model.safetensors").unlink()
    with pytest.raises(ChecksumMismatch, match="missing"):
        store.verify(v)


def test_manifest_faults(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    v = store.publish("m", _write, {})
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
    store.publish("m", _write, {})
    with pytest.raises(InvalidVersionName):
        store.resolve("m", bad)


def test_symlinked_version_is_refused(tmp_path: Path) -> None:
    store = ModelStore(tmp_path / "store")
    v = store.publish("m", _write, {})
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
    for key in (
        "created_at",
        "base_model",
        "dtype",
        "input",
        "training_config",
        "data",
        "metrics",
        "score_stats",
        "threshold",
        "files",
    ):
        assert key in m, key
    assert m["dtype"] == "bfloat16"
    assert m["input"]["truncation_side"] == "left"
