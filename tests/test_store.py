"""The store contract (``model_store.contract.Store``) tested once, through the contract, against
every backend: a local directory and a live S3 server (SeaweedFS; those tests skip, saying why,
where its binary is absent). Backend-specific behaviour (symlinks, the object store's cache and
lease expiry) is tested after the shared suite."""

import ast
import importlib
import inspect
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from model_store import (
    ChecksumMismatch,
    EvalMetrics,
    InputSpec,
    InvalidVersionName,
    ManifestError,
    ModelStore,
    PinnedEval,
    PromotionRefused,
    Store,
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


def _info(note: str = "", pinned: tuple[float, str] | None = None) -> VersionInfo:
    return VersionInfo(
        created_at="2026-01-01T00:00:00Z",
        base_model=note or "test",
        architecture="opt",
        dtype="bfloat16",
        input=InputSpec(),
        threshold=Threshold(value=0.5, method="fixed"),
        pinned_eval=None
        if pinned is None
        else PinnedEval(
            sha256=pinned[1],
            metrics=EvalMetrics(
                pairs=10, accuracy=pinned[0], mean_margin=1, roc_auc=pinned[0], score_mean=0, score_std=1
            ),
        ),
    )


# Every backend the shared suite runs against. A new backend adds its kind here and its ways of
# damaging what it stores in ``Backend``.
BACKENDS = ["local", "s3"]


class Backend:
    """One store backend under test, with the ways a test damages what it stores (from outside
    the contract, as a fault or another process would)."""

    def __init__(self, kind: str, tmp_path: Path, s3: Any = None) -> None:
        self.kind = kind
        self.tmp_path = tmp_path
        self.s3 = s3
        if kind == "local":
            self.location = str(tmp_path / "store")
            self.options: dict[str, Any] | None = None
        else:
            self.location = s3.new_store_url()
            self.options = s3.options
        self._readers = 0
        self.store = self.reader()

    def reader(self) -> Store:
        """A store object with a cache of its own: what another process or machine would see."""
        self._readers += 1
        return open_store(self.location, self.options, cache=self.tmp_path / f"cache-{self._readers}")

    def env(self) -> dict[str, str]:
        """The environment a separate process (the CLI) reaches this store with."""
        extra = {} if self.s3 is None else {**self.s3.env(), "REWARDGATE_CACHE": str(self.tmp_path / "cli-cache")}
        return {**os.environ, **extra}

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "model_store", "--store", self.location, "--name", "m", *args]
        return subprocess.run(cmd, cwd=ROOT, env=self.env(), capture_output=True, text=True, timeout=120)

    @property
    def objects(self) -> ObjectStore:
        assert isinstance(self.store, ObjectStore)
        return self.store

    def put(self, version: Version, rel: str, data: bytes | None) -> None:
        """Overwrite (``None``: delete) one file of a stored version, as a fault would."""
        if self.kind == "local":
            path = version.path / rel
            path.unlink() if data is None else path.write_bytes(data)
            return
        key = self.objects.key(version.name, "versions", version.id, rel)
        self.objects.fs.rm_file(key) if data is None else self.objects.fs.pipe_file(key, data)

    def get(self, version: Version, rel: str) -> bytes:
        if self.kind == "local":
            return (version.path / rel).read_bytes()
        return bytes(self.objects.fs.cat_file(self.objects.key(version.name, "versions", version.id, rel)))

    def set_current(self, name: str, text: str) -> None:
        if self.kind == "local":
            (Path(self.location) / name / "current").write_text(text)
        else:
            self.objects.fs.pipe_file(self.objects.key(name, "current"), text.encode())

    def partial_upload(self, name: str, vid: str) -> str:
        """What a publish killed before its manifest leaves behind; returns the name gc gives it."""
        if self.kind == "local":
            stale = Path(self.location) / name / f".tmp-{vid}"
            stale.mkdir(parents=True)
            (stale / "model.safetensors").write_bytes(b"x")
            return stale.name
        self.objects.fs.pipe_file(self.objects.key(name, "versions", vid, "model.safetensors"), b"x")
        return vid

    def foreign_lease(self, name: str, vid: str, holder: str) -> None:
        """A lease that another process recorded."""
        if self.kind == "local":
            path = Path(self.location) / name / "leases" / vid / holder
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch()
        else:
            key = self.objects.key(name, "leases", vid, holder)
            self.objects.fs.pipe_file(key, json.dumps({"time": time.time()}).encode())


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    s3 = request.getfixturevalue("s3") if request.param == "s3" else None
    return Backend(request.param, tmp_path, s3)


# -- the contract, through every backend ------------------------------------------------------------
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
    with pytest.raises(VersionNotFound, match="no earlier version"):
        store.rollback("m")
    # a reader on another machine gets the files through its own cache, verified
    got = other.resolve("m", b.id)
    other.verify(got)
    assert (got.path / "model.safetensors").read_bytes() == b"weights"


def test_version_ids_sort_by_time_and_are_unique(backend: Backend) -> None:
    """Every backend names versions with ``policy.new_version_id``, and the object store orders
    its promotion history with it: ids made within one second must still sort in the order they
    were made, or ``list_versions`` and rollback go out of order."""
    ids = [new_version_id() for _ in range(200)]
    assert len(set(ids)) == 200 and ids == sorted(ids)
    store = backend.store
    published = [store.publish("m", _write, _info(), make_current=False).id for _ in range(10)]
    assert len(set(published)) == 10 and published == sorted(published)
    assert backend.reader().list_versions("m") == published
    for vid in (published[7], published[2], published[5]):
        store.promote("m", vid)
    other = backend.reader()
    assert [other.rollback("m"), other.rollback("m")] == [published[2], published[7]]


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
    assert store.stale_partials("m", 0) == []


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
    proc = subprocess.run(
        [sys.executable, "-c", _KILLED, backend.location, str(backend.tmp_path / "killed-cache")],
        cwd=ROOT,
        env=backend.env(),
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
def test_invalid_manifest_is_a_clear_store_error(backend: Backend, change: object, message: str) -> None:
    v = backend.store.publish("m", _write, _info())
    m = json.loads(backend.get(v, "manifest.json"))
    change(m)  # type: ignore[operator]
    backend.put(v, "manifest.json", json.dumps(m).encode())
    with pytest.raises(ManifestError, match=message):
        backend.reader().resolve("m", v.id)


def test_version_names_cannot_escape(backend: Backend) -> None:
    backend.store.publish("m", _write, _info())
    for bad in ["../m", "/etc", "a/b", "..", "x/../../y", "", ".hidden"]:
        with pytest.raises(InvalidVersionName):
            backend.store.resolve("m", bad)
        with pytest.raises(InvalidVersionName):
            backend.store.lease("m", bad)
    with pytest.raises(InvalidVersionName):
        backend.store.list_versions("../other")


def test_promotion_is_refused_on_the_pinned_set_unless_forced(backend: Backend) -> None:
    store = backend.store
    pinned = backend.tmp_path / "pinned.jsonl"
    pinned.write_text(json.dumps({"chosen": "good", "rejected": "bad"}) + "\n")
    store.publish("m", _write, _info())  # before any set is pinned: no rule
    sha = store.pin_eval("m", pinned)
    other = backend.reader()
    got = other.pinned_eval("m")
    assert got is not None and got[1] == sha
    base = store.publish("m", _write, _info(pinned=(0.90, sha))).id  # current had no figures
    worse = store.publish("m", _write, _info(pinned=(0.80, sha)), make_current=False).id
    with pytest.raises(PromotionRefused, match=r"0\.8000, 0\.1000 below current"):
        other.promote("m", worse)
    close = store.publish("m", _write, _info(pinned=(0.895, sha)), make_current=False).id
    other.promote("m", close)  # within the 0.01 tolerance
    unscored = store.publish("m", _write, _info(pinned=(0.99, "another-set")), make_current=False).id
    assert "no figures on the pinned evaluation set" in (other.promotion_refusal("m", _info()) or "")
    with pytest.raises(PromotionRefused, match="no figures"):
        other.promote("m", unscored)
    other.promote("m", worse, force=True)
    assert store.current("m") == worse
    assert store.rollback("m") == close and store.rollback("m") == base


def test_leases_are_seen_by_every_reader(backend: Backend) -> None:
    store = backend.store
    v = store.publish("m", _write, _info())
    store.lease("m", v.id)
    store.lease("m", v.id)  # renewing is recording again
    holder = f"{socket.gethostname()}-{os.getpid()}"
    assert backend.reader().holders("m", v.id) == [holder]
    backend.foreign_lease("m", v.id, "other-host-1")  # another host's process cannot be checked: live
    assert sorted(backend.reader().holders("m", v.id)) == sorted([holder, "other-host-1"])
    store.release("m", v.id)
    store.release("m", v.id)  # never raises
    assert backend.reader().holders("m", v.id) == ["other-host-1"]


def test_gc_keeps_current_history_newest_and_leased(backend: Backend) -> None:
    store = backend.store
    ids = [store.publish("m", _write, _info(), make_current=False).id for _ in range(6)]
    store.promote("m", ids[0])
    store.promote("m", ids[2])  # history: 0, 2; current: 2
    store.lease("m", ids[1])  # a running service (this process) holds version 1
    backend.foreign_lease("m", ids[3], f"{socket.gethostname()}-999999999")  # its process is gone: stale
    partial = backend.partial_upload("m", new_version_id())

    dry = store.gc("m", keep=1, dry_run=True)
    assert dry.removed == [ids[3], ids[4]] and store.list_versions("m") == ids
    res = store.gc("m", keep=1)
    assert res.removed == [ids[3], ids[4]]
    assert res.temp_removed == []  # younger than an hour: a publish may still be under way
    assert backend.reader().list_versions("m") == [ids[0], ids[1], ids[2], ids[5]]
    assert store.gc("m", keep=1, tmp_age_s=0).temp_removed == [partial]
    assert store.stale_partials("m", 0) == []
    store.release("m", ids[1])
    assert store.gc("m", keep=0).removed == [ids[1], ids[5]]
    assert store.current("m") == ids[2] and store.rollback("m") == ids[0]
    with pytest.raises(ValueError, match="keep must be >= 0"):
        store.gc("m", keep=-1)


def test_cli(backend: Backend) -> None:
    """``python -m model_store`` reaches every backend by its location."""
    store = backend.store
    ids = [store.publish("m", _write, _info(), make_current=False).id for _ in range(3)]
    assert backend.cli("current").returncode == 1
    assert backend.cli("promote", ids[1]).stdout.strip() == ids[1]
    assert backend.cli("promote", ids[2]).stdout.strip() == ids[2]
    listed = backend.cli("list").stdout.splitlines()
    assert [line.split()[-4] for line in listed] == ids[::-1]
    assert listed[0].startswith("*") and "accuracy=None" in listed[0]
    assert json.loads(backend.cli("verify").stdout) == {"version": ids[2], "verified": True}
    assert backend.cli("rollback").stdout.strip() == ids[1] and backend.cli("current").stdout.strip() == ids[1]
    dry = backend.cli("gc", "--keep", "1", "--dry-run")
    assert dry.stdout.splitlines() == [f"would remove {ids[0]}", "kept 2 version(s)"]
    out = backend.cli("gc", "--keep", "1")
    assert out.stdout.splitlines() == [f"removed {ids[0]}", "kept 2 version(s)"]
    bad = backend.cli("gc", "--keep", "-1")
    assert bad.returncode == 2 and "keep must be >= 0" in bad.stderr


# -- the contract itself ----------------------------------------------------------------------------
def _store_modules() -> dict[str, Any]:
    return {p.stem: importlib.import_module(f"model_store.{p.stem}") for p in (ROOT / "model_store").glob("*.py")}


def test_backends_stand_on_the_contract_alone() -> None:
    """A backend subclasses ``Store`` and nothing else of the store; no module of the store
    imports another's private name; no backend imports another backend."""
    modules = _store_modules()
    backends = {
        stem
        for stem, mod in modules.items()
        for _, cls in inspect.getmembers(mod, inspect.isclass)
        if issubclass(cls, Store) and cls is not Store and cls.__module__ == mod.__name__
    }
    assert backends == {"store", "object_store"}
    assert ModelStore.__bases__ == (Store,) and ObjectStore.__bases__ == (Store,)
    for stem in modules:
        tree = ast.parse((ROOT / "model_store" / f"{stem}.py").read_text())
        for node in ast.walk(tree):
            if not (isinstance(node, ast.ImportFrom) and node.level):
                continue
            private = [a.name for a in node.names if a.name.startswith("_")]
            assert not private, f"model_store/{stem}.py imports private {private} from .{node.module}"
            if stem in backends:
                assert node.module not in backends, f"backend {stem} imports backend {node.module}"


# -- what one backend does beyond the contract ---------------------------------------------------
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
    assert set(m.evaluations) == {
        "validation, seen phrasings",
        "validation, held-out phrasings and topics",
        "validation, hand-written",
    }
    assert m.gate_check is not None and m.gate_check.pairs >= 150
    assert {"leak", "rude", "evasive", "degenerate", "off_topic", "leak (embedded)", "leak:card"} <= set(
        m.gate_check.blocked
    )
    assert 0.0 <= m.gate_check.accuracy <= 1.0 and m.gate_check.counts["good"] >= 50
    assert (loaded.version.path / "report.md").read_text().startswith(f"# default {m.version}")


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
        key = store.key("m", "leases", vid, "other-host-1")
        store.fs.pipe_file(key, json.dumps({"time": time.time() - age}).encode())
    assert store.holders("m", old) == [] and store.holders("m", kept) == ["other-host-1"]
    assert store.gc("m", keep=0).removed == [old]
