"""rewardgate model store: the contract between training (writes) and the service (reads).

Light on purpose: no torch, no transformers. The model runtime that reads a version lives in
``modeling``.

``contract.Store`` is what every backend implements; ``policy`` holds the rules all of them follow;
``store.ModelStore`` (a directory) and ``object_store.ObjectStore`` (fsspec object storage) are
the backends; ``opener.open_store`` picks one from a location.
"""

from .contract import Store, Version
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
    Dimension,
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
from .object_store import ObjectStore
from .opener import open_store
from .policy import GcResult, check_name, new_version_id
from .store import ModelStore, default_root

__all__ = [
    "SCHEMA_VERSION",
    "Agreement",
    "BaseSource",
    "ChecksumMismatch",
    "Dimension",
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
    "Store",
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
