"""The model store on object storage (``s3://``, ``gs://``, ``az://``... through fsspec), for
replicas on several machines. Same contract as the local store, on storage without rename:

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
import socket
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .errors import ChecksumMismatch, ManifestError, PromotionRefused, StoreError, VersionNotFound
from .manifest import MANIFEST, VersionInfo, dump_manifest, parse_manifest
from .store import ModelStore, Version, _pid_alive, check_file_name, check_name, seal, sha256_file

log = logging.getLogger(__name__)

LEASE_TTL_S = 24 * 3600.0


def default_cache() -> Path:
    """``REWARDGATE_CACHE``, else ``$XDG_CACHE_HOME/rewardgate`` (``~/.cache/rewardgate``)."""
    env = os.environ.get("REWARDGATE_CACHE")
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rewardgate"


def _public_url(url: str) -> str:
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


def _stamp() -> str:
    now = time.time()
    return time.strftime("%Y%m%dT%H%M%S", time.gmtime(now)) + f"{int(now % 1 * 1e6):06d}Z-{secrets.token_hex(3)}"


class ObjectStore(ModelStore):
    def __init__(self, url: str, options: dict[str, Any] | None = None, cache: Path | str | None = None) -> None:
        import fsspec

        self.url = url.rstrip("/")
        self.location = _public_url(self.url)
        self.fs, base = fsspec.core.url_to_fs(self.url, **(options or {}))
        self.base = base.rstrip("/")
        # Versions are read from a local cache: that is where ``Version.path`` points, so the
        # model loader reads local files whatever the store is.
        key = hashlib.sha256(self.location.encode()).hexdigest()[:16]
        self.root = Path(cache) if cache is not None else default_cache()
        self.root = self.root / "stores" / key
        self.root.mkdir(parents=True, exist_ok=True)

    # -- keys ------------------------------------------------------------------------------
    def _key(self, name: str, *parts: str) -> str:
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
        prefix = self._key(name, "versions")
        ids = set()
        for key in self._find(prefix):
            vid, _, rest = self._rel(key, prefix).partition("/")
            if rest == MANIFEST:
                ids.add(vid)
        return sorted(v for v in ids if _valid(v))

    def current(self, name: str) -> str | None:
        data = self._cat(self._key(name, "current"))
        text = data.decode("utf-8").strip() if data else ""
        return text or None

    def resolve(self, name: str, version: str = "current") -> Version:
        vid = self.version_id(name, version)
        raw = self._cat(self._key(name, "versions", vid, MANIFEST))
        if raw is None:
            if self._find(self._key(name, "versions", vid)):
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
                    _retrying(self.fs.get_file, self._key(version.name, "versions", version.id, rel), str(tmp))
                except FileNotFoundError:
                    raise ChecksumMismatch(f"version {version.id}: file {rel} is missing") from None
                got = sha256_file(tmp)
                if got != expected:
                    raise ChecksumMismatch(
                        f"version {version.id}: {rel} has sha256 {got[:12]}…, manifest says {expected[:12]}…"
                    )
                os.replace(tmp, local)
            finally:
                tmp.unlink(missing_ok=True)
        (dest / MANIFEST).write_text(dump_manifest(version.manifest), encoding="utf-8")

    # -- writing ---------------------------------------------------------------------------
    def publish(
        self,
        name: str,
        write: Any,
        info: VersionInfo,
        make_current: bool = True,
        version_id: str | None = None,
        tolerance: float = 0.01,
    ) -> Version:
        vid = check_name(version_id or _stamp())
        staging = Path(tempfile.mkdtemp(prefix=f".publish-{vid}-", dir=self.root))
        prefix = self._key(name, "versions", vid)
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
        log.info("published %s/%s to %s", name, vid, self.location)
        if make_current:
            self.promote(name, vid, tolerance)
        return self.resolve(name, vid)

    # -- the pinned evaluation set -----------------------------------------------------------
    def pin_eval(self, name: str, source: Path) -> str:
        suffix = "".join(source.suffixes[-2:]) if source.name.endswith(".gz") else source.suffix
        edir = self._key(name, "eval")
        for old in self._find(edir):
            _retrying(self.fs.rm_file, old)
        _retrying(self.fs.put_file, str(source), f"{edir}/pinned{suffix}")
        return sha256_file(source)

    def pinned_eval(self, name: str) -> tuple[Path, str] | None:
        edir = self._key(name, "eval")
        found = sorted(k for k in self._find(edir) if self._rel(k, edir).startswith("pinned."))
        if not found:
            return None
        local = self.root / name / "eval" / self._rel(found[0], edir)
        local.parent.mkdir(parents=True, exist_ok=True)
        tmp = local.with_name(f".{local.name}.{secrets.token_hex(4)}.part")
        _retrying(self.fs.get_file, found[0], str(tmp))
        os.replace(tmp, local)
        return local, sha256_file(local)

    # -- promotion ---------------------------------------------------------------------------
    def promote(self, name: str, version: str, tolerance: float = 0.01, force: bool = False) -> None:
        found = self.resolve(name, version)
        reason = self.promotion_refusal(name, found.manifest, tolerance)
        if reason and not force:
            raise PromotionRefused(f"not promoting {version}: {reason} (--force overrides)")
        entry: dict[str, Any] = {
            "time": time.time(),
            "version": version,
            "previous": self.current(name),
            "forced": bool(reason),
        }
        if reason:
            entry["reason"] = reason
        _retrying(self.fs.pipe_file, self._key(name, "history", f"{_stamp()}--{version}"), json.dumps(entry).encode())
        _retrying(self.fs.pipe_file, self._key(name, "current"), (version + "\n").encode())
        log.info("current %s -> %s", name, version)

    def _history_keys(self, name: str) -> list[tuple[str, str]]:
        prefix = self._key(name, "history")
        out = []
        for key in sorted(self._find(prefix)):
            _, sep, vid = self._rel(key, prefix).partition("--")
            if sep and _valid(vid):
                out.append((key, vid))
        return out

    def _history(self, name: str) -> list[str]:
        return [vid for _, vid in self._history_keys(name)]

    def rollback(self, name: str) -> str:
        existing = set(self.list_versions(name))
        history = [(k, v) for k, v in self._history_keys(name) if v in existing]
        cur = self.current(name)
        dropped = []
        while history and history[-1][1] == cur:
            dropped.append(history.pop()[0])
        if not history:
            raise VersionNotFound(f"model {name!r} has no earlier version to roll back to")
        target = history[-1][1]
        _retrying(self.fs.pipe_file, self._key(name, "current"), (target + "\n").encode())
        for key in dropped:
            _retrying(self.fs.rm_file, key)
        log.info("rolled back %s -> %s", name, target)
        return target

    # -- leases ----------------------------------------------------------------------------------
    def _lease_key(self, name: str, version: str) -> str:
        return self._key(name, "leases", check_name(version), f"{socket.gethostname()}-{os.getpid()}")

    def lease(self, name: str, version: str) -> None:
        """Record (or renew) that this process serves ``version``."""
        try:
            _retrying(self.fs.pipe_file, self._lease_key(name, version), json.dumps({"time": time.time()}).encode())
        except Exception as exc:  # a read-only bucket is still served
            log.warning("cannot record a lease on %s/%s (%s): gc cannot see that it is served", name, version, exc)

    def release(self, name: str, version: str) -> None:
        try:
            self.fs.rm_file(self._lease_key(name, version))
        except Exception:
            pass

    def holders(self, name: str, version: str) -> list[str]:
        prefix = self._key(name, "leases", check_name(version))
        here = socket.gethostname()
        live = []
        for key in self._find(prefix):
            holder = self._rel(key, prefix)
            host, _, pid = holder.rpartition("-")
            stale = host == here and pid.isdigit() and not _pid_alive(int(pid))
            if not stale:
                raw = self._cat(key)
                try:
                    stale = time.time() - float(json.loads(raw or b"{}").get("time", 0)) > LEASE_TTL_S
                except (ValueError, AttributeError):
                    stale = True
            if stale:
                _retrying(self.fs.rm_file, key)
                continue
            live.append(holder)
        return live

    # -- housekeeping ----------------------------------------------------------------------------
    def _remove_version(self, name: str, vid: str) -> None:
        # the manifest first: from then on no reader trusts what is left
        _retrying(self.fs.rm_file, self._key(name, "versions", vid, MANIFEST))
        _retrying(self.fs.rm, self._key(name, "versions", vid), recursive=True)
        shutil.rmtree(self.root / name / vid, ignore_errors=True)

    def _stale_partials(self, name: str, age_s: float) -> list[str]:
        """Uploads with no manifest (a publish that died) whose newest object is ``age_s`` old."""
        prefix = self._key(name, "versions")
        newest: dict[str, float] = {}
        complete = set()
        for key, meta in self._find(prefix, detail=True).items():
            vid, _, rest = self._rel(key, prefix).partition("/")
            if rest == MANIFEST:
                complete.add(vid)
            stamp = _mtime(meta)
            newest[vid] = max(newest.get(vid, 0.0), stamp)
        now = time.time()
        return sorted(v for v, t in newest.items() if v not in complete and now - t >= age_s)

    def _remove_partial(self, name: str, partial: str) -> None:
        _retrying(self.fs.rm, self._key(name, "versions", partial), recursive=True)


def _valid(vid: str) -> bool:
    try:
        check_name(vid)
    except StoreError:
        return False
    return True


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


def open_store(
    location: str | Path | None = None, options: dict[str, Any] | str | None = None, cache: Path | str | None = None
) -> ModelStore:
    """The store at ``location`` (default ``REWARDGATE_STORE``): a URL with a scheme other than
    ``file://`` is an ``ObjectStore``, anything else a local directory. ``options`` (a dict or
    JSON; default ``REWARDGATE_STORE_OPTIONS``) go to the fsspec backend."""
    from .store import default_root

    loc = str(location) if location else default_root()
    if "://" not in loc:
        return ModelStore(loc)
    if loc.startswith("file://"):
        return ModelStore(loc[len("file://") :])
    if options is None:
        options = os.environ.get("REWARDGATE_STORE_OPTIONS") or None
    if isinstance(options, str):
        try:
            options = json.loads(options)
        except ValueError as exc:
            raise StoreError(f"REWARDGATE_STORE_OPTIONS is not JSON: {exc}") from None
        if not isinstance(options, dict):
            raise StoreError("REWARDGATE_STORE_OPTIONS must be a JSON object")
    try:
        return ObjectStore(loc, options, cache)
    except ImportError as exc:
        raise StoreError(
            f"the store {_public_url(loc)} needs the fsspec backend for its scheme ({exc.name} is not installed; "
            "for s3:// install s3fs)"
        ) from None
