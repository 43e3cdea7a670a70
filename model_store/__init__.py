"""rewardgate model store: the contract between training (writes) and the service (reads).

Light on purpose: no torch, no transformers. The model runtime that reads a version lives in
``modeling``.
"""

from .errors import ChecksumMismatch, InvalidVersionName, ManifestError, StoreError, VersionNotFound
from .manifest import (
    SCHEMA_VERSION,
    EvalMetrics,
    GateCheck,
    InputSpec,
    Manifest,
    QualityGate,
    ScoreStats,
    Threshold,
    VersionInfo,
)
from .store import GcResult, ModelStore, Version, check_name, default_root, new_version_id

__all__ = [
    "SCHEMA_VERSION",
    "ChecksumMismatch",
    "EvalMetrics",
    "GateCheck",
    "GcResult",
    "InputSpec",
    "InvalidVersionName",
    "Manifest",
    "ManifestError",
    "ModelStore",
    "QualityGate",
    "ScoreStats",
    "StoreError",
    "Threshold",
    "Version",
    "VersionInfo",
    "VersionNotFound",
    "check_name",
    "default_root",
    "new_version_id",
]
