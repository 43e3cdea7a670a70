"""``GET /v1/models``: the versions in the store, which is current, which this server serves.
Reads the store (network calls for an object store): call it off the event loop."""

from __future__ import annotations

from model_store import StoreError

from .registry import ModelRegistry
from .schemas import ModelCard, ModelList, UnreadableVersion, VersionSummary


def model_list(registry: ModelRegistry) -> ModelList:
    store, name = registry.store, registry.settings.model
    current = store.current(name)
    served = registry.scorer.version if registry.scorer else None
    runtime = registry.scorer.runtime if registry.scorer else None
    versions: list[VersionSummary | UnreadableVersion] = []
    for vid in reversed(store.list_versions(name)):
        try:
            m = store.resolve(name, vid).manifest
        except StoreError as exc:
            versions.append(UnreadableVersion(version=vid, error=str(exc)))
            continue
        versions.append(
            VersionSummary(
                version=vid,
                created_at=m.created_at,
                base_model=m.base_model,
                metrics=m.metrics,
                threshold=m.threshold.value,
                current=vid == current,
                served=vid == served,
            )
        )
    return ModelList(
        # OpenAI's list shape first, for vLLM-style clients that read data[0].id
        data=[ModelCard(id=name, version=served, runtime=runtime)],
        name=name,
        current=current,
        served=served,
        runtime=runtime,
        champion=served,
        challenger=registry.challenger_info(),
        versions=versions,
    )
