"""``python -m training evaluate``: score a stored version on preference data; print the
metrics and, with ``--out``, write the same report and figures a trained version holds.

python -m training evaluate --data pairs.jsonl [--version current] [--name default] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
from pathlib import Path

from model_store import EvalMetrics, StoreError, open_store
from modeling.loader import load_version
from modeling.scoring import score_all

from . import default_data
from .data import DataError, load_pairs
from .evaluation import Evaluation, encode_pairs
from .figures import write_figures
from .metrics import pair_metrics
from .report import report


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    p = argparse.ArgumentParser(prog="python -m training evaluate", description=__doc__)
    p.add_argument("--data", nargs="+", help="data files; default: a fresh sample of the embedded generator")
    p.add_argument("--format", default="auto")
    p.add_argument("--name", default="default")
    p.add_argument("--version", default="current")
    p.add_argument("--store", default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, help="write report.md and PNG figures here")
    args = p.parse_args(argv)
    try:
        loaded = load_version(open_store(args.store), args.name, args.version, device="auto")
        if args.data:
            pairs = load_pairs(args.data, args.format, args.seed)
        else:
            with tempfile.TemporaryDirectory() as d:
                # a different seed than training's: unseen customers, orders and wordings
                pairs = load_pairs([str(default_data.write(Path(d) / "eval.jsonl", 200, seed=args.seed + 1000))])
        # the overall output on the overall preferences (all pairs, for data without dimensions),
        # each dimension's output on its own pairs
        overall = [p for p in pairs if p.dimension is None] or pairs
        chosen, rejected = encode_pairs(loaded.spec, loaded.tokenizer, overall)
        sc, sr = score_all(loaded.model, chosen), score_all(loaded.model, rejected)
        metrics = EvalMetrics(**pair_metrics(sc, sr))
        per_dimension = {}
        for i, name in enumerate(loaded.model.dimensions, 1):
            mine = [p for p in pairs if p.dimension == name]
            if mine:
                dc, dr = encode_pairs(loaded.spec, loaded.tokenizer, mine)
                outputs_c, outputs_r = (score_all(loaded.model, x, all_outputs=True)[:, i] for x in (dc, dr))
                per_dimension[name] = EvalMetrics(**pair_metrics(outputs_c, outputs_r))
        if args.out:
            threshold = loaded.manifest.threshold
            ev = Evaluation(metrics, threshold, {}, None, None, sc, sr)
            write_figures(
                sc, sr, threshold.value, args.out, f"{loaded.name} on {', '.join(args.data or ['generated data'])}"
            )
            (args.out / "report.md").write_text(report(loaded.name, loaded.id, ev, {}), encoding="utf-8")
    except (StoreError, DataError, OSError) as exc:
        logging.error("%s", exc)
        return 2
    out = {"model": {"name": loaded.name, "version": loaded.id}, "metrics": metrics.model_dump()}
    if per_dimension:
        out["dimensions"] = {name: m.model_dump() for name, m in per_dimension.items()}
    sys.stdout.write(json.dumps(out, indent=2) + "\n")
    return 0
