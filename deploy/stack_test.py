"""``make stack-test``: the real stack, really run, on this machine.

1. Installs what it needs (Debian's docker.io, prometheus and debootstrap) when missing.
2. Starts its own dockerd (data and exec roots in a temporary directory, its own socket).
3. Gets the base image: ``docker pull python:3.11-slim`` when a registry answers; otherwise a
   stand-in of the same Debian release with Python, built with debootstrap and imported under
   the upstream tag, so the unchanged Dockerfile builds (said in the output).
4. Builds the image from the repo's Dockerfile, from a wheelhouse made on the host (``pip
   download``: the build cannot reach the index) pinned by deploy/constraints.txt.
5. Trains the default model in a container into a volume, runs the service container, and checks
   from outside: /readyz 200, /gate blocks a rude reply and allows a good one.
6. Runs the real Prometheus with deploy/prometheus/prometheus.yml (its target pointed at the
   container), checks ``promtool check config`` and ``promtool check metrics``, sends traffic,
   and checks through Prometheus's HTTP API that the target is up and that every PromQL query of
   the provisioned Grafana dashboard returns data.
7. SIGTERM to the container while requests are in flight: every one answered, exit code 0.
Everything it starts it stops, by PID (dockerd, Prometheus) or by name (containers, volume).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import yaml

from bench.load import free_port

ROOT = Path(__file__).resolve().parents[1]
TAG = "rewardgate:stack-test"
BASE = "python:3.11-slim"
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rewardgate" / "stack"
GOOD = {
    "prompt": "Where is my order #12345?",
    "response": "Hi Sam, thanks for waiting! Your order shipped yesterday and arrives tomorrow; the tracking link is in your email.",
}
RUDE = {"prompt": "Where is my order #12345?", "response": "Stop bothering us. Figure it out yourself, idiot."}
T0 = time.monotonic()


def step(msg: str) -> None:
    print(f"[{time.monotonic() - T0:6.1f}s] {msg}", flush=True)


def check(ok: bool, what: str) -> None:
    print(f"           {'PASS' if ok else 'FAIL'}  {what}", flush=True)
    if not ok:
        raise SystemExit(f"stack-test failed: {what}")


def run(cmd: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
    kw.setdefault("check", True)
    kw.setdefault("text", True)
    return subprocess.run(cmd, **kw)


# -- 1. system packages -------------------------------------------------------------------------
def install_system_packages() -> None:
    need = {"dockerd": "docker.io", "prometheus": "prometheus", "promtool": "prometheus", "debootstrap": "debootstrap"}
    missing = sorted({pkg for exe, pkg in need.items() if shutil.which(exe) is None})
    if not missing:
        step("system packages: dockerd, prometheus, promtool, debootstrap present")
        return
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise SystemExit(f"stack-test needs {missing} (Debian packages) and root to install them")
    step(f"installing {missing} with apt-get")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run(["apt-get", "update", "-qq"], env=env)
    run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing], env=env, stdout=subprocess.DEVNULL)


# -- 2. dockerd ---------------------------------------------------------------------------------
class Dockerd:
    def __init__(self, tmp: Path) -> None:
        self.root = tmp / "docker"
        self.sock = self.root / "docker.sock"
        self.root.mkdir()
        self.env = {**os.environ, "DOCKER_HOST": f"unix://{self.sock}"}
        self.log = open(tmp / "dockerd.log", "wb")  # noqa: SIM115 - closed in stop()
        cmd = [
            "dockerd",
            f"--data-root={self.root / 'data'}",
            f"--exec-root={self.root / 'exec'}",
            f"--pidfile={self.root / 'dockerd.pid'}",
            f"--host=unix://{self.sock}",
            "--iptables=false",
            "--ip6tables=false",
            "--bridge=none",  # containers use the host network: nothing to route, nothing to NAT
        ]
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while run(["docker", "info"], env=self.env, check=False, capture_output=True).returncode != 0:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise SystemExit("dockerd did not start:\n" + (tmp / "dockerd.log").read_text()[-3000:])
            time.sleep(0.5)
        driver = run(["docker", "info", "--format", "{{.Driver}}"], env=self.env, capture_output=True).stdout.strip()
        step(f"dockerd up (pid {self.proc.pid}, storage driver {driver})")

    def docker(self, *args: str, **kw: Any) -> subprocess.CompletedProcess[str]:
        env = {**self.env, **kw.pop("env", {})}
        return run(["docker", *args], env=env, **kw)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        # dockerd unmounts what it mounted on a clean stop; anything left is unmounted here
        mounts = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]
        for m in sorted((m for m in mounts if m.startswith(str(self.root))), key=len, reverse=True):
            subprocess.run(["umount", "-l", m], check=False)


# -- 3. base image ------------------------------------------------------------------------------
def base_image(d: Dockerd, tmp: Path) -> str:
    pulled = d.docker("pull", BASE, check=False, capture_output=True)
    if pulled.returncode == 0:
        step(f"base image {BASE} pulled from its registry")
        return "pulled"
    step(f"no registry reachable ({pulled.stderr.strip().splitlines()[-1][:120]})")
    tarball = CACHE / "python-3.11-bookworm-rootfs.tar"
    if not tarball.exists():
        step("building the stand-in: debootstrap of Debian bookworm with Python 3.11 (cached for next time)")
        rootfs = tmp / "rootfs"
        run(
            [
                "debootstrap",
                "--variant=minbase",
                "--include=python3,python3-venv,python3-pip,ca-certificates",
                "bookworm",
                str(rootfs),
                "http://deb.debian.org/debian",
            ],
            stdout=subprocess.DEVNULL,
        )
        # what python:3.11-slim has and Debian's Python lacks: `python` and `pip` on the PATH,
        # pip allowed to install (no PEP 668 marker), an empty apt cache
        (rootfs / "usr/local/bin/python").symlink_to("/usr/bin/python3")
        (rootfs / "usr/local/bin/pip").symlink_to("/usr/bin/pip3")
        for marker in (rootfs / "usr/lib").glob("python3*/EXTERNALLY-MANAGED"):
            marker.unlink()
        shutil.rmtree(rootfs / "var/cache/apt/archives", ignore_errors=True)
        CACHE.mkdir(parents=True, exist_ok=True)
        run(["tar", "-C", str(rootfs), "-cf", str(tarball) + ".part", "."])
        os.replace(str(tarball) + ".part", tarball)
        shutil.rmtree(rootfs, ignore_errors=True)
    changes = [
        "ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin",
        "ENV LANG=C.UTF-8",
        'CMD ["python3"]',
    ]
    args = [a for c in changes for a in ("--change", c)]
    with open(tarball, "rb") as f:
        d.docker("import", *args, "-", BASE, stdin=f, stdout=subprocess.DEVNULL)
    step(f"base image: the debootstrap stand-in imported as {BASE} (no registry was reachable)")
    return "stand-in"


# -- 4. wheelhouse and build ----------------------------------------------------------------------
def wheelhouse() -> None:
    house = ROOT / "wheelhouse"
    py = ROOT / ".venv" / "bin" / "python"
    reqs = ROOT / "wheelhouse" / "requirements.txt"
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    opt = project["optional-dependencies"]
    reqs.write_text("\n".join(["torch==2.13.0", *project["dependencies"], *opt["train"], *opt["s3"]]) + "\n")
    step("wheelhouse: pip download of every dependency, pinned by deploy/constraints.txt")
    constraints = str(ROOT / "deploy" / "constraints.txt")
    cmd = [str(py), "-m", "pip", "download", "-q", "--only-binary=:all:", "-d", str(house), "-c", constraints]
    run([*cmd, "-r", str(reqs)], stdout=subprocess.DEVNULL)
    reqs.unlink()
    n = len(list(house.glob("*.whl")))
    size = sum(p.stat().st_size for p in house.glob("*.whl")) / 1e6
    step(f"wheelhouse: {n} wheels, {size:.0f} MB")


def build(d: Dockerd) -> None:
    step(f"docker build -t {TAG} . (the repo's Dockerfile, legacy builder)")
    t = time.monotonic()
    d.docker("build", "-q", "-t", TAG, str(ROOT), env={"DOCKER_BUILDKIT": "0"}, stdout=subprocess.DEVNULL)
    size = int(d.docker("image", "inspect", TAG, "--format", "{{.Size}}", capture_output=True).stdout.strip())
    user = d.docker("image", "inspect", TAG, "--format", "{{.Config.User}}", capture_output=True).stdout.strip()
    step(f"image built in {time.monotonic() - t:.0f}s: {size / 1e6:.0f} MB, user {user}")
    check(user not in ("", "root", "0"), f"the image runs as a non-root user ({user})")


# -- 5. train and serve -------------------------------------------------------------------------
@contextlib.contextmanager
def service(d: Dockerd, volume: str, port: int) -> Iterator[str]:
    name = f"rewardgate-stack-{os.getpid()}"
    d.docker(
        "run", "-d", "--name", name, "--network", "host", "-v", f"{volume}:/models",
        "-e", f"PORT={port}", "-e", "HOST=127.0.0.1", "-e", "REWARDGATE_SHUTDOWN_GRACE_S=1",
        TAG, capture_output=True,
    )  # fmt: skip
    try:
        yield name
    finally:
        d.docker("rm", "-f", name, check=False, capture_output=True)


def wait_ready(url: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                return
        time.sleep(0.5)
    raise SystemExit("the service container never became ready")


def check_gate(url: str) -> None:
    r = httpx.get(url + "/readyz")
    check(r.status_code == 200, f"GET /readyz from outside the container: {r.status_code}")
    r = httpx.post(url + "/gate", json={"items": [GOOD, RUDE]})
    res = r.json()["results"]
    check(r.status_code == 200, "POST /gate answers 200")
    check(res[0]["decision"] == "allow", f"/gate allows the good reply (score {res[0]['score']:.2f})")
    check(res[1]["decision"] == "block", f"/gate blocks the rude reply (score {res[1]['score']:.2f})")


# -- 6. Prometheus --------------------------------------------------------------------------------
def dashboard_queries() -> list[tuple[str, str]]:
    dash = json.loads((ROOT / "deploy/grafana/dashboards/rewardgate.json").read_text())
    out = []
    for p in dash["panels"]:
        for t in p.get("targets", []):
            # Grafana's interval variables, as Grafana would fill them at a 5 s scrape interval
            expr = re.sub(r"\$__rate_interval|\$__interval|\$__range", "1m", t["expr"])
            out.append((p["title"], expr))
    return out


def traffic(url: str, seconds: float) -> None:
    end = time.monotonic() + seconds
    with httpx.Client(timeout=30) as c:
        i = 0
        while time.monotonic() < end:
            c.post(url + "/gate", json={"items": [GOOD, RUDE, f"reply number {i}"]})
            c.post(url + "/score", json={"items": [GOOD]})
            i += 1
            time.sleep(0.02)


def prometheus(tmp: Path, url: str, target: str) -> None:
    cfg = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    for job in cfg["scrape_configs"]:
        for sc in job["static_configs"]:
            sc["targets"] = [target]
    path = tmp / "prometheus.yml"
    path.write_text(yaml.safe_dump(cfg))
    r = run(["promtool", "check", "config", str(path)], check=False, capture_output=True)
    check(
        r.returncode == 0, "promtool check config (deploy/prometheus/prometheus.yml, target pointed at the container)"
    )
    metrics = httpx.get(url + "/metrics").text
    r = run(["promtool", "check", "metrics"], input=metrics, check=False, capture_output=True)
    problems = (r.stdout + r.stderr).strip()
    check(r.returncode == 0, f"promtool check metrics on /metrics{': ' + problems if problems else ''}")
    port = free_port()
    prom_url = f"http://127.0.0.1:{port}"
    log = open(tmp / "prometheus.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        ["prometheus", f"--config.file={path}", f"--storage.tsdb.path={tmp / 'tsdb'}", f"--web.listen-address=127.0.0.1:{port}"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    step(f"prometheus up (pid {proc.pid}) on {prom_url}, scraping {target} every {cfg['global']['scrape_interval']}")
    try:
        traffic(url, 25)  # spans several scrapes, so rates have two points in their window
        deadline = time.monotonic() + 60
        up: list[Any] = []
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.TransportError):
                up = httpx.get(prom_url + "/api/v1/query", params={"query": "up"}).json()["data"]["result"]
                if up and up[0]["value"][1] == "1":
                    break
            time.sleep(1)
        check(bool(up) and up[0]["value"][1] == "1", f"Prometheus target {target} is up")
        empty = []
        for title, expr in dashboard_queries():
            res = httpx.get(prom_url + "/api/v1/query", params={"query": expr}).json()
            ok = res["status"] == "success" and bool(res["data"]["result"])
            print(f"           {'PASS' if ok else 'FAIL'}  dashboard '{title}': {expr}", flush=True)
            if not ok:
                empty.append(title)
        check(not empty, f"every dashboard query returns data ({len(dashboard_queries())} queries)")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


# -- 7. SIGTERM ------------------------------------------------------------------------------------
def sigterm_drains(d: Dockerd, name: str, url: str) -> None:
    answers: list[int] = []

    def call() -> None:
        r = httpx.post(url + "/score", json={"items": [GOOD["response"] + " more" * 200] * 64}, timeout=60)
        answers.append(r.status_code)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for t in threads:
        t.start()
    time.sleep(0.3)
    d.docker("kill", "--signal", "TERM", name, capture_output=True)
    for t in threads:
        t.join()
    code = d.docker("wait", name, capture_output=True).stdout.strip()
    check(answers == [200] * 8, f"requests in flight at SIGTERM all answered: {answers}")
    check(code == "0", f"the container drained and exited with code {code}")


def main() -> None:
    argparse.ArgumentParser(prog="make stack-test", description=__doc__).parse_args()
    install_system_packages()
    with tempfile.TemporaryDirectory(prefix="rewardgate-stack-") as t:
        tmp = Path(t)
        d = Dockerd(tmp)
        volume = f"rewardgate-stack-models-{os.getpid()}"
        try:
            base_image(d, tmp)
            wheelhouse()
            build(d)
            d.docker("volume", "create", volume, capture_output=True)
            step("training the default model in a container into a volume (python -m training, as compose's `train`)")
            t0 = time.monotonic()
            d.docker(
                "run", "--rm", "--network", "host", "-v", f"{volume}:/models", TAG,
                "python", "-m", "training", "--config", "training/configs/default.toml",
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            step(f"trained and published in {time.monotonic() - t0:.0f}s")
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            with service(d, volume, port) as name:
                step(f"service container {name} started on {url}")
                wait_ready(url)
                check_gate(url)
                health = ""
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline and health != "healthy":
                    time.sleep(2)
                    health = d.docker(
                        "inspect", name, "--format", "{{.State.Health.Status}}", capture_output=True
                    ).stdout.strip()
                check(health == "healthy", f"Docker's HEALTHCHECK says {health}")
                prometheus(tmp, url, f"127.0.0.1:{port}")
                sigterm_drains(d, name, url)
        finally:
            d.docker("volume", "rm", "-f", volume, check=False, capture_output=True)
            d.stop()  # the wheelhouse stays (git-ignored): a second run downloads nothing
    step("stack-test passed")


if __name__ == "__main__":
    sys.exit(main())
