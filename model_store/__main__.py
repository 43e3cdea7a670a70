"""``python -m model_store``: list, verify, promote, roll back and clean up versions.

python -m model_store list [--name default]
python -m model_store current            (exit 1 when there is none)
python -m model_store verify [VERSION]
python -m model_store promote VERSION [--tolerance 0.01] [--force]
python -m model_store pin-eval FILE
python -m model_store rollback
python -m model_store gc --keep N [--dry-run]
python -m model_store import SOURCE [--promote] [--calibrate PAIRS] [--max-length N]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .errors import StoreError
from .opener import open_store


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    head = argparse.ArgumentParser(add_help=False)
    head.add_argument("--store", default=None)
    head.add_argument("--name", default="default")
    known, rest = head.parse_known_args(argv)
    if rest[:1] == ["import"]:
        # importing a checkpoint needs torch and transformers: the rest of the CLI stays light
        from training.importer import main as import_main

        return import_main(rest[1:], known.store, known.name)
    p = argparse.ArgumentParser(prog="python -m model_store", description="Manage the rewardgate model store.")
    p.add_argument(
        "--store",
        default=None,
        help="store: a directory or an fsspec URL such as s3://bucket/prefix (default: REWARDGATE_STORE or "
        "model_store/models); object-store options come from REWARDGATE_STORE_OPTIONS (JSON)",
    )
    p.add_argument("--name", default="default", help="model name")
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list", help="versions, newest first, with their held-out accuracy")
    sub.add_parser("import", help="import a Hugging Face reward model (see `import --help`)")
    sub.add_parser("current", help="the current version id (exit code 1 when there is none)")
    v = sub.add_parser("verify", help="recompute the checksums of a version")
    v.add_argument("version", nargs="?", default="current")
    pr = sub.add_parser("promote", help="make a version current (refused if worse than current on the pinned set)")
    pr.add_argument("version")
    pr.add_argument("--tolerance", type=float, default=0.01, help="accuracy it may lose on the pinned set")
    pr.add_argument("--force", action="store_true", help="promote even if worse; recorded in promotions.jsonl")
    pin = sub.add_parser("pin-eval", help="pin a preference data file as this model's evaluation set")
    pin.add_argument("file", type=Path)
    sub.add_parser("rollback", help="make the previously current version current again")
    g = sub.add_parser(
        "gc",
        help="delete old versions, keeping current, the promotion history, the N newest and any version a "
        "running service holds; remove temporary directories of killed publishes",
    )
    g.add_argument("--keep", type=int, required=True, help="newest versions to keep besides the protected ones")
    g.add_argument(
        "--tmp-age-s", type=float, default=3600.0, help="remove a publish's temporary directory this old (seconds)"
    )
    g.add_argument("--dry-run", action="store_true", help="say what would be removed, remove nothing")
    args = p.parse_args(argv)
    store = open_store(args.store)
    try:
        if args.cmd == "list":
            cur = store.current(args.name)
            for vid in reversed(store.list_versions(args.name)):
                flag = "*" if vid == cur else " "
                try:
                    m = store.resolve(args.name, vid).manifest
                except StoreError as exc:
                    print(f"{flag} {vid}  unreadable: {exc}")
                    continue
                acc = None if m.metrics is None else round(m.metrics.accuracy, 4)
                print(f"{flag} {vid}  accuracy={acc}  threshold={m.threshold.value:.4g}  base={m.base_model}")
        elif args.cmd == "current":
            cur = store.current(args.name)
            if cur is None:
                print(f"model {args.name!r} has no current version in {store.location}", file=sys.stderr)
                return 1
            print(cur)
        elif args.cmd == "verify":
            ver = store.resolve(args.name, args.version)
            store.verify(ver)
            print(json.dumps({"version": ver.id, "verified": True}))
        elif args.cmd == "promote":
            store.promote(args.name, args.version, args.tolerance, args.force)
            print(args.version)
        elif args.cmd == "pin-eval":
            print(json.dumps({"pinned": str(args.file), "sha256": store.pin_eval(args.name, args.file)}))
        elif args.cmd == "rollback":
            print(store.rollback(args.name))
        elif args.cmd == "gc":
            res = store.gc(args.name, args.keep, args.tmp_age_s, args.dry_run)
            verb = "would remove" if args.dry_run else "removed"
            for vid in res.removed:
                print(f"{verb} {vid}")
            for tmp in res.temp_removed:
                print(f"{verb} temporary {tmp}")
            print(f"kept {len(res.kept)} version(s)")
    except (StoreError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
