"""rewardgate model store: the contract between training (writes) and the service (reads).

Light on purpose: no torch, no transformers. The model runtime that reads a version lives in
``modeling``.
"""

from .errors import (
    ChecksumMismatch,
    InvalidVersionName,
    ManifestError,
    PromotionRefused,
    StoreError,
    VersionNotFound,
)
from .manifest import (
    SCHEMA_VERSION,
    Agreement,
    BaseSource,
    EvalMetrics,
    GateCheck,
    InputSpec,
    Manifest,
    PinnedEval,
    QualityGate,
    ScoreStats,
    Threshold,
    VersionInfo,
)
from .object_store import ObjectStore, open_store
from .store import GcResult, ModelStore, Version, check_name, default_root, new_version_id

__all__ = [
    "SCHEMA_VERSION",
    "Agreement",
    "BaseSource",
    "ChecksumMismatch",
    "EvalMetrics",
    "GateCheck",
    "GcResult",
    "InputSpec",
    "InvalidVersionName",
    "Manifest",
    "ManifestError",
    "ModelStore",
    "ObjectStore",
    "PinnedEval",
    "PromotionRefused",
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
    "open_store",
]
