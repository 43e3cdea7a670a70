"""``Store``: what every model store backend is, written down.

A backend (``store.ModelStore``: a directory; ``object_store.ObjectStore``: fsspec object
storage) implements the abstract methods below: storage, and nothing else. The store's rules
(names, version ids, promotion refusal, rollback, what ``gc`` may remove) are the functions of
``policy``, which the final methods here call; a backend cannot override them.

Layout every backend keeps under its root (files or objects)::

    <name>/versions/<version-id>/   weights, config, tokenizer files, manifest.json (complete last)
    <name>/current                  one version id
    <name>/history                  the ids that were made current, in order (for rollback)
    <name>/leases/<version-id>/     one entry per running service that has this version loaded
    <name>/eval/pinned.<ext>        the pinned evaluation set, if any
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, final

from . import policy
from .manifest import Manifest, VersionInfo

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Version:
    name: str
    id: str
    path: Path  # a local directory holding the version's files once ``verify`` has passed
    manifest: Manifest


class Store(ABC):
    location: str  # what messages name the store by: never a credential

    # -- reading ---------------------------------------------------------------------------------
    @abstractmethod
    def list_versions(self, name: str) -> list[str]:
        """Published version ids (those with a manifest), oldest first (ids sort by time)."""

    @abstractmethod
    def current(self, name: str) -> str | None:
        """The id ``current`` names, None when there is none."""

    @abstractmethod
    def read_version(self, name: str, vid: str) -> Version:
        """Version ``vid`` with its manifest read and validated, files not yet verified.
        ``VersionNotFound`` if there is no such version, ``ManifestError`` if its manifest is
        missing or invalid."""

    @abstractmethod
    def verify(self, version: Version) -> None:
        """Make every file of ``version`` available under ``version.path`` and check each one's
        sha256 against the manifest: ``ChecksumMismatch`` on any difference or missing file."""

    # -- writing ---------------------------------------------------------------------------------
    @abstractmethod
    def write_version(self, name: str, vid: str, write: Callable[[Path], object], info: VersionInfo) -> None:
        """Store a new version: ``write(dir)`` puts its files in a local directory; the backend
        seals them (``manifest.seal``) and stores them so that no reader sees the version until it
        is complete. On any failure nothing readable is left and the exception propagates."""

    @abstractmethod
    def record_promotion(self, name: str, vid: str, entry: dict[str, Any]) -> None:
        """Append ``vid`` to the history (``entry`` says who, when and whether forced), then point
        ``current`` at it."""

    @abstractmethod
    def history(self, name: str) -> list[str]:
        """Ids that were made current, oldest first."""

    @abstractmethod
    def rewind(self, name: str, drop: int, target: str) -> None:
        """Remove the last ``drop`` history entries and point ``current`` at ``target``."""

    @abstractmethod
    def pin_eval(self, name: str, source: Path) -> str:
        """Pin ``source`` (any preference data file) as the evaluation set of ``name``: every
        later publish is scored on it, and ``promote`` compares versions on it. Returns its sha256."""

    @abstractmethod
    def pinned_eval(self, name: str) -> tuple[Path, str] | None:
        """The pinned evaluation file of ``name`` (a local copy) and its sha256, if one is pinned."""

    # -- leases: which versions running services hold ------------------------------------------
    @abstractmethod
    def lease(self, name: str, version: str) -> None:
        """Record (or renew) that this process serves ``version``, so ``gc`` keeps it. A store this
        process cannot write is still served: the lease is then skipped with a warning."""

    @abstractmethod
    def release(self, name: str, version: str) -> None:
        """Drop this process's lease on ``version``; never raises."""

    @abstractmethod
    def holders(self, name: str, version: str) -> list[str]:
        """Live leases on ``version``; stale ones (``policy.holder_is_gone``, or expired where
        the backend lets leases expire) are removed, not listed."""

    # -- housekeeping ----------------------------------------------------------------------------
    @abstractmethod
    def remove_version(self, name: str, vid: str) -> None:
        """Delete a version so that no reader trusts what may be left if this is interrupted."""

    @abstractmethod
    def stale_partials(self, name: str, age_s: float) -> list[str]:
        """What publishes that died at least ``age_s`` ago left behind, by a name
        ``remove_partial`` takes."""

    @abstractmethod
    def remove_partial(self, name: str, partial: str) -> None: ...

    # -- the rules: the same for every backend (see ``policy``) ---------------------------------
    @final
    def version_id(self, name: str, version: str = "current") -> str:
        return policy.version_id(self, name, version)

    @final
    def resolve(self, name: str, version: str = "current") -> Version:
        """The version ``version`` names ("current" follows the pointer), manifest read but files
        not yet verified (``verify`` does that)."""
        return self.read_version(name, self.version_id(name, version))

    @final
    def publish(
        self,
        name: str,
        write: Callable[[Path], object],
        info: VersionInfo,
        make_current: bool = True,
        version_id: str | None = None,
        tolerance: float = 0.01,
    ) -> Version:
        """Write a new version atomically (``write(dir)`` puts the model files in ``dir``; the
        store adds checksums and the manifest) and, only if asked, promote it. A failure leaves
        no version and ``current`` as it was."""
        vid = policy.check_name(version_id or policy.new_version_id())
        self.write_version(name, vid, write, info)
        log.info("published %s/%s to %s", name, vid, self.location)
        if make_current:
            self.promote(name, vid, tolerance)
        return self.resolve(name, vid)

    @final
    def promotion_refusal(self, name: str, candidate: VersionInfo, tolerance: float = 0.01) -> str | None:
        return policy.promotion_refusal(self, name, candidate, tolerance)

    @final
    def promote(self, name: str, version: str, tolerance: float = 0.01, force: bool = False) -> None:
        policy.promote(self, name, version, tolerance, force)

    @final
    def rollback(self, name: str) -> str:
        return policy.rollback(self, name)

    @final
    def gc(self, name: str, keep: int, tmp_age_s: float = 3600.0, dry_run: bool = False) -> policy.GcResult:
        return policy.gc(self, name, keep, tmp_age_s, dry_run)
