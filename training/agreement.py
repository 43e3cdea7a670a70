"""How much the labellers agree, before any training: ``python -m training agreement FILE``.

For rankings data (several labellers rank all responses of a prompt):

- Kendall's W per prompt (coefficient of concordance, 0 = no agreement, 1 = identical
  rankings; no tie correction, since rankings have no ties), and its mean over prompts;
- each labeller's agreement with the consensus: the share of response pairs they order the way
  the majority does (labeller = position in the ``rankings`` list, or the ``labellers`` field);
- the share of response pairs dropped as exact splits (no strict majority);
- the prompts with the least agreement.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections import defaultdict
from typing import Any

from model_store import Agreement

from .data import OVERALL, DataError, detect, parse_rankings, read_rows


def kendalls_w(rankings: list[list[int]]) -> float:
    """W = 12 S / (m^2 (n^3 - n)), S the squared deviations of the rank sums from their mean."""
    m, n = len(rankings), len(rankings[0])
    if m < 2 or n < 2:
        return float("nan")
    sums = [sum(r[i] for r in rankings) for i in range(n)]
    mean = m * (n + 1) / 2
    s = sum((x - mean) ** 2 for x in sums)
    return 12 * s / (m**2 * (n**3 - n))


def agreement(rows: list[tuple[str, list[list[int]], list[str] | None]], least: int = 5) -> Agreement:
    """``rows``: (prompt, rankings, labeller ids or None) for each rankings row."""
    per_prompt: list[tuple[float, str]] = []
    agree: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    pairs = dropped = 0
    for prompt, rankings, labellers in rows:
        ids = labellers or [f"labeller {j + 1}" for j in range(len(rankings))]
        w = kendalls_w(rankings)
        if w == w:  # not NaN: at least two labellers
            per_prompt.append((w, prompt))
        k = len(rankings[0])
        for a in range(k):
            for b in range(a + 1, k):
                pairs += 1
                a_first = [r[a] < r[b] for r in rankings]
                votes = sum(a_first)
                if votes * 2 == len(rankings):
                    dropped += 1
                    continue
                majority = votes * 2 > len(rankings)
                for who, v in zip(ids, a_first, strict=True):
                    agree[who][0] += v == majority
                    agree[who][1] += 1
    per_prompt.sort()
    ws = [w for w, _ in per_prompt]
    return Agreement(
        method="Kendall's W per prompt (mean over prompts); labeller agreement = share of pairs ordered as the majority",
        prompts=len(rows),
        mean_w=sum(ws) / len(ws) if ws else float("nan"),
        pairs=pairs,
        dropped_share=dropped / pairs if pairs else 0.0,
        labellers={who: a / n for who, (a, n) in sorted(agree.items()) if n},
        least_agreed=[{"prompt": p, "w": w} for w, p in per_prompt[:least]],
    )


def rankings_rows(sources: list[str]) -> list[tuple[str, list[list[int]], list[str] | None]]:
    """The rankings rows of ``sources``, validated as training would; other rows are skipped."""
    out = []
    for source in sources:
        for src, n, row in read_rows(source):
            if detect(row) != "rankings":
                continue
            parse_rankings(src, n, row)  # the same checks as training: a bad row stops here
            # the labellers' agreement on the overall preference (a dimension's rankings may come
            # from other people, or be derived from what generated the replies)
            rankings = row["rankings"].get(OVERALL) if isinstance(row["rankings"], dict) else row["rankings"]
            if rankings is None or row.get("dimension") not in (None, "", OVERALL):
                continue
            labellers = row.get("labellers")
            if labellers is not None and (not isinstance(labellers, list) or len(labellers) != len(rankings)):
                raise DataError(src, n, "labellers", "must list one id per ranking")
            out.append((row["prompt"], rankings, [str(x) for x in labellers] if labellers else None))
    return out


def format_agreement(a: Agreement) -> str:
    lines = [
        f"labeller agreement over {a.prompts} prompts ({a.method})",
        f"  mean Kendall's W: {a.mean_w:.3f}",
        f"  response pairs: {a.pairs}, dropped as exact splits: {a.dropped_share:.1%}",
        "  agreement with the majority, per labeller:",
        *(f"    {who}: {v:.1%}" for who, v in a.labellers.items()),
        "  prompts with the least agreement:",
        *(f"    W={p['w']:.3f}  {str(p['prompt'])[:90]}" for p in a.least_agreed),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    p = argparse.ArgumentParser(prog="python -m training agreement", description=__doc__)
    p.add_argument("files", nargs="+", help="rankings data files")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    args = p.parse_args(argv)
    try:
        rows = rankings_rows(args.files)
    except (DataError, OSError) as exc:
        logging.error("%s", exc)
        return 2
    if not rows:
        logging.error("no rankings rows in %s: agreement needs several labellers per prompt", ", ".join(args.files))
        return 2
    a = agreement(rows)
    out: Any = a.model_dump() if args.json else format_agreement(a)
    sys.stdout.write((json.dumps(out, indent=2) if args.json else out) + "\n")
    return 0
