"""Clusters as a platform team declares and watches them, on real control planes.

Three clusters side by side (the session's and two light ones, see ``conftest.py``),
declared as gitward ``Cluster`` documents and as Argo CD cluster Secrets read
unchanged; one with a token the API server refuses and one whose kubeconfig does not
exist. What a user relies on: apps reach their own cluster; each cluster's health
shows in the API and in ``gitward cluster list|get``; a bad cluster is a clear error on
its apps and nothing else stops; no credential appears in any answer or log line.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from gitward.kube.client import KubeClient
from tests.engine.conftest import GitRepo
from tests.fleet.conftest import (
    FleetServe,
    Planes,
    app_doc,
    argo_secret_doc,
    cluster_doc,
    live_value,
)
from tests.serve.test_app_cli import env_for, gitward
from tests.serve.test_controller import configmap, synced

pytestmark = pytest.mark.cluster

WRONG_TOKEN = "wrong-token-0123456789"


async def test_clusters_show_their_health_and_a_bad_one_stops_only_its_own_apps(  # noqa: PLR0917
    fleet_serve: FleetServe,
    planes: Planes,
    clients: dict[str, KubeClient],
    repo: GitRepo,
    namespace: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    repo.write({"app/cm.yaml": configmap("settings", "v1")})
    repo.commit()
    west_token = planes["west"].state.admin_token()
    declarations = {
        "clusters.yaml": cluster_doc("east", planes["east"].kubeconfig, {"env": "prod"})
        + argo_secret_doc("west", planes["west"], west_token, {"env": "staging"})
        + argo_secret_doc("locked", planes["west"], WRONG_TOKEN)
        + "apiVersion: gitward.dev/v1alpha1\nkind: Cluster\n"
        "metadata: {name: ghost}\nspec: {kubeconfig: /nonexistent/kubeconfig}\n",
        "apps.yaml": "".join(
            app_doc(f"{cluster}-{namespace}", repo.path, "app", namespace, cluster=cluster)
            for cluster in ("east", "west", "locked", "ghost")
        ),
    }
    running = await fleet_serve(declarations)

    await running.wait_app(f"east-{namespace}", synced)
    await running.wait_app(f"west-{namespace}", synced)
    assert await live_value(clients["east"], namespace) == "v1"
    assert await live_value(clients["west"], namespace) == "v1"
    assert await live_value(clients["home"], namespace) is None  # nothing went astray

    locked = await running.wait_app(
        f"locked-{namespace}", lambda a: "Unauthorized" in str(a["conditions"])
    )
    assert locked["syncState"] == "Unknown"
    assert locked["health"]["status"] == "Unknown"
    ghost = await running.wait_app(
        f"ghost-{namespace}", lambda a: "/nonexistent/kubeconfig" in str(a["conditions"])
    )
    assert ghost["conditions"][0]["type"] == "ClusterUnreachable"

    status, listing = await running.api("GET", "/api/v1/clusters")
    assert status == 200
    by_name: dict[str, dict[str, Any]] = {c["name"]: c for c in listing["items"]}
    assert by_name["east"]["state"] == "Ready"
    assert by_name["east"]["version"].startswith("v1.")
    assert by_name["east"]["labels"] == {"env": "prod"}
    assert by_name["west"]["state"] == "Ready"
    assert by_name["west"]["declaredBy"] == "ArgoCDSecret"
    assert by_name["west"]["apps"] == [f"west-{namespace}"]
    assert by_name["locked"]["state"] == "Unauthorized"
    assert by_name["ghost"]["state"] == "Invalid"
    assert "/nonexistent/kubeconfig" in by_name["ghost"]["lastError"]

    env = env_for(running)
    table = await gitward("cluster", "list", env=env)
    assert table.code == 0, table.err
    row = next(line for line in table.out.splitlines() if line.split()[:1] == ["locked"])
    assert "Unauthorized" in row
    as_json = await gitward("cluster", "get", "west", "-o", "json", env=env)
    assert as_json.json()["labels"] == {"env": "staging"}
    missing = await gitward("cluster", "get", "nowhere", env=env)
    assert missing.code != 0
    assert "no cluster named 'nowhere'" in missing.err

    everything = [str(listing), table.out, as_json.out, caplog.text]
    for name in ("east", "west", "locked", "ghost"):
        everything.append(str(await running.app(f"{name}-{namespace}")))
    for text in everything:
        assert west_token not in text
        assert WRONG_TOKEN not in text
