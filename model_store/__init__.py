"""rewardgate model store: the contract between training (writes) and the service (reads)."""

from .errors import ChecksumMismatch, InvalidVersionName, ManifestError, StoreError, VersionNotFound
from .packed import PackedRewardModel
from .render import InputSpec, encode, prefix_ids_of, render
from .store import SCHEMA_VERSION, ModelStore, Version, check_name, default_root, new_version_id

__all__ = [
    "SCHEMA_VERSION",
    "ChecksumMismatch",
    "InputSpec",
    "InvalidVersionName",
    "ManifestError",
    "ModelStore",
    "PackedRewardModel",
    "StoreError",
    "Version",
    "VersionNotFound",
    "check_name",
    "default_root",
    "encode",
    "new_version_id",
    "prefix_ids_of",
    "render",
]
