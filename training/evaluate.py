"""``python -m training evaluate``: score a stored version on preference data and print the metrics.

python -m training evaluate --data pairs.jsonl [--version current] [--name default]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
from pathlib import Path

from model_store import ModelStore, StoreError
from modeling.loader import load_version
from modeling.scoring import score_all

from . import default_data
from .data import DataError, load_pairs
from .metrics import pair_metrics
from .train import encode_pairs


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    p = argparse.ArgumentParser(prog="python -m training evaluate", description=__doc__)
    p.add_argument("--data", nargs="+", help="data files; default: a fresh sample of the embedded generator")
    p.add_argument("--format", default="auto")
    p.add_argument("--name", default="default")
    p.add_argument("--version", default="current")
    p.add_argument("--store", default=None)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    try:
        loaded = load_version(ModelStore(args.store), args.name, args.version, device="auto")
        if args.data:
            pairs = load_pairs(args.data, args.format, args.seed)
        else:
            with tempfile.TemporaryDirectory() as d:
                # a different seed than training's: unseen customers, orders and wordings
                pairs = load_pairs([str(default_data.write(Path(d) / "eval.jsonl", 200, seed=args.seed + 1000))])
        chosen, rejected = encode_pairs(loaded.spec, loaded.tokenizer, pairs)
        metrics = pair_metrics(score_all(loaded.model, chosen), score_all(loaded.model, rejected))
    except (StoreError, DataError, OSError) as exc:
        logging.error("%s", exc)
        return 2
    print(json.dumps({"model": {"name": loaded.name, "version": loaded.id}, "metrics": metrics}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
