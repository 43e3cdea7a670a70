"""``python -m model_store``: list, verify, promote and roll back versions.

python -m model_store list [--name default]
python -m model_store verify [VERSION]
python -m model_store promote VERSION
python -m model_store rollback
"""

from __future__ import annotations

import argparse
import json
import sys

from .errors import StoreError
from .store import ModelStore


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m model_store", description="Manage the rewardgate model store.")
    p.add_argument("--store", default=None, help="store root (default: REWARDGATE_STORE or model_store/models)")
    p.add_argument("--name", default="default", help="model name")
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list", help="versions, newest first, with their held-out accuracy")
    v = sub.add_parser("verify", help="recompute the checksums of a version")
    v.add_argument("version", nargs="?", default="current")
    pr = sub.add_parser("promote", help="make a version current")
    pr.add_argument("version")
    sub.add_parser("rollback", help="make the previously current version current again")
    args = p.parse_args(argv)
    store = ModelStore(args.store)
    try:
        if args.cmd == "list":
            cur = store.current(args.name)
            for vid in reversed(store.list_versions(args.name)):
                m = store.resolve(args.name, vid).manifest
                acc = (m.get("metrics") or {}).get("accuracy")
                flag = "*" if vid == cur else " "
                print(f"{flag} {vid}  accuracy={acc if acc is None else round(acc, 4)}  base={m.get('base_model')}")
        elif args.cmd == "verify":
            ver = store.resolve(args.name, args.version)
            store.verify(ver)
            print(json.dumps({"version": ver.id, "verified": True}))
        elif args.cmd == "promote":
            store.promote(args.name, args.version)
            print(args.version)
        elif args.cmd == "rollback":
            print(store.rollback(args.name))
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
