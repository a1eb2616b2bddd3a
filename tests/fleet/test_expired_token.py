"""A kubeconfig whose token has expired, under ``gitward serve``, on a real control plane.

The token is a real service-account token: a JWT signed with the API server's own
service-account key, for a ServiceAccount that exists, its ``exp`` an hour in the
past. A twin token, the same in every way but not yet expired, is the control: the API
server accepts it, so what it refuses is the expiry alone. What a user relies on: the
cluster of the expired kubeconfig shows ``Unauthorized`` with a hint, its app is
``Unknown`` with the cause, the other clusters' apps sync, and no token appears in an
answer or a log line.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import jwt
import pytest

from gitward.kube.client import KubeClient
from gitward.model import ResourceKey
from tests.engine.conftest import GitRepo
from tests.faults.conftest import Plane
from tests.fleet.conftest import FleetServe, Planes, app_doc, cluster_doc, live_value
from tests.serve.test_controller import configmap, synced
from tests.support.waiting import eventually

pytestmark = pytest.mark.cluster

ISSUER = "https://kubernetes.default.svc.cluster.local"  # the dev cluster's issuer


def service_account_token(plane: Plane, account: dict[str, Any], expires: float) -> str:
    """A service-account JWT as the API server's TokenRequest would mint it."""
    meta = account["metadata"]
    claims = {
        "iss": ISSUER,
        "aud": [ISSUER],
        "sub": f"system:serviceaccount:{meta['namespace']}:{meta['name']}",
        "iat": int(expires) - 3600,
        "nbf": int(expires) - 3600,
        "exp": int(expires),
        "kubernetes.io": {
            "namespace": meta["namespace"],
            "serviceaccount": {"name": meta["name"], "uid": meta["uid"]},
        },
    }
    key = (Path(plane.state.ca_file).parent / "sa.key").read_bytes()
    return jwt.encode(claims, key, algorithm="RS256")


def kubeconfig_with(plane: Plane, token: str, path: Path) -> str:
    """``plane``'s kubeconfig with ``token`` as its only credential."""
    config = json.loads(Path(plane.kubeconfig).read_text())
    for user in config["users"]:
        user["user"] = {"token": token}
    path.write_text(json.dumps(config))
    return str(path)


async def test_an_expired_token_is_an_error_of_its_cluster_and_apps_alone(  # noqa: PLR0917
    fleet_serve: FleetServe,
    planes: Planes,
    clients: dict[str, KubeClient],
    repo: GitRepo,
    namespace: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    east = planes["east"]
    name = f"expiry-{namespace}"[:63]
    key = ResourceKey("", "ServiceAccount", "default", name)
    if await clients["east"].get(key) is None:
        meta = {"name": name, "namespace": "default"}
        body: dict[str, Any] = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta}
        await clients["east"].create(body, field_manager="test")
    account = await clients["east"].get(key)
    assert account is not None
    expired = service_account_token(east, account, time.time() - 3600)
    fresh = service_account_token(east, account, time.time() + 3600)
    repo.write({"app/cm.yaml": configmap("settings", "v1")})
    repo.commit()
    declarations = {
        "clusters.yaml": cluster_doc("east", east.kubeconfig)
        + cluster_doc("fresh", kubeconfig_with(east, fresh, tmp_path / "fresh.json"))
        + cluster_doc("stale", kubeconfig_with(east, expired, tmp_path / "stale.json")),
        "apps.yaml": app_doc(f"ok-{namespace}", repo.path, "app", namespace, cluster="east")
        + app_doc(f"old-{namespace}", repo.path, "app", f"{namespace}-x", cluster="stale"),
    }
    running = await fleet_serve(declarations)

    await running.wait_app(f"ok-{namespace}", synced, timeout=180)
    assert await live_value(clients["east"], namespace) == "v1"
    old = await running.wait_app(
        f"old-{namespace}", lambda a: "Unauthorized" in str(a["conditions"]), timeout=180
    )
    assert old["syncState"] == "Unknown"
    assert old["conditions"][0]["type"] == "ClusterUnreachable"
    assert "expired token?" in old["conditions"][0]["message"]
    assert await live_value(clients["east"], f"{namespace}-x") is None  # nothing applied

    async def states() -> dict[str, str]:
        _, listing = await running.api("GET", "/api/v1/clusters")
        return {c["name"]: c["state"] for c in listing["items"]}

    shown = await eventually(
        states, lambda s: "Unknown" not in (s["fresh"], s["stale"]), what="both probed", timeout=180
    )
    assert shown["stale"] == "Unauthorized"
    assert shown["fresh"] == "Ready"  # the control: the same token unexpired is accepted

    everything = [str(await running.api("GET", "/api/v1/clusters")), str(old), caplog.text]
    for text in everything:
        assert expired not in text
        assert fresh not in text
