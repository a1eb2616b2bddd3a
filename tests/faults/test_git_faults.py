"""The Git server fails under gitward serve: down, trickling, or serving a corrupt pack.

What a user relies on: the app keeps the last good revision in the cluster, the error is
shown on the app (saying which of the three it is), nothing in Git's cache is damaged,
and the next good fetch brings the new commit without anyone cleaning up.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gitward.kube.client import KubeClient
from tests.engine.conftest import GitRepo
from tests.faults.conftest import Plane, ServeOn
from tests.serve.conftest import Running
from tests.serve.test_controller import configmap, synced, value
from tests.support.git_server import FaultyGitServer, Mode
from tests.support.waiting import eventually

GIT_TIMEOUT = 10.0  # seconds: the fetch deadline the slow server must run into


@pytest.fixture
def git_server(tmp_path: Path) -> Iterator[FaultyGitServer]:
    server = FaultyGitServer(tmp_path)
    yield server
    server.stop()


@pytest.fixture
async def cluster(shared_fault_plane: Plane) -> AsyncIterator[KubeClient]:
    async with KubeClient.from_kubeconfig(shared_fault_plane.kubeconfig) as client:
        yield client


def app_over_http(name: str, url: str, namespace: str) -> str:
    return (
        "apiVersion: gitward.dev/v1alpha1\nkind: Application\n"
        f"metadata: {{name: {name}}}\nspec:\n"
        f"  source: {{repoURL: '{url}', path: app, targetRevision: main}}\n"
        f"  destination: {{namespace: {namespace}}}\n"
        "  syncPolicy: {automated: {prune: true, selfHeal: true}}\n"
    )


@dataclass
class World:
    running: Running
    name: str
    cluster: KubeClient
    namespace: str
    repo: GitRepo
    server: FaultyGitServer


@pytest.fixture
async def world(
    serve_on: ServeOn,
    shared_fault_plane: Plane,
    cluster: KubeClient,
    repo: GitRepo,
    git_server: FaultyGitServer,
) -> World:
    """An app synced at v1 from a smart-HTTP server that is about to misbehave."""
    namespace = f"git-{secrets.token_hex(4)}"
    await cluster.apply(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}},
        field_manager="tests",
    )
    repo.write({"app/cm.yaml": configmap("settings", "v1")})
    good = repo.commit("v1")
    name = f"app-{namespace}"
    url = git_server.url(repo.path / ".git")
    running = await serve_on(
        {"app.yaml": app_over_http(name, url, namespace)},
        kubeconfig=shared_fault_plane.kubeconfig,
        git_timeout=GIT_TIMEOUT,
    )
    app = await running.wait_app(name, synced)
    assert app["revision"]["live"] == good
    return World(running, name, cluster, namespace, repo, git_server)


async def refresh(running: Running, name: str) -> None:
    status, body = await running.api("POST", f"/api/v1/applications/{name}/refresh")
    assert status == 202, body


def error_of(app: dict[str, Any]) -> str:
    return str(app["conditions"][0]["message"]) if app["conditions"] else ""


@pytest.mark.parametrize(
    "fault",
    [
        ("down", "failed to connect"),
        ("slow", "fetch deadline of 10s"),
        ("corrupt", "damaged data"),
    ],
    ids=["down", "slow", "corrupt"],
)
async def test_a_failing_git_server_keeps_the_last_good_revision_and_recovers(
    world: World, fault: tuple[Mode, str]
) -> None:
    mode, says = fault
    running, name = world.running, world.name
    good = (await running.app(name))["revision"]["live"]

    world.server.set_mode(mode)
    world.repo.write({"app/cm.yaml": configmap("settings", "v2")})
    new = world.repo.commit("v2")
    await refresh(running, name)

    app = await running.wait_app(name, lambda a: says in error_of(a), timeout=120)
    assert app["revision"]["live"] == good  # the last good revision keeps serving
    assert await value(world.cluster, world.namespace) == "v1"
    status, history = await running.api("GET", f"/api/v1/applications/{name}/history")
    assert status == 200
    assert [h["sha"] for h in history["items"]] == [good]  # no sync was attempted

    world.server.set_mode("ok")
    await refresh(running, name)  # a person may ask; the retry would come by itself too
    app = await running.wait_app(
        name, lambda a: synced(a) and a["revision"]["live"] == new, timeout=120
    )
    assert app["conditions"] == []
    assert await value(world.cluster, world.namespace) == "v2"
    if mode == "slow":  # the stopped fetch let go of its connection
        await eventually(
            lambda: world.server.trickling, lambda n: n == 0, what="the trickle to end"
        )
