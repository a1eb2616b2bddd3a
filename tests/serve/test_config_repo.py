"""Apps of apps: the declarations live in Git and are reconciled like everything else."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from pathlib import Path

import httpx2 as httpx
import orjson
import pytest

from gitward.apply.inventory import Inventory
from gitward.devcluster import ClusterState
from gitward.kube.client import KubeClient
from gitward.model import AppSpec, Destination, ResourceKey, SourceSpec
from gitward.reconcile.config import ConfigLocation
from gitward.serve import ServeSettings, Service
from tests.engine.conftest import GitRepo
from tests.serve.conftest import WEBHOOK_SECRET, application
from tests.support.waiting import eventually, stopped

pytestmark = pytest.mark.cluster


async def push(base: str, repo: GitRepo) -> dict[str, object]:
    body = orjson.dumps(
        {
            "ref": "refs/heads/main",
            "before": "0" * 40,
            "after": repo.git("rev-parse", "HEAD"),
            "repository": {
                "full_name": "ops/config",
                "clone_url": str(repo.path),
                "ssh_url": str(repo.path),
                "html_url": str(repo.path),
            },
            "commits": [],
        }
    )
    signature = "sha256=" + hmac.new(WEBHOOK_SECRET, body, hashlib.sha256).hexdigest()
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        response = await client.post(
            "/api/v1/webhooks/github",
            content=body,
            headers={"X-GitHub-Event": "push", "X-Hub-Signature-256": signature},
        )
    assert response.status_code == 200, response.text
    result = response.json()
    assert isinstance(result, dict)
    return result


async def config_repo_service(
    control_plane: ClusterState, tmp_path: Path
) -> tuple[GitRepo, GitRepo, Service]:
    """An apps repository with one ConfigMap in ``web/``, an empty config repository,
    and a started service reading its declarations from the latter."""
    apps = GitRepo(tmp_path / "apps")
    apps.write(
        {
            "web/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\n"
            "data: {value: v1}\n"
        }
    )
    apps.commit()
    config = GitRepo(tmp_path / "config")
    config.write({"README.md": "declarations\n"})
    config.commit()
    secret = tmp_path / "secret"
    secret.write_bytes(WEBHOOK_SECRET)
    service = Service(
        ServeSettings(
            config=ConfigLocation.parse(str(config.path)),
            state_dir=tmp_path / "state",
            port=0,
            kubeconfig=control_plane.kubeconfig,
            webhook_secret_file=secret,
            poll_interval=3600,
            cache_dir=tmp_path / "cache",
        )
    )
    await service.start()
    return apps, config, service


async def test_adding_and_removing_an_application_file_in_git(
    control_plane: ClusterState, cluster: KubeClient, namespace: str, tmp_path: Path
) -> None:
    apps, config, service = await config_repo_service(control_plane, tmp_path)
    base = f"http://127.0.0.1:{service.port}"
    name = f"web-{namespace}"
    key = ResourceKey("", "ConfigMap", namespace, "settings")
    try:
        assert service.controller.apps == {}

        config.write({"apps/web.yaml": application(name, apps, "web", namespace)})
        config.commit("add web")
        answer = await push(base, config)
        assert answer["config"] is True

        await eventually(
            lambda: cluster.get(key), lambda live: live is not None, what="the new app's objects"
        )
        assert name in service.controller.apps

        config.remove("apps/web.yaml")
        config.commit("remove web")
        await push(base, config)

        await eventually(
            lambda: cluster.get(key),
            lambda live: live is None,
            what="the removed app's objects to be pruned",
        )
        assert name not in service.controller.apps
        await eventually(  # the removal ends with it, after the objects are gone
            lambda: service.store.get_status(name),
            lambda status: status is None,
            what="the removed app's status deleted",
        )
    finally:
        await stopped(service)


async def test_an_app_removed_while_its_sync_is_in_flight_leaves_nothing_behind(
    control_plane: ClusterState, cluster: KubeClient, namespace: str, tmp_path: Path
) -> None:
    """The removal lands after the app's objects were applied and before its inventory
    records them (CI hit this window by chance): the objects are pruned once that sync
    ends, and the run in flight does not write the app's status back. The real
    inventory store is held at its write, so the order is controlled, not timed."""
    apps, config, service = await config_repo_service(control_plane, tmp_path)
    base = f"http://127.0.0.1:{service.port}"
    name = f"web-{namespace}"
    key = ResourceKey("", "ConfigMap", namespace, "settings")
    local = AppSpec(name, SourceSpec(str(apps.path), "web"), Destination(namespace=namespace))
    inventories = service.engine_for(local).inventory
    real_save, writing, release = inventories.save, asyncio.Event(), asyncio.Event()

    async def held_save(inventory: Inventory, previous: Inventory | None = None) -> None:
        if inventory.app == name and not release.is_set():  # the first sync's record
            writing.set()
            await release.wait()
        await real_save(inventory, previous)

    inventories.save = held_save  # type: ignore[method-assign]
    try:
        config.write({"apps/web.yaml": application(name, apps, "web", namespace)})
        config.commit("add web")
        await push(base, config)
        await asyncio.wait_for(writing.wait(), 60)
        assert await cluster.get(key) is not None  # applied, not yet in the inventory

        config.remove("apps/web.yaml")
        config.commit("remove web")
        await push(base, config)
        assert name not in service.controller.apps  # no trigger reaches it any more
        release.set()

        await eventually(
            lambda: cluster.get(key), lambda live: live is None, what="the app's objects pruned"
        )
        await eventually(
            lambda: service.store.get_status(name),
            lambda status: status is None and name not in service.controller.status,
            what="the removed app's status deleted, not written back by its last run",
        )
        assert not (await inventories.load(name)).entries
    finally:
        await stopped(service)
