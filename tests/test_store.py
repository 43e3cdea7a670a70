import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from model_store import (
    ChecksumMismatch,
    InputSpec,
    InvalidVersionName,
    ManifestError,
    ModelStore,
    Threshold,
    Version,
    VersionInfo,
    VersionNotFound,
    new_version_id,
    open_store,
)
from model_store.object_store import ObjectStore
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


class Backend:
    """One store backend under test, with the ways a test damages what it stores."""

    def __init__(self, kind: str, tmp_path: Path, s3: Any = None) -> None:
        self.kind = kind
        self.tmp_path = tmp_path
        if kind == "local":
            self.location = str(tmp_path / "store")
            self.options: dict[str, Any] | None = None
        else:
            self.location = s3.new_store_url()
            self.options = s3.options
        self.store = self.reader()

    def reader(self) -> ModelStore:
        """A store object with a cache of its own: what another process or machine would see."""
        cache = self.tmp_path / f"cache-{secrets.token_hex(3)}"
        return open_store(self.location, self.options, cache=cache)

    def _key(self, name: str, *parts: str) -> str:
        assert isinstance(self.store, ObjectStore)
        return self.store._key(name, *parts)

    def put(self, version: Version, rel: str, data: bytes | None) -> None:
        """Overwrite (``None``: delete) one file of a stored version, as a fault would."""
        if self.kind == "local":
            path = version.path / rel
            path.unlink() if data is None else path.write_bytes(data)
            return
        key = self._key(version.name, "versions", version.id, rel)
        self.store.fs.rm_file(key) if data is None else self.store.fs.pipe_file(key, data)  # type: ignore[attr-defined]

    def get(self, version: Version, rel: str) -> bytes:
        if self.kind == "local":
            return (version.path / rel).read_bytes()
        return bytes(self.store.fs.cat_file(self._key(version.name, "versions", version.id, rel)))  # type: ignore[attr-defined]

    def set_current(self, name: str, text: str) -> None:
        if self.kind == "local":
            (Path(self.location) / name / "current").write_text(text)
        else:
            self.store.fs.pipe_file(self._key(name, "current"), text.encode())  # type: ignore[attr-defined]

    def partial_upload(self, name: str, vid: str) -> None:
        """What a publish killed before its manifest leaves behind."""
        if self.kind == "local":
            stale = Path(self.location) / name / f".tmp-{vid}"
            stale.mkdir(parents=True)
            (stale / "model.safetensors").write_bytes(b"x")
        else:
            self.store.fs.pipe_file(self._key(name, "versions", vid, "model.safetensors"), b"x")  # type: ignore[attr-defined]


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    s3 = request.getfixturevalue("s3") if request.param == "s3" else None
    return Backend(request.param, tmp_path, s3)


def test_publish_promote_rollback(backend: Backend) -> None:
    store = backend.store
    a = store.publish("m", _write, _info("a"))
    b = store.publish("m", _write, _info("b"))
    other = backend.reader()
    assert other.list_versions("m") == sorted([a.id, b.id])
    assert other.current("m") == b.id
    assert other.resolve("m").manifest.base_model == "b"
    assert set(b.manifest.files) == {"model.safetensors", "config.json"}
    assert store.rollback("m") == a.id
    assert other.current("m") == a.id
    store.promote("m", b.id)
    assert other.current("m") == b.id
    assert other.rollback("m") == a.id and store.current("m") == a.id
    with pytest.raises(VersionNotFound):
        store.promote("m", "nope")
    # a reader on another machine gets the files through its own cache, verified
    got = other.resolve("m", b.id)
    other.verify(got)
    assert (got.path / "model.safetensors").read_bytes() == b"weights"


def test_version_ids_sort_by_time_and_are_unique() -> None:
    ids = [new_version_id() for _ in range(200)]
    assert len(set(ids)) == 200
    assert ids == sorted(ids)


def test_failed_write_leaves_no_version_and_current(backend: Backend) -> None:
    store = backend.store
    good = store.publish("m", _write, _info())

    def half(d: Path) -> None:
        (d / "model.safetensors").write_bytes(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        store.publish("m", half, _info())
    assert backend.reader().list_versions("m") == [good.id]
    assert backend.reader().current("m") == good.id
    if backend.kind == "local":
        assert not [p for p in (Path(backend.location) / "m").iterdir() if p.name.startswith(".tmp-")]


def test_leftovers_of_a_killed_publish_are_invisible(backend: Backend) -> None:
    """A publish that died leaves files without a manifest, which no reader lists."""
    store = backend.store
    good = store.publish("m", _write, _info())
    backend.partial_upload("m", "20990101T000000000000Z-dead00")
    reader = backend.reader()
    assert reader.list_versions("m") == [good.id]
    assert reader.resolve("m").id == good.id


_KILLED = """
import os, signal, sys
from model_store import open_store, InputSpec, Threshold, VersionInfo
from model_store.object_store import ObjectStore
store = open_store(sys.argv[1], None, cache=sys.argv[2])
info = VersionInfo(created_at="2026-01-01T00:00:00Z", base_model="killed", architecture="opt",
                   dtype="bfloat16", input=InputSpec(), threshold=Threshold(value=0.5, method="fixed"))
def write(d):
    for i in range(4):
        (d / f"part-{i}.safetensors").write_bytes(os.urandom(1000))
    if not isinstance(store, ObjectStore):
        os.kill(os.getpid(), signal.SIGKILL)  # local: killed while writing its files
if isinstance(store, ObjectStore):
    real = store.fs.put_file
    calls = []
    def put_then_die(*a, **k):
        real(*a, **k)
        calls.append(1)
        if len(calls) == 2:
            os.kill(os.getpid(), signal.SIGKILL)  # S3: killed between two uploads
    store.fs.put_file = put_then_die
store.publish("m", write, info)
"""


def test_publish_killed_midway_leaves_current(backend: Backend) -> None:
    good = backend.store.publish("m", _write, _info())
    env = {**os.environ, **({} if backend.options is None else _s3_env(backend.options))}
    proc = subprocess.run(
        [sys.executable, "-c", _KILLED, backend.location, str(backend.tmp_path / "killed-cache")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == -9, proc.stderr
    reader = backend.reader()
    assert reader.list_versions("m") == [good.id]
    assert reader.current("m") == good.id
    reader.verify(reader.resolve("m"))
    res = reader.gc("m", keep=5, tmp_age_s=0)
    assert len(res.temp_removed) == 1 and res.removed == []


def _s3_env(options: dict[str, Any]) -> dict[str, str]:
    return {
        "REWARDGATE_STORE_OPTIONS": json.dumps({"endpoint_url": options["endpoint_url"]}),
        "AWS_ACCESS_KEY_ID": options["key"],
        "AWS_SECRET_ACCESS_KEY": options["secret"],
    }


def test_publish_refuses_without_safetensors(backend: Backend) -> None:
    store = backend.store
    with pytest.raises(ManifestError):
        store.publish("m", lambda d: (d / "pytorch_model.bin").write_bytes(b"pickle"), _info())
    assert backend.reader().list_versions("m") == []


def test_checksum_mismatch_is_refused(backend: Backend) -> None:
    v = backend.store.publish("m", _write, _info())
    backend.reader().verify(v)
    backend.put(v, "model.safetensors", b"weightz")
    reader = backend.reader()
    with pytest.raises(ChecksumMismatch, match=r"model\.safetensors"):
        reader.verify(reader.resolve("m", v.id))
    backend.put(v, "model.safetensors", None)
    reader = backend.reader()
    with pytest.raises(ChecksumMismatch, match="missing"):
        reader.verify(reader.resolve("m", v.id))


def test_damaged_cache_is_fetched_again(s3: Any, tmp_path: Path) -> None:
    """The S3 reader's cache is reused across restarts, and re-fetched where it no longer verifies."""
    b = Backend("s3", tmp_path, s3)
    v = b.store.publish("m", _write, _info())
    cache = tmp_path / "service-cache"
    first = open_store(b.location, b.options, cache=cache)
    got = first.resolve("m")
    first.verify(got)
    (got.path / "model.safetensors").write_bytes(b"tampered")
    again = open_store(b.location, b.options, cache=cache)  # a restart
    again.verify(again.resolve("m"))
    assert (got.path / "model.safetensors").read_bytes() == b"weights"
    assert got.path == again.resolve("m", v.id).path


def test_manifest_faults(backend: Backend) -> None:
    store = backend.store
    v = store.publish("m", _write, _info())
    m = json.loads(backend.get(v, "manifest.json"))
    m["schema_version"] = 99
    backend.put(v, "manifest.json", json.dumps(m).encode())
    with pytest.raises(ManifestError, match="schema_version 99"):
        backend.reader().resolve("m", v.id)
    backend.put(v, "manifest.json", None)
    with pytest.raises(ManifestError, match="missing"):
        backend.reader().resolve("m", v.id)
    backend.set_current("m", "20000101T000000000000Z-gone00\n")
    with pytest.raises(VersionNotFound):
        backend.reader().resolve("m")


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


def test_unreachable_object_store_is_an_error_not_an_empty_store(tmp_path: Path) -> None:
    """`make run` trains when `current` says "no model" (exit 1): a store that does not answer must
    say so (exit 2), or every replica would start training."""
    from .conftest import free_port

    env = {
        **os.environ,
        "REWARDGATE_STORE_OPTIONS": json.dumps({"endpoint_url": f"http://127.0.0.1:{free_port()}"}),
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "secret-never-logged",
        "AWS_MAX_ATTEMPTS": "1",
        "REWARDGATE_CACHE": str(tmp_path),
    }
    cmd = [sys.executable, "-m", "model_store", "--store", "s3://nowhere/store", "current"]
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 2, out.stderr[-2000:]
    assert "did not answer" in out.stderr and "secret-never-logged" not in out.stderr


def test_object_store_leases_expire_unless_renewed(s3: Any, tmp_path: Path) -> None:
    """A pod that died cannot release its lease: on object storage a lease not renewed within
    LEASE_TTL_S is stale, so gc may delete the version; a renewed one keeps it."""
    from model_store.object_store import LEASE_TTL_S

    b = Backend("s3", tmp_path, s3)
    store = b.store
    assert isinstance(store, ObjectStore)
    old, kept = (store.publish("m", _write, _info(), make_current=False).id for _ in range(2))
    for vid, age in ((old, LEASE_TTL_S + 60), (kept, 60)):
        key = store._key("m", "leases", vid, "other-host-1")
        store.fs.pipe_file(key, json.dumps({"time": time.time() - age}).encode())
    assert store.holders("m", old) == [] and store.holders("m", kept) == ["other-host-1"]
    assert store.gc("m", keep=0).removed == [old]
