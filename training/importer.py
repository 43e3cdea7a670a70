"""Import an existing Hugging Face reward model into the store, so the service serves it like
any trained version: ``python -m model_store import SOURCE --name NAME [--promote]
[--calibrate PAIRS_FILE]`` (the store CLI hands this command here, since it needs torch).

SOURCE is a local directory in Hugging Face format or a hub id (downloaded once, weights as
safetensors only). The checkpoint must be a ``*ForSequenceClassification`` with one label; a
pickle-only checkpoint is refused with how to convert it. With ``--calibrate``, the pairs are
scored with the version as it will be served and the metrics and calibrated threshold go into
the manifest, as training writes them.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import time
from pathlib import Path
from typing import Any

from model_store import EvalMetrics, InputSpec, Store, StoreError, Threshold, Version, VersionInfo, open_store
from modeling.render import input_spec_for

log = logging.getLogger(__name__)

WEIGHTS = ("*.safetensors", "model.safetensors.index.json")
# what a tokenizer and its chat template may be saved as; never code, never pickles
TOKENIZER = (
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "vocab.json",
    "vocab.txt",
    "merges.txt",
    "spm.model",
    "sentencepiece.bpe.model",
    "tokenizer.model",
    "chat_template.jinja",
    "chat_template.json",
)


def fetch(source: str) -> Path:
    """A local directory as it is; a hub id downloaded (safetensors, config and tokenizer only)."""
    path = Path(source)
    if path.is_dir():
        return path
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(source, allow_patterns=["config.json", *WEIGHTS, *TOKENIZER]))
    except Exception as exc:  # the hub raises many kinds; the user needs one message
        raise StoreError(f"{source} is neither a local directory nor a reachable hub model: {exc}") from None


def check_checkpoint(src: Path) -> dict[str, Any]:
    """The checkpoint's config, after checking it is a one-label sequence classifier in safetensors."""
    try:
        config = json.loads((src / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise StoreError(f"{src}: no readable config.json ({exc})") from None
    archs = config.get("architectures") or []
    if not any(str(a).endswith("ForSequenceClassification") for a in archs):
        raise StoreError(f"{src}: {archs or 'no architecture'} is not a *ForSequenceClassification reward model")
    labels = len(config.get("id2label") or {}) or int(config.get("num_labels", 2))
    if labels != 1:
        raise StoreError(f"{src}: the head has {labels} labels; a reward model has exactly one")
    if not list(src.glob("*.safetensors")):
        pickles = [p.name for p in src.glob("*.bin")] + [p.name for p in src.glob("*.pt")]
        raise StoreError(
            f"{src}: no safetensors weights{f' (only {pickles})' if pickles else ''}; pickled weights are never "
            "loaded. Convert once, where you trust the file: AutoModelForSequenceClassification.from_pretrained"
            "(path).save_pretrained(out, safe_serialization=True)"
        )
    return config


def input_spec(src: Path, config: dict[str, Any], max_length: int | None, template: str) -> InputSpec:
    from modeling.loader import load_tokenizer, usable_positions

    tokenizer = load_tokenizer(src)
    positions = usable_positions(config) or 512
    try:
        return input_spec_for(tokenizer, min(max_length or positions, positions), template)
    except ValueError as exc:
        raise StoreError(f"{src}: {exc}") from None


def calibrated(src: Path, spec: InputSpec, pairs_file: str) -> tuple[EvalMetrics, Threshold]:
    """Metrics and a threshold from scoring ``pairs_file`` with these files, on the device and in
    the dtype the service will use."""
    from modeling.loader import load_files
    from modeling.scoring import score_all

    from .data import load_pairs
    from .evaluation import encode_pairs
    from .metrics import calibrate_threshold, pair_metrics

    model, tokenizer, _, _ = load_files(src, spec)
    pairs = load_pairs([pairs_file])
    chosen, rejected = encode_pairs(spec, tokenizer, pairs)
    sc, sr = score_all(model, chosen), score_all(model, rejected)
    return EvalMetrics(**pair_metrics(sc, sr)), Threshold(**calibrate_threshold(sc, sr))


def import_model(
    store: Store,
    source: str,
    name: str,
    promote: bool = False,
    calibrate: str | None = None,
    max_length: int | None = None,
    template: str = "{prompt}\n\n{response}",
) -> Version:
    src = fetch(source)
    config = check_checkpoint(src)
    spec = input_spec(src, config, max_length, template)
    info = VersionInfo(
        created_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        base_model=source,
        architecture=str(config.get("model_type", "unknown")),
        dtype=str(config.get("torch_dtype") or config.get("dtype") or "float32"),
        input=spec,
        threshold=Threshold(value=0.0, method="fixed: not calibrated (import with --calibrate PAIRS)"),
        data={"imported_from": source},
    )
    if calibrate is not None:
        metrics, threshold = calibrated(src, spec, calibrate)
        info = info.model_copy(
            update={"metrics": metrics, "threshold": threshold, "data": {**info.data, "calibrated_on": calibrate}}
        )

    def write(d: Path) -> None:
        for pattern in ("config.json", *WEIGHTS, *TOKENIZER):
            for f in src.glob(pattern):
                shutil.copyfile(f, d / f.name)

    version = store.publish(name, write, info, make_current=promote)
    log.info("imported %s as %s/%s", source, name, version.id)
    return version


def main(argv: list[str] | None = None, store_root: str | None = None, name: str = "default") -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    p = argparse.ArgumentParser(prog="python -m model_store import", description=__doc__)
    p.add_argument("source", help="a local Hugging Face directory or a hub id")
    p.add_argument("--name", default=name, help="model name in the store (also accepted before `import`)")
    p.add_argument("--store", default=store_root, help="store root or URL (also accepted before `import`)")
    p.add_argument("--promote", action="store_true", help="make it current (the pinned-set rule applies)")
    p.add_argument("--calibrate", help="a preference data file: store metrics and a calibrated threshold")
    p.add_argument("--max-length", type=int, help="tokens per item (default and maximum: the model's positions)")
    p.add_argument("--template", default="{prompt}\n\n{response}", help="how an item with a prompt is rendered")
    args = p.parse_args(argv)
    try:
        v = import_model(
            open_store(args.store), args.source, args.name, args.promote, args.calibrate, args.max_length, args.template
        )
    except (StoreError, ValueError, OSError) as exc:
        logging.error("%s", exc)
        return 2
    print(json.dumps({"version": v.id, "current": args.promote, "threshold": v.manifest.threshold.value}))
    return 0
