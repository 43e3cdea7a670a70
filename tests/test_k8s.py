"""The Kubernetes manifests: each overlay builds with `kubectl kustomize`, every object validates
strictly against the Kubernetes schemas (kubernetes-validate), and the pieces fit together
(probes on the real routes, a grace period that covers the drain, the GPU asked for, keys from
a Secret, the store from the ConfigMap the service and the training Job share)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ["cpu", "gpu"]


def build(overlay: str) -> list[dict[str, Any]]:
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not installed on this machine (it runs `kubectl kustomize`, offline)")
    out = subprocess.run(
        ["kubectl", "kustomize", str(K8S / "overlays" / overlay)], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    return [d for d in yaml.safe_load_all(out.stdout) if d]


def by_kind(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {d["kind"]: d for d in docs}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_builds_and_validates_strictly(overlay: str) -> None:
    import kubernetes_validate

    docs = build(overlay)
    kinds = sorted(d["kind"] for d in docs)
    assert kinds == sorted(
        ["ConfigMap", "Deployment", "HorizontalPodAutoscaler", "Job", "PodDisruptionBudget", "Service"]
    )
    version = kubernetes_validate.latest_version()
    for doc in docs:
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{overlay}: {doc['kind']}/{doc['metadata']['name']}: {exc.message}")


def test_a_broken_manifest_fails_validation() -> None:
    """The validation above can fail: a misspelt field in a Deployment is refused."""
    import kubernetes_validate

    dep = by_kind(build("cpu"))["Deployment"]
    dep["spec"]["template"]["spec"]["containers"][0]["readinessProbes"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(dep, kubernetes_validate.latest_version(), strict=True)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_pieces_fit_together(overlay: str) -> None:
    objs = by_kind(build(overlay))
    dep, cm, job = objs["Deployment"], objs["ConfigMap"], objs["Job"]
    pod = dep["spec"]["template"]
    c = pod["spec"]["containers"][0]
    assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
    # the grace period covers the preStop pause, the readyz grace and the whole drain
    data = cm["data"]
    pre_stop = 5
    assert "sleep(5)" in " ".join(c["lifecycle"]["preStop"]["exec"]["command"])
    need = pre_stop + float(data["REWARDGATE_SHUTDOWN_GRACE_S"]) + float(data["REWARDGATE_DRAIN_TIMEOUT_S"])
    assert pod["spec"]["terminationGracePeriodSeconds"] > need
    # every REWARDGATE_ variable the ConfigMap sets is a real setting
    fields = {f"REWARDGATE_{n.upper()}" for n in Settings.model_fields}
    assert set(data) <= fields, set(data) - fields
    assert data["REWARDGATE_STORE"].startswith("s3://")
    keys = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in c["env"] if "valueFrom" in e}
    assert keys["REWARDGATE_API_KEYS"]["name"] == keys["REWARDGATE_ADMIN_KEYS"]["name"] == "rewardgate-keys"
    for spec in (c, job["spec"]["template"]["spec"]["containers"][0]):
        assert {"configMapRef": {"name": cm["metadata"]["name"]}} in spec["envFrom"]
    assert pod["metadata"]["annotations"]["prometheus.io/scrape"] == "true"
    assert objs["Service"]["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
    assert objs["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
    assert objs["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]["name"] == dep["metadata"]["name"]
    gpu = c["resources"]["limits"].get("nvidia.com/gpu")
    assert (gpu == "1") if overlay == "gpu" else gpu is None
    env = {e["name"]: e.get("value") for e in c["env"]}
    assert env["REWARDGATE_DEVICE"] == ("cuda" if overlay == "gpu" else "cpu")
