"""``gitward serve`` with ``spec.source.verify``: only signed commits reach the cluster.

A real cluster, a real repository with commits made by ``git commit -S``, and the
trusted keys in a real Secret of the app's namespace. An unsigned commit, or one signed
by a stranger, is refused with its SHA and the reason on the app, and the last verified
commit stays live; the next signed commit (here an SSH signature) deploys again.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest

from gitward.kube.client import KubeClient
from gitward.model import ResourceKey
from tests.engine.conftest import GitRepo
from tests.serve.conftest import Serve, application
from tests.trust.signing import How, Signers, commit_signed

pytestmark = pytest.mark.cluster


def configmap(value: str) -> str:
    return (
        f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: settings}}\ndata: {{value: {value}}}\n"
    )


def verified_app(name: str, repo: GitRepo, namespace: str) -> str:
    declared = application(name, repo, "app", namespace)
    verify = "verify: {mode: HEAD, secretRef: {name: trusted-keys}}"
    assert "targetRevision: main}" in declared
    return declared.replace("targetRevision: main}", f"targetRevision: main, {verify}}}")


async def live_value(cluster: KubeClient, namespace: str) -> str | None:
    live = await cluster.get(ResourceKey("", "ConfigMap", namespace, "settings"))
    return None if live is None else str(live["data"]["value"])


async def trust(cluster: KubeClient, namespace: str, signers: Signers) -> None:
    """The trusted keys Secret: one OpenPGP and one SSH public key, as a team stores them."""
    data = {"alice.asc": signers.gpg_public, "alice.pub": signers.ssh_public + "\n"}
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "trusted-keys", "namespace": namespace},
        "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()},
    }
    await cluster.apply(secret, field_manager="test")


def refused(sha: str) -> Any:
    def check(app: dict[str, Any]) -> bool:
        return any(f"commit {sha} is refused" in c["message"] for c in app["conditions"])

    return check


@pytest.mark.parametrize(
    ("bad", "reason"),
    [("unsigned", "it is not signed"), ("gpg-stranger", "a key that is not trusted")],
)
async def test_only_signed_commits_are_deployed_and_a_refusal_keeps_the_last_verified(  # noqa: PLR0917
    serve: Serve,
    repo: GitRepo,
    cluster: KubeClient,
    namespace: str,
    signers: Signers,
    bad: How,
    reason: str,
) -> None:
    name = f"signed-{namespace}"
    await trust(cluster, namespace, signers)
    good = commit_signed(signers, repo.path, {"app/cm.yaml": configmap("v1")}, "gpg")
    running = await serve({"app.yaml": verified_app(name, repo, namespace)})
    await running.wait_app(name, lambda a: a["revision"]["live"] == good)
    assert await live_value(cluster, namespace) == "v1"

    sha = commit_signed(signers, repo.path, {"app/cm.yaml": configmap("v2")}, bad)
    assert (await running.push(repo))[0] == 200
    app = await running.wait_app(name, refused(sha))

    message = next(c["message"] for c in app["conditions"] if sha in c["message"])
    assert reason in message
    assert name in message
    assert app["revision"]["live"] == good
    assert await live_value(cluster, namespace) == "v1"  # nothing applied from it

    fixed = commit_signed(signers, repo.path, {"app/cm.yaml": configmap("v3")}, "ssh")
    assert (await running.push(repo))[0] == 200
    app = await running.wait_app(name, lambda a: a["revision"]["live"] == fixed)
    assert await live_value(cluster, namespace) == "v3"
    assert not app["conditions"]


async def test_a_missing_keys_secret_is_reported_and_nothing_is_applied(
    serve: Serve, repo: GitRepo, cluster: KubeClient, namespace: str, signers: Signers
) -> None:
    name = f"nokeys-{namespace}"
    commit_signed(signers, repo.path, {"app/cm.yaml": configmap("v1")}, "gpg")
    running = await serve({"app.yaml": verified_app(name, repo, namespace)})

    app = await running.wait_app(
        name, lambda a: any("trusted-keys" in c["message"] for c in a["conditions"])
    )

    assert "does not exist" in app["conditions"][0]["message"]
    assert await live_value(cluster, namespace) is None
