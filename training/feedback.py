"""``python -m training feedback LOG_DIR --out FILE``: decisions worth a human look, ready for
labellers.

Reads the service's decision log (``REWARDGATE_DECISION_LOG``; the texts are needed, so the
service must run with ``REWARDGATE_DECISION_LOG_TEXT=true``) and picks, deduplicated by item:

- the decisions closest to the threshold (``--closest``), where the model is least sure;
- every champion/challenger disagreement;
- a random control share (``--control``), so labellers also see ordinary traffic.

They are written in the rankings format, grouped by prompt, with empty ``rankings`` for the
labellers to fill in; training refuses a row until it is ranked. Train on old and new labels
together by passing both files: ``python -m training --data old.jsonl labelled_feedback.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import sys
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def read_log(directory: Path) -> list[dict[str, Any]]:
    records = []
    for path in sorted(directory.glob("decisions-*.jsonl")):
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    records.append(json.loads(line))
                except ValueError:
                    log.warning("%s:%d: not JSON, skipped (a write cut short?)", path, n)
    return records


def select(records: list[dict[str, Any]], closest: int, control: float, seed: int) -> list[tuple[str, dict[str, Any]]]:
    """(why, record) for each item worth a look, one per distinct item."""
    by_item: dict[str, dict[str, Any]] = {}
    for r in records:
        by_item.setdefault(r["item_sha256"], r)  # the first decision on an item stands for it
    unique = list(by_item.values())
    picked: dict[str, tuple[str, dict[str, Any]]] = {}
    for r in unique:
        ch = r.get("challenger")
        if (ch and ch["decision"] != r["decision"] and r["mode"] == "enforce") or (
            ch and r["mode"] == "shadow" and (ch["decision"] == "block") != r["would_block"]
        ):
            picked[r["item_sha256"]] = ("champion and challenger disagree", r)
    for r in sorted(unique, key=lambda r: abs(r["score"] - r["threshold"]))[:closest]:
        picked.setdefault(r["item_sha256"], ("close to the threshold", r))
    rest = [r for r in unique if r["item_sha256"] not in picked]
    rng = random.Random(seed)
    for r in rng.sample(rest, min(len(rest), round(control * len(picked)) if picked else round(control * len(rest)))):
        picked[r["item_sha256"]] = ("random control", r)
    return list(picked.values())


def to_rankings(selected: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for why, r in selected:
        prompt = r.get("prompt") or ""
        row = rows.setdefault(prompt, {"prompt": prompt, "responses": [], "rankings": [], "why": []})
        row["responses"].append(r["response"])
        row["why"].append(
            {
                "reason": why,
                "score": r["score"],
                "threshold": r["threshold"],
                "request_id": r["request_id"],
                # what the gate said was wrong with it (the dimensions below their thresholds)
                "gate_reasons": r.get("reasons", []),
            }
        )
    return list(rows.values())


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    p = argparse.ArgumentParser(prog="python -m training feedback", description=__doc__)
    p.add_argument("log_dir", type=Path, help="the decision log directory")
    p.add_argument("--out", type=Path, required=True, help="JSONL file to write, in the rankings format")
    p.add_argument("--closest", type=int, default=100, help="how many decisions closest to the threshold")
    p.add_argument("--control", type=float, default=0.1, help="random control picks, as a share of the others")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    records = read_log(args.log_dir)
    if not records:
        log.error("no decisions in %s", args.log_dir)
        return 2
    if not all("response" in r for r in records):
        log.error("the log holds no texts: run the service with REWARDGATE_DECISION_LOG_TEXT=true to export feedback")
        return 2
    rows = to_rankings(select(records, args.closest, args.control, args.seed))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    log.info(
        "%d decisions read; %d responses in %d prompts written to %s",
        len(records),
        sum(len(r["responses"]) for r in rows),
        len(rows),
        args.out,
    )
    return 0
