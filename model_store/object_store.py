"""The model store on object storage (``s3://``, ``gs://``, ``az://``... through fsspec), for
replicas on several machines: ``contract.Store`` on storage without rename.

* publish uploads every file of a version under ``<name>/versions/<id>/``, then ``manifest.json``
  with the checksums, and only then moves the ``<name>/current`` pointer object. A version with
  no manifest is a publish that died: no reader lists it, ``gc`` removes it. A publish killed at
  any point never leaves ``current`` naming an incomplete version.
* Readers download a version into a local cache and verify every checksum there before it is
  used; a verified cache is reused across restarts (and re-checked), a damaged one re-fetched.
* Promotion: every promotion is written as its own object under ``<name>/history/`` (nothing is
  read, changed and written back, so concurrent promotions never lose one), then ``current`` is
  overwritten. Two promoters racing end with ``current`` on whichever wrote last; each only
  ever names a version whose upload had finished. The rule is in the README.
* Leases (which versions running services hold, so ``gc`` keeps them) are objects
  ``<name>/leases/<id>/<host>-<pid>`` holding the time they were last renewed; a lease not
  renewed for ``LEASE_TTL_S`` is stale.

Credentials come from where the fsspec backend looks (environment, ``~/.aws``, instance roles);
``REWARDGATE_STORE_OPTIONS`` (JSON) passes backend options such as ``endpoint_url``. Neither is
ever written to the manifest or logged: messages name the store by its URL alone.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .contract import Store, Version
from .errors import ChecksumMismatch, ManifestError, StoreError, VersionNotFound
from .manifest import (
    MANIFEST,
    VersionInfo,
    check_file_name,
    check_sha256,
    dump_manifest,
    parse_manifest,
    seal,
    sha256_file,
)
from .policy import check_name, holder_is_gone, is_valid_name, lease_holder, new_version_id

log = logging.getLogger(__name__)

LEASE_TTL_S = 24 * 3600.0


def default_cache() -> Path:
    """``REWARDGATE_CACHE``, else ``$XDG_CACHE_HOME/rewardgate`` (``~/.cache/rewardgate``)."""
    env = os.environ.get("REWARDGATE_CACHE")
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rewardgate"


def public_url(url: str) -> str:
    """The URL without any user:password part, safe to print."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


RETRIES = 4


def _retrying(fn: Any, *args: Any, **kw: Any) -> Any:
    """Call ``fn``, retrying what an object store asks to be retried (S3's InternalError, 503
    SlowDown, a dropped connection) with a short backoff. Every write here puts a whole object
    under a fixed key, so a repeat is harmless. A missing object is not retried; a refusal or a
    store that never answers is a ``StoreError`` saying so."""
    for attempt in range(RETRIES):
        try:
            return fn(*args, **kw)
        except FileNotFoundError:
            raise
        except PermissionError as exc:
            raise StoreError(f"the object store refused access: {exc}") from None
        except Exception as exc:  # botocore, aiohttp and fsspec raise many kinds for the same failure
            if attempt == RETRIES - 1:
                raise StoreError(f"the object store did not answer after {RETRIES} tries: {exc}") from None
            log.warning("object store call failed (%s); retrying", exc)
            time.sleep(0.2 * 2**attempt)
    raise AssertionError("unreachable")


class ObjectStore(Store):
    """The store on fsspec object storage; versions are read through a local cache."""

    def __init__(self, url: str, options: dict[str, Any] | None = None, cache: Path | str | None = None) -> None:
        import fsspec

        self.url = url.rstrip("/")
        self.location = public_url(self.url)
        self.fs, base = fsspec.core.url_to_fs(self.url, **(options or {}))
        self.base = base.rstrip("/")
        # Versions are read from a local cache: that is where ``Version.path`` points, so the
        # model loader reads local files whatever the store is.
        key = hashlib.sha256(self.location.encode()).hexdigest()[:16]
        self.root = Path(cache) if cache is not None else default_cache()
        self.root = self.root / "stores" / key
        self.root.mkdir(parents=True, exist_ok=True)

    # -- keys ------------------------------------------------------------------------------
    def key(self, name: str, *parts: str) -> str:
        return "/".join([self.base, check_name(name, "model"), *parts])

    def _cat(self, key: str) -> bytes | None:
        try:
            return bytes(_retrying(self.fs.cat_file, key))
        except FileNotFoundError:
            return None

    def _find(self, prefix: str, detail: bool = False) -> Any:
        """Every object under ``prefix`` (one listing, never a stale cached one)."""
        self.fs.invalidate_cache()
        try:
            found = _retrying(self.fs.find, prefix, detail=True)
        except FileNotFoundError:
            found = {}
        # only objects strictly under the prefix (some servers list folder markers too)
        under = {k: v for k, v in found.items() if v.get("type") != "directory" and self._rel(k, prefix) != k}
        return under if detail else sorted(under)

    def _rel(self, key: str, prefix: str) -> str:
        key = key.split("://", 1)[-1]
        pre = prefix.split("://", 1)[-1].rstrip("/") + "/"
        return key[len(pre) :] if key.startswith(pre) else key

    # -- reading ---------------------------------------------------------------------------
    def list_versions(self, name: str) -> list[str]:
        prefix = self.key(name, "versions")
        ids = set()
        for key in self._find(prefix):
            vid, _, rest = self._rel(key, prefix).partition("/")
            if rest == MANIFEST:
                ids.add(vid)
        return sorted(v for v in ids if is_valid_name(v))

    def current(self, name: str) -> str | None:
        data = self._cat(self.key(name, "current"))
        text = data.decode("utf-8").strip() if data else ""
        return text or None

    def read_version(self, name: str, vid: str) -> Version:
        raw = self._cat(self.key(name, "versions", vid, MANIFEST))
        if raw is None:
            if self._find(self.key(name, "versions", vid)):
                raise ManifestError(f"{vid}: manifest.json is missing (a publish that did not finish?)")
            raise VersionNotFound(f"model {name!r} has no version {vid!r} in {self.location}")
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise ManifestError(f"{vid}: manifest.json is unreadable: {exc}") from None
        return Version(name=name, id=vid, path=self.root / name / vid, manifest=parse_manifest(data, vid))

    def verify(self, version: Version) -> None:
        """Bring every file of ``version`` into the local cache and check its sha256 there. A
        cached file that still matches is kept (restarts reuse the cache); anything else is
        downloaded again, and a download that does not match is ``ChecksumMismatch``."""
        dest = version.path
        dest.mkdir(parents=True, exist_ok=True)
        for rel, expected in version.manifest.files.items():
            local = dest / check_file_name(rel)
            if local.is_file() and sha256_file(local) == expected:
                continue
            local.parent.mkdir(parents=True, exist_ok=True)
            tmp = local.with_name(f".{local.name}.{secrets.token_hex(4)}.part")
            try:
                try:
                    _retrying(self.fs.get_file, self.key(version.name, "versions", version.id, rel), str(tmp))
                except FileNotFoundError:
                    raise ChecksumMismatch(f"version {version.id}: file {rel} is missing") from None
                check_sha256(tmp, expected, version.id, rel)
                os.replace(tmp, local)
            finally:
                tmp.unlink(missing_ok=True)
        (dest / MANIFEST).write_text(dump_manifest(version.manifest), encoding="utf-8")

    # -- writing ---------------------------------------------------------------------------
    def write_version(self, name: str, vid: str, write: Callable[[Path], object], info: VersionInfo) -> None:
        """Every file, then the manifest; the staged files become this store's cache of it."""
        staging = Path(tempfile.mkdtemp(prefix=f".publish-{vid}-", dir=self.root))
        prefix = self.key(name, "versions", vid)
        uploaded = False
        try:
            write(staging)
            full = seal(staging, info, name, vid)
            for rel in full.files:
                _retrying(self.fs.put_file, str(staging / rel), f"{prefix}/{rel}")
                uploaded = True
            # the manifest last: until it exists, no reader sees this version
            _retrying(self.fs.pipe_file, f"{prefix}/{MANIFEST}", dump_manifest(full).encode("utf-8"))
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            if uploaded:
                try:
                    self.fs.rm(prefix, recursive=True)
                except Exception:  # a dead connection: gc removes the manifest-less upload later
                    log.warning("could not remove the partial upload of %s/%s", name, vid)
            raise
        # The staged files are exactly what was uploaded and checked: they become the cache.
        cached = self.root / name / vid
        cached.parent.mkdir(parents=True, exist_ok=True)
        (staging / MANIFEST).write_text(dump_manifest(full), encoding="utf-8")
        shutil.rmtree(cached, ignore_errors=True)
        os.replace(staging, cached)

    def record_promotion(self, name: str, vid: str, entry: dict[str, Any]) -> None:
        """One new history object per promotion (nothing is read and written back, so racing
        promoters never lose one), then ``current`` overwritten."""
        key = self.key(name, "history", f"{new_version_id()}--{vid}")
        _retrying(self.fs.pipe_file, key, json.dumps(entry).encode())
        _retrying(self.fs.pipe_file, self.key(name, "current"), (vid + "\n").encode())

    def _history_keys(self, name: str) -> list[tuple[str, str]]:
        prefix = self.key(name, "history")
        out = []
        for key in sorted(self._find(prefix)):
            _, sep, vid = self._rel(key, prefix).partition("--")
            if sep and is_valid_name(vid):
                out.append((key, vid))
        return out

    def history(self, name: str) -> list[str]:
        return [vid for _, vid in self._history_keys(name)]

    def rewind(self, name: str, drop: int, target: str) -> None:
        keys = [key for key, _ in self._history_keys(name)]
        _retrying(self.fs.pipe_file, self.key(name, "current"), (target + "\n").encode())
        for key in keys[len(keys) - drop :] if drop else []:
            _retrying(self.fs.rm_file, key)

    # -- the pinned evaluation set -----------------------------------------------------------
    def pin_eval(self, name: str, source: Path) -> str:
        suffix = "".join(source.suffixes[-2:]) if source.name.endswith(".gz") else source.suffix
        edir = self.key(name, "eval")
        for old in self._find(edir):
            _retrying(self.fs.rm_file, old)
        _retrying(self.fs.put_file, str(source), f"{edir}/pinned{suffix}")
        return sha256_file(source)

    def pinned_eval(self, name: str) -> tuple[Path, str] | None:
        edir = self.key(name, "eval")
        found = sorted(k for k in self._find(edir) if self._rel(k, edir).startswith("pinned."))
        if not found:
            return None
        local = self.root / name / "eval" / self._rel(found[0], edir)
        local.parent.mkdir(parents=True, exist_ok=True)
        tmp = local.with_name(f".{local.name}.{secrets.token_hex(4)}.part")
        _retrying(self.fs.get_file, found[0], str(tmp))
        os.replace(tmp, local)
        return local, sha256_file(local)

    # -- leases: one object per holder, holding when it was last renewed ----------------------------
    def _lease_key(self, name: str, version: str) -> str:
        return self.key(name, "leases", check_name(version), lease_holder())

    def lease(self, name: str, version: str) -> None:
        key = self._lease_key(name, version)  # an invalid name is the caller's error, not the store's
        try:
            _retrying(self.fs.pipe_file, key, json.dumps({"time": time.time()}).encode())
        except Exception as exc:  # a read-only bucket is still served
            log.warning("cannot record a lease on %s/%s (%s): gc cannot see that it is served", name, version, exc)

    def release(self, name: str, version: str) -> None:
        try:
            self.fs.rm_file(self._lease_key(name, version))
        except Exception:
            pass

    def holders(self, name: str, version: str) -> list[str]:
        """A pod that died cannot release its lease, and another host's pid cannot be checked:
        a lease not renewed within ``LEASE_TTL_S`` is stale too."""
        prefix = self.key(name, "leases", check_name(version))
        live = []
        for key in self._find(prefix):
            holder = self._rel(key, prefix)
            stale = holder_is_gone(holder) or self._lease_age(key) > LEASE_TTL_S
            if stale:
                _retrying(self.fs.rm_file, key)
                continue
            live.append(holder)
        return live

    def _lease_age(self, key: str) -> float:
        try:
            return time.time() - float(json.loads(self._cat(key) or b"{}").get("time", 0))
        except (ValueError, TypeError, AttributeError):
            return float("inf")  # unreadable: as good as expired

    # -- housekeeping ----------------------------------------------------------------------------
    def remove_version(self, name: str, vid: str) -> None:
        # the manifest first: from then on no reader trusts what is left
        _retrying(self.fs.rm_file, self.key(name, "versions", vid, MANIFEST))
        _retrying(self.fs.rm, self.key(name, "versions", vid), recursive=True)
        shutil.rmtree(self.root / name / vid, ignore_errors=True)

    def stale_partials(self, name: str, age_s: float) -> list[str]:
        """Uploads with no manifest (a publish that died) whose newest object is ``age_s`` old."""
        prefix = self.key(name, "versions")
        newest: dict[str, float] = {}
        complete = set()
        for key, meta in self._find(prefix, detail=True).items():
            vid, _, rest = self._rel(key, prefix).partition("/")
            if rest == MANIFEST:
                complete.add(vid)
            newest[vid] = max(newest.get(vid, 0.0), _mtime(meta))
        now = time.time()
        return sorted(v for v, t in newest.items() if v not in complete and now - t >= age_s)

    def remove_partial(self, name: str, partial: str) -> None:
        _retrying(self.fs.rm, self.key(name, "versions", partial), recursive=True)


def _mtime(meta: dict[str, Any]) -> float:
    for k in ("LastModified", "mtime", "last_modified", "created"):
        v = meta.get(k)
        if v is None:
            continue
        if hasattr(v, "timestamp"):
            return float(v.timestamp())
        try:
            return float(v)
        except (TypeError, ValueError):
            continue
    return 0.0
