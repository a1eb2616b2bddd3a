"""The Kubernetes API fails under gitward serve: killed, without etcd, or a bad network.

Each test breaks a control plane of its own (see ``conftest.py``) while ``gitward
serve`` syncs an app, then repairs it. What a user relies on: the sync that met the
fault ends Failed with a message naming the unreachable cluster (never left Running),
the app shows the error, the controller retries by itself, the sync completes once the
API is back, and the watches resume (a manual change is healed again).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from lightkube import ApiError, Client
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.apps_v1 import Deployment
from lightkube.resources.core_v1 import Namespace

from gitward.kube.client import KubeClient
from tests.engine.conftest import GitRepo
from tests.faults.conftest import Plane, ServeOn
from tests.serve.conftest import Running, application
from tests.serve.test_controller import configmap, synced, value
from tests.support.tcp_proxy import FaultyProxy
from tests.support.waiting import eventually

NAMESPACE = "faults"

NEVER_READY = """apiVersion: apps/v1
kind: Deployment
metadata: {name: db, annotations: {gitward.dev/sync-wave: "0"}}
spec:
  replicas: 1
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: db, image: postgres:17}]
"""
AFTER = """apiVersion: v1
kind: ConfigMap
metadata: {name: after, annotations: {gitward.dev/sync-wave: "1"}}
data: {value: "after"}
"""


def namespace_in(plane: Plane) -> Client:
    kube = plane.admin
    kube.create(Namespace(metadata=ObjectMeta(name=NAMESPACE)))
    return kube


def deployed(kube: Client, name: str) -> bool:
    try:
        kube.get(Deployment, name, namespace=NAMESPACE)
    except ApiError as e:
        if e.status.code == 404:
            return False
        raise
    return True


def make_available(kube: Client, name: str) -> None:
    """What kube-controller-manager and a kubelet would report (this plane has neither)."""
    live = kube.get(Deployment, name, namespace=NAMESPACE)
    assert live.metadata is not None
    status = {
        "observedGeneration": live.metadata.generation,
        "replicas": 1,
        "updatedReplicas": 1,
        "readyReplicas": 1,
        "availableReplicas": 1,
    }
    kube.patch(Deployment.Status, name, {"status": status}, namespace=NAMESPACE)


async def history(running: Running, app: str) -> list[dict[str, Any]]:
    status, body = await running.api("GET", f"/api/v1/applications/{app}/history")
    assert status == 200, body
    items: list[dict[str, Any]] = body["items"]
    return items


async def wait_history(
    running: Running, app: str, check: Any, what: str, timeout: float = 120.0
) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = await eventually(
        lambda: history(running, app), check, what=what, timeout=timeout
    )
    return result


def nothing_half_recorded(items: list[dict[str, Any]]) -> None:
    """Every sync record is finished, with a result and a message saying what happened."""
    for item in items:
        assert item["result"] in ("Succeeded", "Failed", "Interrupted"), item
        assert item["finishedAt"] is not None, item
        assert item["message"], item


async def heals_drift(kubeconfig: str, name: str = "settings", expected: str = "v2") -> None:
    """The watches are alive: a change by hand is seen and reverted by self-heal."""
    async with KubeClient.from_kubeconfig(kubeconfig) as cluster:
        by_hand = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": NAMESPACE},
            "data": {"value": "by-hand"},
        }
        await cluster.apply(by_hand, field_manager="kubectl-edit", force=True)
        await eventually(
            lambda: value(cluster, NAMESPACE, name),
            lambda v: v == expected,
            what="self-heal to revert the manual change (watch events must flow again)",
            timeout=120,
        )


async def test_apiserver_killed_mid_sync_and_restarted(
    own_control_plane: Plane, serve_on: ServeOn, repo: GitRepo
) -> None:
    plane = own_control_plane
    kube = namespace_in(plane)
    repo.write({"app/db.yaml": NEVER_READY, "app/after.yaml": AFTER})
    repo.commit()
    name = "killed-apiserver"
    running = await serve_on(
        {"app.yaml": application(name, repo, "app", NAMESPACE)}, kubeconfig=plane.kubeconfig
    )
    # The sync applied wave 0 and waits for the Deployment to become available.
    started = await wait_history(
        running, name, lambda h: bool(h) and h[0]["result"] == "Running", "a running sync"
    )
    await eventually(  # "Running" is recorded before the first apply: wait for wave 0
        lambda: asyncio.to_thread(deployed, kube, "db"), bool, what="wave 0 (db) applied"
    )

    plane.kill("kube-apiserver")
    failed = await wait_history(
        running,
        name,
        lambda h: h[0]["id"] == started[0]["id"] and h[0]["result"] == "Failed",
        "the sync that lost the API server to end Failed",
    )
    assert "failed" in failed[0]["message"]
    app = await running.wait_app(name, lambda a: bool(a["conditions"]))
    assert "reachable" in app["conditions"][0]["message"]  # names the cause: no cluster

    plane.start("kube-apiserver")
    plane.wait_ready()
    await asyncio.to_thread(make_available, kube, "db")
    app = await running.wait_app(name, synced, timeout=180)  # retried by itself

    done = await history(running, name)
    assert done[0]["result"] == "Succeeded"
    assert {o["name"] for o in done[0]["objects"]} >= {"db", "after"}
    nothing_half_recorded(done)
    assert app["conditions"] == []
    await heals_drift(plane.kubeconfig, "after", "after")


async def test_etcd_stopped_makes_syncs_fail_until_it_is_back(
    own_control_plane: Plane, serve_on: ServeOn, repo: GitRepo
) -> None:
    plane = own_control_plane
    namespace_in(plane)
    repo.write({"app/cm.yaml": configmap("settings", "v1")})
    repo.commit()
    name = "no-etcd"
    running = await serve_on(
        {"app.yaml": application(name, repo, "app", NAMESPACE)}, kubeconfig=plane.kubeconfig
    )
    await running.wait_app(name, synced)

    plane.kill("etcd")  # the API server stays up and answers with errors
    repo.write({"app/cm.yaml": configmap("settings", "v2")})
    sha = repo.commit("v2")
    assert (await running.push(repo))[0] == 200
    # Every request that needs storage hangs until the client's deadline (the API server
    # itself answers 504 only after 60 s): the reconcile fails and says so on the app.
    app = await running.wait_app(name, lambda a: bool(a["conditions"]), timeout=180)
    print("with etcd down, the app says:", app["conditions"][0]["message"])
    assert "failed" in app["conditions"][0]["message"]
    assert app["revision"]["live"] != sha
    nothing_half_recorded(await history(running, name))

    plane.start("etcd")
    plane.wait_ready()
    app = await running.wait_app(
        name, lambda a: synced(a) and a["revision"]["live"] == sha, timeout=180
    )
    assert app["lastOperation"]["result"] == "Succeeded"
    nothing_half_recorded(await history(running, name))
    await heals_drift(plane.kubeconfig)


async def test_a_stalled_then_reset_network_to_the_api_server(
    own_control_plane: Plane, serve_on: ServeOn, repo: GitRepo, tmp_path: Path
) -> None:
    plane = own_control_plane
    namespace_in(plane)
    proxy = FaultyProxy(plane.api_port).start()
    try:
        kubeconfig = plane.kubeconfig_via(proxy.port, tmp_path)
        repo.write({"app/cm.yaml": configmap("settings", "v1")})
        repo.commit()
        name = "bad-network"
        running = await serve_on(
            {"app.yaml": application(name, repo, "app", NAMESPACE)}, kubeconfig=kubeconfig
        )
        await running.wait_app(name, synced)

        # A partition: connections stay open, no byte moves. Requests time out.
        proxy.set_mode("stall")
        repo.write({"app/cm.yaml": configmap("settings", "v2")})
        stalled = repo.commit("v2")
        assert (await running.push(repo))[0] == 200
        app = await running.wait_app(
            name,
            lambda a: bool(a["conditions"]) and "reachable" in a["conditions"][0]["message"],
            timeout=180,
        )
        proxy.set_mode("reset")  # every connection is reset: still failing, differently
        await running.wait_app(
            name,
            lambda a: (
                bool(a["conditions"])
                and a["conditions"][0]["message"] != app["conditions"][0]["message"]
            ),
            timeout=180,
        )
        assert (await running.app(name))["revision"]["live"] != stalled

        proxy.heal()
        app = await running.wait_app(
            name, lambda a: synced(a) and a["revision"]["live"] == stalled, timeout=180
        )
        nothing_half_recorded(await history(running, name))
        await heals_drift(kubeconfig)
    finally:
        proxy.close()
