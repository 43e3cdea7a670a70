"""``python -m bench.store`` (make bench-store): publish and first-load times of the default model
on a local store vs an S3 store (a live SeaweedFS on 127.0.0.1), in the same run, median of 3.

First load is what a new replica pays: resolve, download into an empty cache (S3), verify every
checksum, load onto the CPU. A restart with the cache kept is measured too."""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from model_store import ModelStore, VersionInfo, open_store
from modeling.loader import load_version

from .__main__ import default_model_store
from .seaweed import SeaweedS3

log = logging.getLogger("bench.store")


def _timed(fn: Any) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def bench_store(source: ModelStore, tmp: Path, repeats: int = 3) -> dict[str, Any]:
    src = source.resolve("default")
    info = VersionInfo.model_validate(
        {k: v for k, v in src.manifest.model_dump().items() if k in VersionInfo.model_fields}
    )
    size = sum(p.stat().st_size for p in src.path.rglob("*") if p.is_file())

    def write(d: Path) -> None:
        for p in src.path.rglob("*"):
            if p.is_file() and p.name != "manifest.json":
                dest = d / p.relative_to(src.path)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(p, dest)

    server = SeaweedS3(tmp / "seaweed")
    try:
        backends = {"local": str(tmp / "local-store"), "s3 (SeaweedFS, 127.0.0.1)": server.new_store_url()}
        out: dict[str, Any] = {"model_bytes": size, "files": len(src.manifest.files), "backends": {}}
        for label, location in backends.items():
            opts = server.options if location.startswith("s3://") else None
            store = open_store(location, opts, cache=tmp / f"cache-publish-{len(out['backends'])}")
            publish = [_timed(lambda store=store: store.publish("default", write, info)) for _ in range(repeats)]
            first, warm = [], []
            for i in range(repeats):
                cache = tmp / f"cache-{len(out['backends'])}-{i}"

                def load(location: str = location, opts: Any = opts, cache: Path = cache) -> None:
                    load_version(open_store(location, opts, cache=cache), "default", device="cpu")

                first.append(_timed(load))  # an empty cache: download, verify, load
                warm.append(_timed(load))  # a restart: the cache is re-verified and reused
            out["backends"][label] = {
                "publish_s": statistics.median(publish),
                "first_load_s": statistics.median(first),
                "restart_load_cached_s": statistics.median(warm),
            }
            log.info("%s: %s", label, out["backends"][label])
        return out
    finally:
        server.stop()


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.store", description=__doc__)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for noisy in ("model_store", "modeling", "training", "httpx", "botocore", "aiobotocore", "s3fs"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="rewardgate-bench-store-") as t:
        tmp = Path(t)
        root = default_model_store(tmp / "trained", quick=True)
        res = bench_store(ModelStore(root), tmp, args.repeats)
    print(f"default model: {res['model_bytes'] / 1e6:.1f} MB in {res['files']} files, median of {args.repeats}")
    print("| store | publish | first load (empty cache) | restart (cache kept) |")
    print("|---|---|---|---|")
    for label, r in res["backends"].items():
        print(f"| {label} | {r['publish_s']:.3f} s | {r['first_load_s']:.3f} s | {r['restart_load_cached_s']:.3f} s |")
    print(json.dumps(res))


if __name__ == "__main__":
    main()
