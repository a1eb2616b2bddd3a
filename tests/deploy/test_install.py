"""The install manifests on a real API server, and `gitward bootstrap` end to end.

The dev cluster runs kube-controller-manager and kwok, so the Deployment really rolls out
(its pods are kwok's: no image is pulled, which is why these tests can run without a
container engine). Each test installs into its own namespace.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from gitward import compose
from gitward.devcluster import ClusterState
from gitward.install.manifests import InstallOptions, render
from tests.deploy.conftest import bare_repository, delete_install, gitward, kubectl

pytestmark = pytest.mark.cluster


@pytest.fixture
def install_namespace(control_plane: ClusterState, request: pytest.FixtureRequest) -> Iterator[str]:
    name = f"gw-{request.node.name[5:20].replace('_', '-').strip('-')}"
    yield name
    delete_install(control_plane, name)


def test_the_manifests_pass_server_dry_run_and_the_deployment_becomes_available(
    control_plane: ClusterState, install_namespace: str
) -> None:
    options = InstallOptions(
        config_repo="https://git.test/config.git",
        namespace=install_namespace,
        write_namespaces=("team-a",),
    )
    manifests = render(compose.tool("helm"), options)
    kubectl(control_plane, "create", "namespace", "team-a", check=False)
    # A server dry run needs the namespaces it writes into (it creates nothing).
    kubectl(control_plane, "create", "namespace", install_namespace)
    dry = kubectl(
        control_plane, "apply", "--server-side", "--dry-run=server", "-f", "-", stdin=manifests
    )
    assert "serverside-applied (server dry run)" in dry
    kubectl(control_plane, "apply", "--server-side", "-f", "-", stdin=manifests)
    kubectl(
        control_plane, "-n", install_namespace, "create", "secret", "generic", "gitward-secrets",
        "--from-literal=webhook-secret=w", "--from-literal=admin-token=t",
    )  # fmt: skip
    kubectl(
        control_plane, "-n", install_namespace, "wait", "deployment/gitward",
        "--for=condition=Available", "--timeout=180s",
    )  # fmt: skip


def test_bootstrap_installs_commits_and_is_idempotent(
    control_plane: ClusterState, install_namespace: str, tmp_path: Path
) -> None:
    repo = bare_repository(tmp_path / "config.git")
    args = [
        "bootstrap", "--repo", repo, "--path", "clusters/dev", "--namespace", install_namespace,
        "--kubeconfig", control_plane.kubeconfig, "--timeout", "240",
    ]  # fmt: skip
    first = gitward(*args)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "committed clusters/dev/apps/gitward.yaml" in first.stderr
    head = _head(tmp_path / "config.git")
    secret = json.loads(
        kubectl(
            control_plane, "-n", install_namespace, "get", "secret", "gitward-secrets", "-o", "json"
        )
    )
    assert set(secret["data"]) == {"webhook-secret", "admin-token"}
    for value in secret["data"].values():  # never printed
        assert value not in first.stdout + first.stderr
    kubectl(
        control_plane, "-n", install_namespace, "wait", "deployment/gitward",
        "--for=condition=Available", "--timeout=60s",
    )  # fmt: skip

    second = gitward(*args)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "already holds this install" in second.stderr
    assert _head(tmp_path / "config.git") == head, "a second bootstrap must not commit"
    again = json.loads(
        kubectl(
            control_plane, "-n", install_namespace, "get", "secret", "gitward-secrets", "-o", "json"
        )
    )
    assert again["data"] == secret["data"], "a second bootstrap keeps the tokens in use"

    # The repository alone reproduces the install: gitward sees nothing to change.
    checkout = tmp_path / "checkout"
    subprocess.run(["git", "clone", "-q", repo, str(checkout)], check=True)
    diff = gitward(
        "diff", "-f", str(checkout / "clusters/dev/apps/gitward.yaml"),
        "--kubeconfig", control_plane.kubeconfig,
    )  # fmt: skip
    assert diff.returncode == 0, diff.stdout + diff.stderr


def _head(bare: Path) -> str:
    return subprocess.run(
        ["git", "-C", str(bare), "rev-parse", "refs/heads/main"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
