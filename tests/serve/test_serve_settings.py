"""`gitward serve --field-manager --inventory-namespace`: the one settings object reaches
every write a real serve process makes (the composition root of issue 12)."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from lightkube import Client
from lightkube.resources.core_v1 import ConfigMap, Namespace

from gitward.devcluster import ClusterState
from tests.engine.conftest import GitRepo
from tests.serve.conftest import application
from tests.support.serve_process import ServeProcess

pytestmark = pytest.mark.cluster


def test_field_manager_and_inventory_namespace_reach_every_write(
    tmp_path: Path, control_plane: ClusterState, kube: Client, repo: GitRepo, namespace: str
) -> None:
    inventories = f"t-inv-{secrets.token_hex(4)}"
    repo.write({"app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\n"})
    repo.commit()
    config = tmp_path / "config"
    config.mkdir()
    (config / "app.yaml").write_text(application("web", repo, "app", namespace))
    extra = ["--field-manager", "team-a", "--inventory-namespace", inventories]
    server = ServeProcess(tmp_path, control_plane.kubeconfig, config, extra=extra)
    try:
        server.start()
        server.wait("/api/v1/applications/web", lambda a: a["syncState"] == "Synced")

        meta = kube.get(ConfigMap, "settings", namespace=namespace).metadata
        assert meta is not None
        managers = {(m.manager, m.operation) for m in meta.managedFields or []}
        assert managers == {("team-a", "Apply")}
        inventory = kube.get(ConfigMap, "gitward-inventory-web", namespace=inventories)
        assert "settings" in (inventory.data or {})["inventory"]
    finally:
        server.stop()
        kube.delete(Namespace, inventories)
