"""The rules of the model store, written once as functions over the ``Store`` contract, so that
no backend can decide them differently: which names are valid, what a version id is, when a
promotion is refused, where a rollback goes, what ``gc`` may remove and whose lease is stale.

A backend supplies storage (``contract.Store``'s abstract methods); ``Store``'s own methods
(``publish``, ``promote``, ``rollback``, ``gc``...) call these.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import socket
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import InvalidVersionName, PromotionRefused, VersionNotFound
from .manifest import VersionInfo

if TYPE_CHECKING:
    from .contract import Store

log = logging.getLogger(__name__)

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


# -- names and version ids ------------------------------------------------------------------------
def is_valid_name(value: str) -> bool:
    return isinstance(value, str) and bool(_NAME_RE.match(value)) and ".." not in value


def check_name(value: str, what: str = "version") -> str:
    """Refuse anything that could escape the store (``..``, slashes, absolute paths)."""
    if not is_valid_name(value):
        raise InvalidVersionName(f"invalid {what} name {value!r}: use letters, digits, '.', '_', '-'")
    return value


def new_version_id() -> str:
    """Sortable by creation time (UTC, microseconds) and unique (random suffix). Also orders the
    object store's promotion history, so a promotion's place there is its time."""
    now = time.time()
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now))
    return f"{stamp}{int(now % 1 * 1e6):06d}Z-{secrets.token_hex(3)}"


def version_id(store: Store, name: str, version: str = "current") -> str:
    """``version`` itself, or the id ``current`` points at."""
    if version != "current":
        return check_name(version)
    cur = store.current(name)
    if cur is None:
        raise VersionNotFound(f"model {name!r} has no current version in {store.location}")
    return cur


# -- promotion and rollback -------------------------------------------------------------------------
def promotion_refusal(store: Store, name: str, candidate: VersionInfo, tolerance: float = 0.01) -> str | None:
    """Why ``candidate`` may not replace ``current`` (None: it may): with a pinned set, its
    pairwise accuracy there may be below current's by at most ``tolerance``."""
    pinned = store.pinned_eval(name)
    if pinned is None:
        return None
    sha = pinned[1]
    if candidate.pinned_eval is None or candidate.pinned_eval.sha256 != sha:
        return f"it has no figures on the pinned evaluation set {pinned[0].name} (sha256 {sha[:12]}…)"
    cur_id = store.current(name)
    if cur_id is None:
        return None
    cur = store.resolve(name, cur_id).manifest
    if cur.pinned_eval is None or cur.pinned_eval.sha256 != sha:
        return None  # nothing to compare against: the current version predates this pinned set
    new_acc, cur_acc = candidate.pinned_eval.metrics.accuracy, cur.pinned_eval.metrics.accuracy
    if new_acc < cur_acc - tolerance:
        return (
            f"its accuracy on the pinned set is {new_acc:.4f}, {cur_acc - new_acc:.4f} below current "
            f"{cur_id} ({cur_acc:.4f}); the tolerance is {tolerance}"
        )
    return None


def promote(store: Store, name: str, version: str, tolerance: float = 0.01, force: bool = False) -> None:
    """Make ``version`` current. With a pinned evaluation set, a version worse than current
    beyond ``tolerance`` is refused (``PromotionRefused``) unless ``force``; a forced promotion is
    recorded as forced, with the reason it overrode."""
    found = store.resolve(name, version)
    reason = promotion_refusal(store, name, found.manifest, tolerance)
    if reason and not force:
        raise PromotionRefused(f"not promoting {version}: {reason} (--force overrides)")
    previous = store.current(name)
    entry: dict[str, Any] = {"time": time.time(), "version": found.id, "previous": previous, "forced": bool(reason)}
    if reason:
        entry["reason"] = reason
    store.record_promotion(name, found.id, entry)
    log.info("current %s -> %s", name, found.id)


def rollback(store: Store, name: str) -> str:
    """Make the previously current version current again; returns its id. The history entries
    undone are current's own (a version promoted twice in a row is undone at once) and those of
    versions gc or an operator has since deleted."""
    existing = set(store.list_versions(name))
    history = store.history(name)
    cur = store.current(name)
    drop = 0
    while drop < len(history) and (history[-1 - drop] == cur or history[-1 - drop] not in existing):
        drop += 1
    if drop == len(history):
        raise VersionNotFound(f"model {name!r} has no earlier version to roll back to")
    target = history[-1 - drop]
    store.rewind(name, drop, target)
    log.info("rolled back %s -> %s", name, target)
    return target


# -- leases and housekeeping ----------------------------------------------------------------------
def lease_holder() -> str:
    """This process, as lease holders are named: ``<host>-<pid>``."""
    return f"{socket.gethostname()}-{os.getpid()}"


def holder_is_gone(holder: str) -> bool:
    """A holder on this host whose process has exited. Another host's cannot be checked from
    here: it counts as live (the object store also lets leases expire)."""
    host, _, pid = holder.rpartition("-")
    return host == socket.gethostname() and pid.isdigit() and not _pid_alive(int(pid))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


@dataclass
class GcResult:
    removed: list[str]
    kept: list[str]
    temp_removed: list[str]


def gc_protected(store: Store, name: str, versions: list[str], keep: int) -> set[str]:
    """What gc never removes whatever the leases say: ``current``, every version in the
    promotion history (rollback may need it) and the ``keep`` newest."""
    protected = set(store.history(name)) | set(versions[len(versions) - keep :] if keep else [])
    cur = store.current(name)
    if cur:
        protected.add(cur)
    return protected


def gc(store: Store, name: str, keep: int, tmp_age_s: float = 3600.0, dry_run: bool = False) -> GcResult:
    """Delete old versions of ``name``, except the protected ones (``gc_protected``) and any version
    a running service holds a lease on; remove what publishes that died more than ``tmp_age_s``
    ago left behind."""
    if keep < 0:
        raise ValueError("keep must be >= 0")
    versions = store.list_versions(name)
    protected = gc_protected(store, name, versions, keep)
    result = GcResult(removed=[], kept=[], temp_removed=[])
    for vid in versions:
        # the lease is checked last, just before deleting, to keep the race with a loading
        # service as short as it can be
        if vid in protected or store.holders(name, vid):
            result.kept.append(vid)
            continue
        result.removed.append(vid)
        if not dry_run:
            store.remove_version(name, vid)
            log.info("gc: removed %s/%s", name, vid)
    for partial in store.stale_partials(name, tmp_age_s):
        result.temp_removed.append(partial)
        if not dry_run:
            store.remove_partial(name, partial)
    return result
