"""``kill -9`` of the controller in the middle of a sync loses nothing.

A real ``gitward serve`` process syncs an app whose first wave can never become healthy,
so the sync is still running when the process is killed. After a restart on the same
state, the history shows that sync as Interrupted, and the app is synced again.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gitward.devcluster import ClusterState
from tests.engine.conftest import GitRepo
from tests.serve.conftest import application
from tests.support.serve_process import ServeProcess

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


@pytest.fixture
def server(tmp_path: Path, control_plane: ClusterState) -> Iterator[ServeProcess]:
    config = tmp_path / "config"
    config.mkdir()
    running = ServeProcess(tmp_path, control_plane.kubeconfig, config)
    yield running
    running.stop()


def test_kill_9_mid_sync_then_restart_finishes_the_sync(
    server: ServeProcess, repo: GitRepo, namespace: str, tmp_path: Path
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
