"""Git credentials from a Secret (``spec.source.secretRef``, Flux's GitRepository
``secretRef``): a private repository over smart HTTP with basic auth and over SSH with a
key, synced into the real control plane; a missing Secret or a wrong password is a clear
error that applies nothing and never shows the password."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from lightkube import Client
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import ConfigMap, Namespace, Secret

from gitward import compose
from gitward.devcluster import ClusterState
from gitward.errors import ConfigError, SourceError
from gitward.kube.client import KubeClient
from gitward.model import AppSpec, Destination, SourceSpec
from gitward.reconcile.pipeline import SyncOptions

from .conftest import PASSWORD, USERNAME
from .gitfixtures import GitRepo, HttpGitServer, SshGitServer

pytestmark = pytest.mark.cluster

CONFIG_MAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: private\ndata:\n  v: '1'\n"


@pytest.fixture
def private(tmp_path: Path) -> GitRepo:
    created = GitRepo(tmp_path / "repos" / "private")
    created.commit({"deploy/cm.yaml": CONFIG_MAP}, "first")
    return created


@pytest.fixture
def other_namespace(kube: Client, namespace: str) -> Iterator[str]:
    """A second namespace, as Flux's flux-system holding a GitRepository's Secret."""
    name = f"{namespace}-src"
    kube.create(Namespace(metadata=ObjectMeta(name=name)))
    yield name
    kube.delete(Namespace, name)


def put_secret(kube: Client, namespace: str, name: str, values: dict[str, str]) -> None:
    data = {k: base64.b64encode(v.encode()).decode() for k, v in values.items()}
    kube.create(Secret(metadata=ObjectMeta(name=name, namespace=namespace), data=data))


async def sync(control_plane: ClusterState, tmp_path: Path, spec: AppSpec) -> None:
    async with KubeClient.from_kubeconfig(control_plane.kubeconfig) as cluster:
        engine = compose.engine(compose.Settings(cache_dir=tmp_path / "cache"), cluster)
        await engine.sync(spec, SyncOptions())


def app(namespace: str, url: str, secret: str, secret_namespace: str | None = None) -> AppSpec:
    source = SourceSpec(url, "deploy", "main", secret_ref=secret, secret_namespace=secret_namespace)
    return AppSpec(
        name=f"private-{namespace}", source=source, destination=Destination(namespace=namespace)
    )


def applied(kube: Client, namespace: str) -> dict[str, str] | None:
    names = {
        cm.metadata.name: cm.data for cm in kube.list(ConfigMap, namespace=namespace) if cm.metadata
    }
    return names.get("private")


async def test_https_basic_auth_from_a_secret_in_the_destination_namespace(
    private: GitRepo, tmp_path: Path, control_plane: ClusterState, kube: Client, namespace: str
) -> None:
    server = HttpGitServer(tmp_path / "repos", USERNAME, PASSWORD)
    try:
        put_secret(kube, namespace, "git-auth", {"username": USERNAME, "password": PASSWORD})
        await sync(control_plane, tmp_path, app(namespace, server.url(private), "git-auth"))
    finally:
        server.stop()
    assert applied(kube, namespace) == {"v": "1"}


async def test_ssh_key_and_known_hosts_from_a_flux_sources_namespace(
    private: GitRepo,
    tmp_path: Path,
    control_plane: ClusterState,
    kube: Client,
    *,
    namespace: str,
    other_namespace: str,
) -> None:
    server = SshGitServer(tmp_path / "sshd")
    try:
        values = {
            "identity": server.user_key.read_text(),
            "known_hosts": server.known_hosts_line(),
        }
        put_secret(kube, other_namespace, "ssh-auth", values)
        spec = app(namespace, server.url(private), "ssh-auth", other_namespace)
        await sync(control_plane, tmp_path, spec)
    finally:
        server.stop()
    assert applied(kube, namespace) == {"v": "1"}


async def test_a_missing_secret_or_a_wrong_password_applies_nothing(
    private: GitRepo, tmp_path: Path, control_plane: ClusterState, kube: Client, namespace: str
) -> None:
    server = HttpGitServer(tmp_path / "repos", USERNAME, PASSWORD)
    wrong = "not-" + PASSWORD[::-1]
    try:
        url = server.url(private)
        with pytest.raises(ConfigError, match=f"credentials Secret {namespace}/absent .* does not"):
            await sync(control_plane, tmp_path, app(namespace, url, "absent"))
        put_secret(kube, namespace, "wrong", {"username": USERNAME, "password": wrong})
        with pytest.raises(SourceError) as caught:
            await sync(control_plane, tmp_path, app(namespace, url, "wrong"))
    finally:
        server.stop()
    assert "credentials" in str(caught.value)
    assert wrong not in str(caught.value)
    assert applied(kube, namespace) is None
