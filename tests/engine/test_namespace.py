"""CreateNamespace under a long-lived engine (as ``gitward serve`` keeps one per cluster)."""

from __future__ import annotations

import secrets

import pytest

from gitward.kube.client import KubeClient
from gitward.model import Outcome, ResourceKey, SyncPolicy
from gitward.reconcile.pipeline import Engine, SyncOptions
from tests.engine.conftest import GitRepo, app
from tests.support.waiting import eventually

pytestmark = pytest.mark.cluster


async def gone(cluster: KubeClient, key: ResourceKey) -> None:
    """Wait until the namespace controller has finished deleting ``key``."""
    await eventually(lambda: cluster.get(key), lambda live: live is None, what=f"{key} deleted")


async def test_a_namespace_deleted_by_hand_is_created_again(
    repo: GitRepo, engine: Engine, cluster: KubeClient
) -> None:
    name = f"t-created-{secrets.token_hex(4)}"
    repo.write({"app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\n"})
    repo.commit()
    policy = SyncPolicy(options=(("CreateNamespace", "true"),))
    spec = app(repo, "app", name, policy=policy)
    namespace = ResourceKey("", "Namespace", "", name)
    settings = ResourceKey("", "ConfigMap", name, "settings")
    try:
        first = await engine.sync(spec, SyncOptions(wait=False))
        assert not first.failed, first.changes
        await cluster.delete(namespace)  # a person cleans up, the app is still declared
        await gone(cluster, namespace)

        again = await engine.sync(spec, SyncOptions(wait=False))

        assert [c.outcome for c in again.changes.changes] == [Outcome.CREATED]
        assert await cluster.get(namespace) is not None
        assert await cluster.get(settings) is not None
    finally:
        await cluster.delete(namespace)
