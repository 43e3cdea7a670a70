"""The on-disk model store: the only link between training (writer) and the service (reader).

Layout::

    <root>/<name>/versions/<version-id>/   weights, config, tokenizer files, manifest.json
    <root>/<name>/current                  one version id, replaced atomically
    <root>/<name>/history                  ids that were made current, oldest first (for rollback)

A version is written in a temporary directory beside ``versions/`` and renamed into place, so a
reader never sees a half-written version; ``current`` is only ever replaced with ``os.replace``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ChecksumMismatch, InvalidVersionName, ManifestError, VersionNotFound

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
SCHEMA_VERSION = 1
DEFAULT_ROOT = Path(__file__).resolve().parent / "models"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def default_root() -> Path:
    """``REWARDGATE_STORE`` if set, else ``model_store/models`` beside this package."""
    env = os.environ.get("REWARDGATE_STORE")
    return Path(env) if env else DEFAULT_ROOT


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
    manifest: dict[str, Any]


class ModelStore:
    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root) if root is not None else default_root()

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
    def models(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if (p / "versions").is_dir())

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

    def resolve(self, name: str, version: str = "current") -> Version:
        """The version ``version`` names ("current" follows the pointer), manifest read but files
        not yet verified (``verify`` does that)."""
        vid = version
        if version == "current":
            cur = self.current(name)
            if cur is None:
                raise VersionNotFound(f"model {name!r} has no current version in {self.root}")
            vid = cur
        path = self.version_dir(name, vid)
        if not path.is_dir():
            raise VersionNotFound(f"model {name!r} has no version {vid!r} in {self.root}")
        return Version(name=name, id=vid, path=path, manifest=read_manifest(path))

    def verify(self, version: Version) -> None:
        """Recompute every recorded sha256; raise ``ChecksumMismatch`` on any difference."""
        files = version.manifest.get("files")
        if not isinstance(files, dict) or not files:
            raise ManifestError(f"version {version.id}: manifest lists no files")
        if not any(str(f).endswith(".safetensors") for f in files):
            raise ManifestError(f"version {version.id}: no safetensors weights listed")
        for rel, expected in files.items():
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
        manifest: dict[str, Any],
        make_current: bool = True,
        version_id: str | None = None,
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
            files = {
                p.relative_to(tmp).as_posix(): sha256_file(p)
                for p in sorted(tmp.rglob("*"))
                if p.is_file() and p.name != MANIFEST
            }
            if not any(f.endswith(".safetensors") for f in files):
                raise ManifestError("refusing to publish a version without safetensors weights")
            full = {**manifest, "schema_version": SCHEMA_VERSION, "name": name, "version": vid}
            full["files"] = files
            (tmp / MANIFEST).write_text(json.dumps(full, indent=2, sort_keys=True), encoding="utf-8")
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
            self.promote(name, vid)
        return self.resolve(name, vid)

    def promote(self, name: str, version: str) -> None:
        """Make ``version`` current (it must exist and have a manifest)."""
        self.resolve(name, version)
        mdir = self.model_dir(name)
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

    def _history(self, name: str) -> list[str]:
        try:
            text = (self.model_dir(name) / "history").read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        return [line.strip() for line in text.splitlines() if line.strip()]


def check_file_name(rel: str) -> str:
    if rel.startswith(("/", "\\")) or ".." in Path(rel).parts:
        raise ManifestError(f"manifest names a file outside its version: {rel!r}")
    return rel


def read_manifest(path: Path) -> dict[str, Any]:
    mpath = path / MANIFEST
    try:
        data = json.loads(mpath.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(f"{path.name}: manifest.json is missing") from None
    except (OSError, ValueError) as exc:
        raise ManifestError(f"{path.name}: manifest.json is unreadable: {exc}") from None
    if not isinstance(data, dict):
        raise ManifestError(f"{path.name}: manifest.json is not an object")
    schema = data.get("schema_version")
    if not isinstance(schema, int) or schema > SCHEMA_VERSION or schema < 1:
        raise ManifestError(
            f"{path.name}: manifest schema_version {schema!r} is not supported (this code reads 1..{SCHEMA_VERSION})"
        )
    return data
