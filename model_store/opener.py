"""``open_store``: the backend a location names. The one place that maps locations to backends."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .contract import Store
from .errors import StoreError
from .object_store import ObjectStore, public_url
from .store import ModelStore, default_root


def open_store(
    location: str | Path | None = None, options: dict[str, Any] | str | None = None, cache: Path | str | None = None
) -> Store:
    """The store at ``location`` (default ``REWARDGATE_STORE``): a URL with a scheme other than
    ``file://`` is an ``ObjectStore``, anything else a local directory (``ModelStore``).
    ``options`` (a dict or JSON; default ``REWARDGATE_STORE_OPTIONS``) go to the fsspec backend;
    ``cache`` is where an object store keeps the versions it reads."""
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
            f"the store {public_url(loc)} needs the fsspec backend for its scheme ({exc.name} is not installed; "
            "for s3:// install s3fs)"
        ) from None
