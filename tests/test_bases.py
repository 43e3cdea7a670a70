"""Packaged pretrained bases: found through the installed distribution, extracted once, every
file's sha256 checked before use; a missing package or a changed byte stops training before
anything is published."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from model_store import open_store
from training import bases
from training.bases import PACKAGED, BaseModelError, PackagedBase
from training.config import TrainConfig, load_toml
from training.train import main as train_main

MINILM = PACKAGED["minilm"]
CONFIGS = Path(__file__).resolve().parents[1] / "training" / "configs"


def _installed_archive() -> Path:
    try:
        return bases._installed(MINILM)[1]
    except BaseModelError as exc:
        pytest.skip(f"the packaged base is not installed here ({exc})")


def test_missing_package_is_refused_naming_it(tmp_path: Path) -> None:
    ghost = PackagedBase(
        name="ghost", package="rewardgate-no-such-package", archive="ghost/model.zip",
        files={"config.json": "0" * 64}, origin="nowhere", license="none",
    )  # fmt: skip
    with pytest.raises(BaseModelError, match=r"rewardgate-no-such-package.*not installed"):
        bases.resolve(ghost, cache=tmp_path)


def test_zip_with_one_byte_changed_is_refused_with_both_hashes(tmp_path: Path) -> None:
    original = _installed_archive()
    tampered = tmp_path / "model.zip"
    with zipfile.ZipFile(original) as src, zipfile.ZipFile(tampered, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "config.json":
                i = data.index(b"384")
                data = data[:i] + b"385" + data[i + 3 :]  # one byte: the hidden size
            dst.writestr(info, data)
    with pytest.raises(BaseModelError) as err:
        bases.resolve(MINILM, archive=tampered, cache=tmp_path / "cache")
    message = str(err.value)
    assert MINILM.package in message and "config.json" in message
    assert MINILM.files["config.json"] in message  # the expected hash
    actual = message.split("has sha256 ")[1].split(",")[0]
    assert len(actual) == 64 and actual != MINILM.files["config.json"]
    assert not any((tmp_path / "cache" / "bases").glob("minilm-*")), "a refused base must not stay in the cache"


def test_the_installed_package_verifies_and_is_extracted_once(tmp_path: Path) -> None:
    _installed_archive()
    first = bases.resolve("minilm", cache=tmp_path)
    assert {p.name for p in first.path.iterdir()} == set(MINILM.files)
    stamp = (first.path / "model.safetensors").stat().st_mtime_ns
    again = bases.resolve("minilm", cache=tmp_path)
    assert again.path == first.path and (again.path / "model.safetensors").stat().st_mtime_ns == stamp
    assert again.source.package == MINILM.package and again.source.files == MINILM.files
    assert again.source.version and again.source.version[0].isdigit()


def test_a_changed_cache_stops_training_and_nothing_is_published(tmp_path: Path, monkeypatch) -> None:
    _installed_archive()
    cache = tmp_path / "cache"
    found = bases.resolve("minilm", cache=cache / "rewardgate")
    weights = found.path / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1
    weights.write_bytes(bytes(data))
    monkeypatch.setenv("REWARDGATE_CACHE", str(cache / "rewardgate"))
    store = tmp_path / "store"
    rc = train_main(["--config", str(CONFIGS / "default.toml"), "--store", str(store), "--max-steps", "1"])
    assert rc == 2
    assert open_store(str(store)).list_versions("default") == []


def test_default_config_builds_from_the_packaged_base(tmp_path: Path, monkeypatch) -> None:
    _installed_archive()
    monkeypatch.setenv("REWARDGATE_CACHE", str(tmp_path))
    cfg = TrainConfig.from_dict({**load_toml(CONFIGS / "default.toml"), "store": str(tmp_path / "store")})
    assert cfg.base_model == "minilm"
    from training.model import build

    base = build(cfg, iter(()))
    assert type(base.model).__name__ == "BertForSequenceClassification"
    assert base.model.config.num_labels == 1 and base.model.config.hidden_size == 384
    assert base.source is not None and base.source.files == MINILM.files
    assert base.tokenizer("Where is my parcel?")["input_ids"][0] == base.tokenizer.cls_token_id


def test_scratch_config_needs_no_package() -> None:
    cfg = TrainConfig.from_dict(load_toml(CONFIGS / "scratch-opt.toml"))
    assert cfg.base_model == "scratch"
