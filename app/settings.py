"""Service settings, read from ``REWARDGATE_*`` environment variables when the app is created."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from model_store import default_root


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REWARDGATE_", extra="ignore", protected_namespaces=())

    store: str = Field(
        default_factory=default_root,
        description="model store: a directory, or an fsspec URL (`s3://bucket/prefix`, `gs://`, `az://`)",
    )
    store_options: str = Field(
        "", description='JSON options for an object store\'s fsspec backend, e.g. `{"endpoint_url": ...}`'
    )
    cache: Path | None = Field(
        None, description="local cache of versions loaded from an object store (default ~/.cache/rewardgate)"
    )
    model: str = Field("default", description="model name in the store")
    version: str | None = Field(None, description="pin a version id (default: follow `current`)")
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="auto: CUDA when present, else CPU")
    dtype: str = Field("auto", description="auto (bf16 on CUDA, fp32 on CPU) | float32 | bfloat16 | float16")
    cpu_runtime: Literal["auto", "torch", "torch-int8", "torch-bf16", "onnx", "onnx-int8"] = Field(
        "auto",
        description="what runs the forward on CPU: auto (torch-bf16 where the CPU multiplies bf16 natively, "
        "else torch-int8 where it has VNNI, else torch) | torch (fp32, packed) | torch-int8 (packed, int8 linears: "
        "weights per channel, activations per token) | "
        "torch-bf16 (packed, bf16, on a CPU with native bf16) | onnx | onnx-int8 (ONNX Runtime, BERT-family encoders; needs the cpu-int8 extra). Falls back to torch, "
        "with a log line, where the runtime cannot serve the model",
    )
    threshold: float | None = Field(None, description="gate threshold; overrides the manifest's calibrated one")
    max_batch_tokens: int = Field(
        0, ge=0, description="real-token budget of one forward pass (0: per device, CPU 2048, CUDA 32768)"
    )
    max_batch_items: int = Field(256, ge=1, description="items per forward pass at most (1 disables batching)")
    max_wait_ms: float = Field(
        2.0, ge=0, description="under load, how long a batch may wait to fill; a lone caller never waits"
    )
    max_queue: int = Field(4096, ge=1, description="items waiting at most; beyond it new work gets 429")
    request_timeout_s: float = Field(30.0, gt=0, description="an item waiting longer gets 504")
    max_items: int = Field(64, ge=1, description="items per request at most (413 beyond)")
    max_body_bytes: int = Field(2_000_000, ge=1024, description="request body size at most (413 beyond)")
    max_chars: int = Field(32_000, ge=1, description="characters per prompt or response at most (422 beyond)")
    api_keys: str = Field("", description="comma-separated bearer keys for /score, /gate, /v1/models (empty: open)")
    admin_keys: str = Field(
        "",
        description="comma-separated bearer keys for /admin/reload (empty: reload disabled unless api_keys is also empty)",
    )
    metrics_auth: bool = Field(False, description="require an API key on /metrics")
    watch_interval_s: float = Field(
        0.0, ge=0, description="poll `current` and reload on change every N seconds (0: off)"
    )
    torch_threads: int = Field(0, ge=0, description="torch CPU threads (0: all cores)")
    drain_timeout_s: float = Field(
        20.0,
        ge=0,
        description="on shutdown, how long in-flight work may take to finish; work still unfinished then gets 503 `shutting_down`",
    )
    shutdown_grace_s: float = Field(
        0.0, ge=0, description="on SIGTERM, answer /readyz 503 for this long before closing the listener"
    )
    log_level: str = Field("info", description="logging level")
    gate_dimensions: str = Field(
        "none",
        description="which of the model's quality dimensions also block in /gate when below their thresholds: "
        "none (the overall score alone blocks, as with a one-output model), all, or comma-separated names; "
        "every dimension below its threshold is reported in `reasons` either way",
    )
    gate_mode: Literal["enforce", "shadow"] = Field(
        "enforce",
        description="shadow: /gate allows every item and reports `would_block` (try a model before it blocks)",
    )
    decision_log: Path | None = Field(None, description="directory for the /gate decision log (hourly JSONL files)")
    decision_log_text: bool = Field(False, description="also log prompt and response texts (default: their hash only)")
    decision_log_queue: int = Field(10_000, ge=1, description="records waiting to be written at most; beyond, dropped")
    challenger: str | None = Field(
        None, description="a version id to score beside the served one (off the request path)"
    )
    challenger_share: float = Field(0.1, ge=0, le=1, description="share of gated items the challenger scores")

    @field_validator("version", "challenger")
    @classmethod
    def _empty_is_none(cls, v: str | None) -> str | None:
        return v or None

    @field_validator("gate_dimensions")
    @classmethod
    def _dimension_names(cls, v: str) -> str:
        v = v.strip()
        names = [d.strip() for d in v.split(",")]
        if v not in ("all", "none", "") and not all(d.isidentifier() for d in names):
            raise ValueError("gate_dimensions: all, none, or comma-separated dimension names (e.g. privacy,safety)")
        return v

    @field_validator("store", mode="before")
    @classmethod
    def _path_is_str(cls, v: object) -> object:
        return str(v) if isinstance(v, Path) else v

    @field_validator("decision_log", "cache", mode="before")
    @classmethod
    def _empty_path_is_none(cls, v: object) -> object:
        return v or None

    @property
    def api_key_list(self) -> list[str]:
        return [k.strip() for k in self.api_keys.split(",") if k.strip()]

    @property
    def admin_key_list(self) -> list[str]:
        return [k.strip() for k in self.admin_keys.split(",") if k.strip()]
