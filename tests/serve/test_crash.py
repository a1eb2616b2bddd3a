"""``kill -9`` of the controller in the middle of a sync loses nothing.

A real ``gitward serve`` process syncs an app whose first wave can never become healthy,
so the sync is still running when the process is killed. After a restart on the same
state, the history shows that sync as Interrupted, and the app is synced again.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from gitward.devcluster import ClusterState
from tests.engine.conftest import GitRepo
from tests.serve.conftest import application

pytestmark = pytest.mark.cluster

BLOCKED = """apiVersion: apps/v1
kind: Deployment
metadata: {name: db, annotations: {gitward.dev/sync-wave: "0"}}
spec:
  replicas: 1
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      nodeSelector: {disk: ssd}
      containers: [{name: db, image: postgres:17}]
"""
AFTER = """apiVersion: v1
kind: ConfigMap
metadata: {name: after, annotations: {gitward.dev/sync-wave: "1"}}
data: {ready: "yes"}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    def __init__(self, tmp: Path, cluster: ClusterState, config: Path) -> None:
        self.tmp = tmp
        self.port = free_port()
        self.cmd = [
            sys.executable,
            "-m",
            "gitward",
            "serve",
            "--config",
            str(config),
            "--state-dir",
            str(tmp / "state"),
            "--listen",
            f"127.0.0.1:{self.port}",
            "--kubeconfig",
            cluster.kubeconfig,
            "--poll-interval",
            "3600",
        ]
        self.env = {**os.environ, "GITWARD_CACHE_DIR": str(tmp / "cache")}
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with (self.tmp / "serve.log").open("ab") as log:  # the child keeps its own handle
            self.proc = subprocess.Popen(
                self.cmd,
                env=self.env,
                stdout=log,
                stderr=log,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        pytest.fail(f"gitward serve did not start:\n{(self.tmp / 'serve.log').read_text()}")

    def get(self, path: str) -> Any:
        token = (self.tmp / "state" / "admin-token").read_text().strip()
        response = httpx.get(
            f"http://127.0.0.1:{self.port}{path}",
            timeout=10,
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 200, response.text
        return response.json()

    def wait(self, path: str, check: Any, timeout: float = 60) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            body = self.get(path)
            if check(body):
                return body
            if time.monotonic() > deadline:
                pytest.fail(f"timed out on {path}: {json.dumps(body)[:2000]}")
            time.sleep(0.1)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def server(tmp_path: Path, control_plane: ClusterState) -> Iterator[Server]:
    config = tmp_path / "config"
    config.mkdir()
    running = Server(tmp_path, control_plane, config)
    yield running
    running.stop()


def test_kill_9_mid_sync_then_restart_finishes_the_sync(
    server: Server, repo: GitRepo, namespace: str, tmp_path: Path
) -> None:
    name = f"crash-{namespace}"
    repo.write({"app/db.yaml": BLOCKED, "app/after.yaml": AFTER})
    repo.commit()
    (tmp_path / "config" / "app.yaml").write_text(application(name, repo, "app", namespace))
    server.start()
    history = f"/api/v1/applications/{name}/history"

    running = server.wait(
        history, lambda h: bool(h["items"]) and h["items"][0]["result"] == "Running"
    )
    server.kill()  # the sync is waiting for wave 0 to become healthy

    repo.write({"app/db.yaml": BLOCKED.replace("nodeSelector: {disk: ssd}", "nodeSelector: {}")})
    repo.commit("schedule anywhere")
    server.start()

    done = server.wait(
        history,
        lambda h: len(h["items"]) >= 2 and h["items"][0]["result"] == "Succeeded",
        timeout=120,
    )
    first = next(r for r in done["items"] if r["id"] == running["items"][0]["id"])
    assert first["result"] == "Interrupted"
    assert "stopped before it finished" in first["message"]
    app = server.get(f"/api/v1/applications/{name}")
    assert app["syncState"] == "Synced"
    assert any(o["name"] == "after" for o in done["items"][0]["objects"])
