"""The on-disk model store: the only link between training (writer) and the service (reader).

Layout::

    <root>/<name>/versions/<version-id>/   weights, config, tokenizer files, manifest.json
    <root>/<name>/current                  one version id, replaced atomically
    <root>/<name>/history                  ids that were made current, oldest first (for rollback)
    <root>/<name>/leases/<version-id>/     one file per running service that has this version
                                           loaded (``<host>-<pid>``): ``gc`` never deletes it

A version is written in a temporary directory beside ``versions/`` and renamed into place, so a
reader never sees a half-written version; ``current`` is only ever replaced with ``os.replace``.
Nothing here imports torch or transformers: listing or promoting versions stays cheap.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .errors import ChecksumMismatch, InvalidVersionName, ManifestError, PromotionRefused, VersionNotFound
from .manifest import MANIFEST, SCHEMA_VERSION, Manifest, VersionInfo, dump_manifest, parse_manifest, read_manifest

log = logging.getLogger(__name__)

DEFAULT_ROOT = Path(__file__).resolve().parent / "models"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def default_root() -> str:
    """``REWARDGATE_STORE`` if set (a directory or an fsspec URL such as ``s3://bucket/prefix``),
    else ``model_store/models`` beside this package."""
    return os.environ.get("REWARDGATE_STORE") or str(DEFAULT_ROOT)


def check_name(value: str, what: str = "version") -> str:
    """Refuse anything that could escape the store (``..``, slashes, absolute paths)."""
    if not isinstance(value, str) or not _NAME_RE.match(value) or ".." in value:
        raise InvalidVersionName(f"invalid {what} name {value!r}: use letters, digits, '.', '_', '-'")
    return value


def new_version_id() -> str:
    """Sortable by creation time (UTC, microseconds) and unique (random suffix)."""
    now = time.time()
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now))
    return f"{stamp}{int(now % 1 * 1e6):06d}Z-{secrets.token_hex(3)}"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_text_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_path(path.parent)


@dataclass(frozen=True)
class Version:
    name: str
    id: str
    path: Path
    manifest: Manifest


@dataclass
class GcResult:
    removed: list[str]
    kept: list[str]
    temp_removed: list[str]


def seal(tmp: Path, info: VersionInfo, name: str, vid: str) -> Manifest:
    """The manifest of the version written in ``tmp``: the writer's ``info`` plus the sha256 of
    every file. Refuses a version without safetensors weights."""
    files = {
        p.relative_to(tmp).as_posix(): sha256_file(p)
        for p in sorted(tmp.rglob("*"))
        if p.is_file() and p.name != MANIFEST
    }
    if not any(f.endswith(".safetensors") for f in files):
        raise ManifestError("refusing to publish a version without safetensors weights")
    return parse_manifest(
        {**info.model_dump(), "schema_version": SCHEMA_VERSION, "name": name, "version": vid, "files": files}, vid
    )


class ModelStore:
    """The store in a local (or mounted) directory. ``open_store`` picks this or ``ObjectStore``."""

    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root) if root is not None else Path(default_root())
        self.location = str(self.root)  # what messages name the store by

    # -- paths ---------------------------------------------------------------------------
    def model_dir(self, name: str) -> Path:
        return self.root / check_name(name, "model")

    def version_dir(self, name: str, version: str) -> Path:
        path = self.model_dir(name) / "versions" / check_name(version)
        # A symlinked version could point anywhere on disk: only real directories count.
        versions = (self.model_dir(name) / "versions").resolve()
        if path.is_symlink() or (path.exists() and path.resolve().parent != versions):
            raise InvalidVersionName(f"version {version!r} is not a directory inside the store")
        return path

    # -- reading -------------------------------------------------------------------------
    def list_versions(self, name: str) -> list[str]:
        """Published version ids, oldest first (ids sort by time)."""
        vdir = self.model_dir(name) / "versions"
        if not vdir.is_dir():
            return []
        return sorted(p.name for p in vdir.iterdir() if _NAME_RE.match(p.name) and (p / MANIFEST).is_file())

    def current(self, name: str) -> str | None:
        path = self.model_dir(name) / "current"
        try:
            text = path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        return text or None

    def version_id(self, name: str, version: str = "current") -> str:
        """``version`` itself, or the id ``current`` points at."""
        if version != "current":
            return check_name(version)
        cur = self.current(name)
        if cur is None:
            raise VersionNotFound(f"model {name!r} has no current version in {self.location}")
        return cur

    def resolve(self, name: str, version: str = "current") -> Version:
        """The version ``version`` names ("current" follows the pointer), manifest read but files
        not yet verified (``verify`` does that)."""
        vid = self.version_id(name, version)
        path = self.version_dir(name, vid)
        if not path.is_dir():
            raise VersionNotFound(f"model {name!r} has no version {vid!r} in {self.location}")
        return Version(name=name, id=vid, path=path, manifest=read_manifest(path))

    def verify(self, version: Version) -> None:
        """Recompute every recorded sha256; raise ``ChecksumMismatch`` on any difference."""
        for rel, expected in version.manifest.files.items():
            path = version.path / check_file_name(rel)
            if not path.is_file():
                raise ChecksumMismatch(f"version {version.id}: file {rel} is missing")
            got = sha256_file(path)
            if got != expected:
                raise ChecksumMismatch(
                    f"version {version.id}: {rel} has sha256 {got[:12]}…, manifest says {expected[:12]}…"
                )

    # -- writing -------------------------------------------------------------------------
    def publish(
        self,
        name: str,
        write: Callable[[Path], None],
        info: VersionInfo,
        make_current: bool = True,
        version_id: str | None = None,
        tolerance: float = 0.01,
    ) -> Version:
        """Write a new version atomically. ``write(dir)`` puts the model files in ``dir``; the
        store adds checksums and the manifest, fsyncs, renames into place and, only if asked,
        moves ``current``. Any failure removes the temporary directory and leaves ``current``."""
        vid = check_name(version_id or new_version_id())
        mdir = self.model_dir(name)
        versions = mdir / "versions"
        versions.mkdir(parents=True, exist_ok=True)
        tmp = mdir / f".tmp-{vid}"
        try:
            tmp.mkdir()
            write(tmp)
            full = seal(tmp, info, name, vid)
            (tmp / MANIFEST).write_text(dump_manifest(full), encoding="utf-8")
            for p in tmp.rglob("*"):
                _fsync_path(p)
            _fsync_path(tmp)
            os.rename(tmp, versions / vid)
            _fsync_path(versions)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        log.info("published %s/%s", name, vid)
        if make_current:
            self.promote(name, vid, tolerance)
        return self.resolve(name, vid)

    # -- the pinned evaluation set and the promotion rule -------------------------------------
    def pin_eval(self, name: str, source: Path) -> str:
        """Pin ``source`` (any preference data file) as the evaluation set of ``name``: every
        later publish is scored on it, and ``promote`` compares versions on it. Returns its sha256."""
        edir = self.model_dir(name) / "eval"
        edir.mkdir(parents=True, exist_ok=True)
        suffix = "".join(source.suffixes[-2:]) if source.name.endswith(".gz") else source.suffix
        for old in edir.glob("pinned.*"):
            old.unlink()
        tmp = edir / f".pinned.{secrets.token_hex(4)}.tmp"
        shutil.copyfile(source, tmp)
        os.replace(tmp, edir / f"pinned{suffix}")
        _fsync_path(edir)
        return sha256_file(edir / f"pinned{suffix}")

    def pinned_eval(self, name: str) -> tuple[Path, str] | None:
        """The pinned evaluation file of ``name`` and its sha256, if one is pinned."""
        edir = self.model_dir(name) / "eval"
        found = sorted(edir.glob("pinned.*")) if edir.is_dir() else []
        return (found[0], sha256_file(found[0])) if found else None

    def promotion_refusal(self, name: str, candidate: VersionInfo, tolerance: float = 0.01) -> str | None:
        """Why ``candidate`` may not replace ``current`` (None: it may): with a pinned set, its
        pairwise accuracy there may be below current's by at most ``tolerance``."""
        pinned = self.pinned_eval(name)
        if pinned is None:
            return None
        sha = pinned[1]
        if candidate.pinned_eval is None or candidate.pinned_eval.sha256 != sha:
            return f"it has no figures on the pinned evaluation set {pinned[0].name} (sha256 {sha[:12]}…)"
        cur_id = self.current(name)
        if cur_id is None:
            return None
        cur = self.resolve(name, cur_id).manifest
        if cur.pinned_eval is None or cur.pinned_eval.sha256 != sha:
            return None  # nothing to compare against: the current version predates this pinned set
        new_acc, cur_acc = candidate.pinned_eval.metrics.accuracy, cur.pinned_eval.metrics.accuracy
        if new_acc < cur_acc - tolerance:
            return (
                f"its accuracy on the pinned set is {new_acc:.4f}, {cur_acc - new_acc:.4f} below current "
                f"{cur_id} ({cur_acc:.4f}); the tolerance is {tolerance}"
            )
        return None

    def promote(self, name: str, version: str, tolerance: float = 0.01, force: bool = False) -> None:
        """Make ``version`` current. With a pinned evaluation set, a version worse than current
        beyond ``tolerance`` is refused (``PromotionRefused``) unless ``force``, which is recorded
        in ``<name>/promotions.jsonl``."""
        found = self.resolve(name, version)
        reason = self.promotion_refusal(name, found.manifest, tolerance)
        if reason and not force:
            raise PromotionRefused(f"not promoting {version}: {reason} (--force overrides)")
        mdir = self.model_dir(name)
        with open(mdir / "promotions.jsonl", "a", encoding="utf-8") as f:
            entry = {"time": time.time(), "version": version, "previous": self.current(name), "forced": bool(reason)}
            f.write(json.dumps({**entry, "reason": reason} if reason else entry) + "\n")
        history = self._history(name)
        if not history or history[-1] != version:
            history.append(version)
        _write_text_atomic(mdir / "history", "\n".join(history) + "\n")
        _write_text_atomic(mdir / "current", version + "\n")
        log.info("current %s -> %s", name, version)

    def rollback(self, name: str) -> str:
        """Make the previously current version current again; returns its id."""
        history = [v for v in self._history(name) if (self.model_dir(name) / "versions" / v).is_dir()]
        cur = self.current(name)
        while history and history[-1] == cur:
            history.pop()
        if not history:
            raise VersionNotFound(f"model {name!r} has no earlier version to roll back to")
        target = history[-1]
        mdir = self.model_dir(name)
        _write_text_atomic(mdir / "history", "\n".join(history) + "\n")
        _write_text_atomic(mdir / "current", target + "\n")
        log.info("rolled back %s -> %s", name, target)
        return target

    # -- leases: which versions running services hold --------------------------------------
    def _lease_file(self, name: str, version: str) -> Path:
        return self.model_dir(name) / "leases" / check_name(version) / f"{socket.gethostname()}-{os.getpid()}"

    def lease(self, name: str, version: str) -> None:
        """Record that this process serves ``version``: ``gc`` will not delete it. A store this
        process cannot write (a read-only mount) is still served; the lease is then skipped."""
        path = self._lease_file(name, version)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch()
        except OSError as exc:
            log.warning("cannot record a lease on %s/%s (%s): gc cannot see that it is served", name, version, exc)

    def release(self, name: str, version: str) -> None:
        path = self._lease_file(name, version)
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)
            path.parent.rmdir()  # only when no other holder is left

    def holders(self, name: str, version: str) -> list[str]:
        """Live leases on ``version``. A lease of this host whose process is gone is stale and
        removed; a lease of another host cannot be checked from here and counts as live."""
        ldir = self.model_dir(name) / "leases" / check_name(version)
        if not ldir.is_dir():
            return []
        live = []
        here = socket.gethostname()
        for f in ldir.iterdir():
            host, _, pid = f.name.rpartition("-")
            if host == here and pid.isdigit() and not _pid_alive(int(pid)):
                f.unlink(missing_ok=True)
                continue
            live.append(f.name)
        return live

    # -- housekeeping ----------------------------------------------------------------------
    def gc(self, name: str, keep: int, tmp_age_s: float = 3600.0, dry_run: bool = False) -> GcResult:
        """Delete old versions of ``name``, except ``current``, every version in the promotion
        history, the ``keep`` newest and any version a running service holds a lease on; remove
        temporary directories of publishes that died more than ``tmp_age_s`` ago."""
        if keep < 0:
            raise ValueError("keep must be >= 0")
        versions = self.list_versions(name)
        protected = set(self._history(name)) | set(versions[len(versions) - keep :] if keep else [])
        cur = self.current(name)
        if cur:
            protected.add(cur)
        result = GcResult(removed=[], kept=[], temp_removed=[])
        for vid in versions:
            # the lease is checked last, just before deleting, to keep the race with a loading
            # service as short as it can be
            if vid in protected or self.holders(name, vid):
                result.kept.append(vid)
                continue
            result.removed.append(vid)
            if not dry_run:
                self._remove_version(name, vid)
                log.info("gc: removed %s/%s", name, vid)
        for partial in self._stale_partials(name, tmp_age_s):
            result.temp_removed.append(partial)
            if not dry_run:
                self._remove_partial(name, partial)
        return result

    def _remove_version(self, name: str, vid: str) -> None:
        shutil.rmtree(self.version_dir(name, vid))

    def _stale_partials(self, name: str, age_s: float) -> list[str]:
        """Temporary directories of publishes that died more than ``age_s`` ago."""
        mdir = self.model_dir(name)
        now = time.time()
        tmps = sorted(mdir.glob(".tmp-*")) if mdir.is_dir() else []
        return [t.name for t in tmps if t.is_dir() and now - t.stat().st_mtime >= age_s]

    def _remove_partial(self, name: str, partial: str) -> None:
        shutil.rmtree(self.model_dir(name) / partial, ignore_errors=True)

    def _history(self, name: str) -> list[str]:
        try:
            text = (self.model_dir(name) / "history").read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        return [line.strip() for line in text.splitlines() if line.strip()]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


def check_file_name(rel: str) -> str:
    if rel.startswith(("/", "\\")) or ".." in Path(rel).parts:
        raise ManifestError(f"manifest names a file outside its version: {rel!r}")
    return rel
