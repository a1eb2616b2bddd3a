"""Sealed Secrets with the real controller: sealed by kubeseal, synced by gitward, unsealed.

The controller and kubeseal are built from Go modules (v0.27.1) and the controller runs
against the dev cluster (see :mod:`tests.secrets.sealed`). Files are sealed offline with
``kubeseal --cert`` and the controller's own certificate. gitward applies the
SealedSecret, waits on its health (the controller's ``Synced`` condition, through the
bundled CEL rule), and leaves the Secret the controller makes alone: no diff, no prune.
"""

from __future__ import annotations

import base64
import datetime
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from gitward.devcluster import ClusterState
from gitward.kube.client import KubeClient
from gitward.model import Action, HealthStatus, ResourceKey, SyncPolicy
from gitward.reconcile.pipeline import Engine, SyncOptions
from gitward.toolchain import Toolchain
from tests.engine.conftest import GitRepo, app, cluster, engine, repo
from tests.support.waiting import eventually

from . import sealed
from .sealed import SealedSecretsController

__all__ = ["cluster", "engine", "repo"]  # shared fixtures

pytestmark = pytest.mark.cluster

PASSWORD = "sealed-password-Kx81"


@pytest.fixture(scope="session")
def controller(
    control_plane: ClusterState, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SealedSecretsController]:
    running = sealed.start(control_plane, tmp_path_factory.mktemp("sealed-secrets"))
    yield running
    running.stop()


def kubeseal(cert: Path, namespace: str, name: str, data: dict[str, str]) -> dict[str, Any]:
    """A SealedSecret for ``data``, sealed offline for ``cert``."""
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace},
        "stringData": data,
    }
    binary = Toolchain().ensure(["kubeseal"])["kubeseal"]
    result = subprocess.run(
        [str(binary), "--cert", str(cert), "--format", "json"],
        input=json.dumps(secret),
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(cert.parent)},
    )
    assert result.returncode == 0, result.stderr
    sealed_secret: dict[str, Any] = json.loads(result.stdout)
    assert PASSWORD not in result.stdout
    return sealed_secret


def foreign_certificate(directory: Path) -> Path:
    """The certificate of a key no controller in this cluster holds."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "another-cluster")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    path = directory / "other.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


def sealed_key(namespace: str, name: str = "db") -> ResourceKey:
    return ResourceKey("bitnami.com", "SealedSecret", namespace, name)


def secret_key(namespace: str, name: str = "db") -> ResourceKey:
    return ResourceKey("", "Secret", namespace, name)


async def test_a_sealed_secret_is_synced_unsealed_and_left_to_the_controller(
    controller: SealedSecretsController,
    repo: GitRepo,
    engine: Engine,
    cluster: KubeClient,
    namespace: str,
) -> None:
    sealed_secret = kubeseal(controller.cert, namespace, "db", {"password": PASSWORD})
    repo.write({"app/db.json": json.dumps(sealed_secret)})
    repo.commit("a sealed secret")
    spec = app(repo, "app", namespace, policy=SyncPolicy(prune=True))

    result = await engine.sync(spec, SyncOptions())

    assert not result.failed, result.changes
    health = result.health[sealed_key(namespace)]
    assert (health.status, health.message) == (HealthStatus.HEALTHY, "unsealed into its Secret")
    secret = await cluster.get(secret_key(namespace))
    assert secret is not None
    assert base64.b64decode(secret["data"]["password"]).decode() == PASSWORD
    (owner,) = secret["metadata"]["ownerReferences"]
    assert (owner["kind"], owner["name"], owner["controller"]) == ("SealedSecret", "db", True)

    # Synced again with pruning on: in sync, and the controller's Secret is untouched.
    planned = await engine.look(spec, SyncOptions(full_compare=True))
    assert planned.plan.in_sync, planned.plan.steps
    assert secret_key(namespace) not in {s.key for s in planned.plan.steps}
    again = await engine.sync(spec, SyncOptions())
    assert not again.failed
    after = await cluster.get(secret_key(namespace))
    assert after is not None
    assert after["metadata"]["uid"] == secret["metadata"]["uid"]


async def test_a_secret_sealed_for_another_key_is_degraded_with_the_controllers_message(
    *,
    controller: SealedSecretsController,
    repo: GitRepo,
    engine: Engine,
    cluster: KubeClient,
    namespace: str,
    tmp_path: Path,
) -> None:
    sealed_secret = kubeseal(foreign_certificate(tmp_path), namespace, "db", {"password": PASSWORD})
    repo.write({"app/db.json": json.dumps(sealed_secret)})
    repo.commit("sealed for another cluster")
    spec = app(repo, "app", namespace)

    result = await engine.sync(spec, SyncOptions(timeout=120))

    health = result.health[sealed_key(namespace)]
    assert health.status is HealthStatus.DEGRADED
    assert health.message == "cannot unseal: no key could decrypt secret (password)"
    assert await cluster.get(secret_key(namespace)) is None


async def test_a_sealed_secret_for_a_missing_namespace_is_a_clear_error(
    controller: SealedSecretsController, repo: GitRepo, engine: Engine, namespace: str
) -> None:
    missing = f"{namespace}-missing"
    sealed_secret = kubeseal(controller.cert, missing, "db", {"password": PASSWORD})
    repo.write({"app/db.json": json.dumps(sealed_secret)})
    repo.commit("sealed for a namespace that does not exist")
    spec = app(repo, "app", namespace)

    result = await engine.sync(spec, SyncOptions())

    assert result.failed
    (change,) = [c for c in result.changes.changes if c.key == sealed_key(missing)]
    assert missing in change.message
    assert "not found" in change.message
    assert PASSWORD not in change.message


async def test_the_controller_unseals_what_gitward_applied_within_seconds(
    controller: SealedSecretsController,
    repo: GitRepo,
    engine: Engine,
    cluster: KubeClient,
    namespace: str,
) -> None:
    """Without waiting for health, the Secret still appears: the controller does it."""
    sealed_secret = kubeseal(controller.cert, namespace, "token", {"token": PASSWORD})
    repo.write({"app/token.json": json.dumps(sealed_secret)})
    repo.commit("a sealed token")
    spec = app(repo, "app", namespace)

    result = await engine.sync(spec, SyncOptions(wait=False))

    assert not result.failed
    assert [s.action for s in result.plan.steps] == [Action.CREATE]
    secret = await eventually(
        lambda: cluster.get(secret_key(namespace, "token")),
        what="the controller to create the Secret",
        timeout=60,
    )
    assert secret is not None
    assert base64.b64decode(secret["data"]["token"]).decode() == PASSWORD
