"""The API docs render in a real browser with no internet: headless Chromium (Debian's, which
`make test` installs where it can) opens /docs from the live server through a proxy that leads
nowhere, so any asset fetched from a CDN would fail, and the page still shows the operations."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.docs import STATIC, SWAGGER_UI_VERSION


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        exe = shutil.which(name)
        if exe:
            return exe
    pytest.skip("no Chromium on this machine (`make test` installs Debian's chromium when it runs as root)")


def browse(url: str, tmp: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    cmd = [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        f"--user-data-dir={tmp / 'profile'}",
        # a dead proxy for everything but loopback: the page gets nothing from the internet
        "--proxy-server=http://127.0.0.1:9",
        "--proxy-bypass-list=127.0.0.1",
        "--virtual-time-budget=20000",
        "--window-size=1280,1800",
        *extra,
        url,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def test_docs_page_uses_only_packaged_assets(trained_store: dict, serve: Any) -> None:
    srv = serve(trained_store["root"])
    html = httpx.get(srv.url + "/docs").text
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
    assert assets and all(a.startswith("/static/") or a == "/openapi.json" for a in assets), assets
    for a in assets:
        r = httpx.get(srv.url + a)
        assert r.status_code == 200 and len(r.content) > 100, a
    bundle = (STATIC / "swagger-ui" / "swagger-ui-bundle.js").read_text()
    assert f'PACKAGE_VERSION:"{SWAGGER_UI_VERSION}"' in bundle  # the version the README and app/docs.py name
    assert (STATIC / "swagger-ui" / "LICENSE").is_file()
    assert httpx.get(srv.url + "/redoc").status_code == 404  # off, rather than a blank CDN page


def test_docs_render_offline_in_headless_chromium(trained_store: dict, serve: Any, tmp_path: Path) -> None:
    exe = chromium()
    srv = serve(trained_store["root"])
    dom = browse(srv.url + "/docs", tmp_path, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    # Swagger UI rendered the spec: one operation block per route, /gate among them
    paths = set(re.findall(r'class="opblock-summary-path"[^>]*data-path="([^"]+)"', dom.stdout))
    assert {"/gate", "/score", "/classify", "/predict"} <= paths, (exe, paths, dom.stdout[:1500])
    shot = tmp_path / "docs.png"
    out = browse(srv.url + "/docs", tmp_path, f"--screenshot={shot}")
    assert out.returncode == 0 and shot.stat().st_size > 20_000, out.stderr[-2000:]
