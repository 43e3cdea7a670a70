"""The on-disk model store: the only link between training (writer) and the service (reader).

Layout::

    <root>/<name>/versions/<version-id>/   weights, config, tokenizer files, manifest.json
    <root>/<name>/current                  one version id, replaced atomically
    <root>/<name>/history                  ids that were made current, oldest first (for rollback)
    <root>/<name>/leases/<version-id>/     one file per running service that has this version
                                           loaded (``<host>-<pid>``): ``gc`` never deletes it

A version is written in a temporary directory beside ``versions/`` and renamed into place, so a
reader never sees a half-written version; ``current`` is only ever replaced with ``os.replace``.
Nothing here imports torch or transformers: listing or promoting versions stays cheap. The rules
(promotion refusal, rollback, gc) are ``policy``'s, reached through ``contract.Store``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .contract import Store, Version
from .errors import ChecksumMismatch, InvalidVersionName, VersionNotFound
from .manifest import (
    MANIFEST,
    VersionInfo,
    check_file_name,
    check_sha256,
    dump_manifest,
    read_manifest,
    seal,
    sha256_file,
)
from .policy import check_name, holder_is_gone, is_valid_name, lease_holder

log = logging.getLogger(__name__)

DEFAULT_ROOT = Path(__file__).resolve().parent / "models"


def default_root() -> str:
    """``REWARDGATE_STORE`` if set (a directory or an fsspec URL such as ``s3://bucket/prefix``),
    else ``model_store/models`` beside this package."""
    return os.environ.get("REWARDGATE_STORE") or str(DEFAULT_ROOT)


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


class ModelStore(Store):
    """The store in a local (or mounted) directory."""

    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root) if root is not None else Path(default_root())
        self.location = str(self.root)

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
        vdir = self.model_dir(name) / "versions"
        if not vdir.is_dir():
            return []
        return sorted(p.name for p in vdir.iterdir() if is_valid_name(p.name) and (p / MANIFEST).is_file())

    def current(self, name: str) -> str | None:
        path = self.model_dir(name) / "current"
        try:
            text = path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        return text or None

    def read_version(self, name: str, vid: str) -> Version:
        path = self.version_dir(name, vid)
        if not path.is_dir():
            raise VersionNotFound(f"model {name!r} has no version {vid!r} in {self.location}")
        return Version(name=name, id=vid, path=path, manifest=read_manifest(path))

    def verify(self, version: Version) -> None:
        for rel, expected in version.manifest.files.items():
            path = version.path / check_file_name(rel)
            if not path.is_file():
                raise ChecksumMismatch(f"version {version.id}: file {rel} is missing")
            check_sha256(path, expected, version.id, rel)

    # -- writing -------------------------------------------------------------------------
    def write_version(self, name: str, vid: str, write: Callable[[Path], object], info: VersionInfo) -> None:
        """In a temporary directory beside ``versions/``, fsynced, then renamed into place."""
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

    def record_promotion(self, name: str, vid: str, entry: dict[str, Any]) -> None:
        """``promotions.jsonl`` gets ``entry``; ``history`` and ``current`` are replaced atomically."""
        mdir = self.model_dir(name)
        with open(mdir / "promotions.jsonl", "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")
        history = self.history(name)
        if not history or history[-1] != vid:
            history.append(vid)
        _write_text_atomic(mdir / "history", "\n".join(history) + "\n")
        _write_text_atomic(mdir / "current", vid + "\n")

    def history(self, name: str) -> list[str]:
        try:
            text = (self.model_dir(name) / "history").read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        return [line.strip() for line in text.splitlines() if line.strip()]

    def rewind(self, name: str, drop: int, target: str) -> None:
        mdir = self.model_dir(name)
        history = self.history(name)
        _write_text_atomic(mdir / "history", "".join(v + "\n" for v in history[: len(history) - drop]))
        _write_text_atomic(mdir / "current", target + "\n")

    # -- the pinned evaluation set -------------------------------------------------------------
    def pin_eval(self, name: str, source: Path) -> str:
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
        edir = self.model_dir(name) / "eval"
        found = sorted(edir.glob("pinned.*")) if edir.is_dir() else []
        return (found[0], sha256_file(found[0])) if found else None

    # -- leases: one empty file per holder -------------------------------------------------------
    def _lease_file(self, name: str, version: str) -> Path:
        return self.model_dir(name) / "leases" / check_name(version) / lease_holder()

    def lease(self, name: str, version: str) -> None:
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
        ldir = self.model_dir(name) / "leases" / check_name(version)
        if not ldir.is_dir():
            return []
        live = []
        for f in ldir.iterdir():
            if holder_is_gone(f.name):
                f.unlink(missing_ok=True)
                continue
            live.append(f.name)
        return live

    # -- housekeeping ----------------------------------------------------------------------
    def remove_version(self, name: str, vid: str) -> None:
        shutil.rmtree(self.version_dir(name, vid))

    def stale_partials(self, name: str, age_s: float) -> list[str]:
        """Temporary directories of publishes that died more than ``age_s`` ago."""
        mdir = self.model_dir(name)
        now = time.time()
        tmps = sorted(mdir.glob(".tmp-*")) if mdir.is_dir() else []
        return [t.name for t in tmps if t.is_dir() and now - t.stat().st_mtime >= age_s]

    def remove_partial(self, name: str, partial: str) -> None:
        shutil.rmtree(self.model_dir(name) / partial, ignore_errors=True)
