"""Fixtures for the fleet tests: extra control planes beside the session's, and serve.

Three clusters side by side: the session's full control plane (``control_plane``, the
controller's default cluster) and two light ones (etcd + kube-apiserver each) started
once for this package, ``east`` and ``west``. A test that kills a component of one
restarts it before it ends (:func:`restored`), so the next test finds it whole.
``fleet_serve`` runs ``gitward serve`` in-process with the test's declarations.
"""

from __future__ import annotations

import base64
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from gitward.devcluster import ClusterState, ControlPlane, processes
from gitward.kube.client import KubeClient
from gitward.model import ResourceKey
from gitward.reconcile.config import ConfigLocation
from gitward.serve import ServeSettings, Service
from tests.engine.conftest import repo
from tests.faults.conftest import Plane
from tests.serve.conftest import WEBHOOK_SECRET, Running

__all__ = ["repo"]  # a shared fixture

Planes = dict[str, Plane]


@pytest.fixture(scope="package")
def planes(
    control_plane: ClusterState, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Planes]:
    """Two light control planes of this package, ``east`` and ``west``."""
    started: Planes = {}
    try:
        for name in ("east", "west"):
            plane = ControlPlane(tmp_path_factory.mktemp(f"fleet-{name}"), ready_timeout=180.0)
            try:
                started[name] = Plane(plane, plane.up("light"))
            except BaseException:
                plane.down()
                raise
        yield started
    finally:
        for broken in started.values():
            broken.down()


@contextlib.contextmanager
def restored(plane: Plane) -> Iterator[None]:
    """Whatever the test does to ``plane``'s API server, it runs again afterwards."""
    try:
        yield
    finally:
        if not processes.is_running(plane.record("kube-apiserver")):
            plane.start("kube-apiserver")
            plane.wait_ready()


@pytest.fixture
async def clients(
    planes: Planes, control_plane: ClusterState
) -> AsyncIterator[dict[str, KubeClient]]:
    """An async admin client per cluster: ``home`` (the default), ``east``, ``west``."""
    made = {
        "home": KubeClient.from_kubeconfig(control_plane.kubeconfig),
        **{name: KubeClient.from_kubeconfig(p.kubeconfig) for name, p in planes.items()},
    }
    yield made
    for client in made.values():
        await client.aclose()


def cluster_doc(name: str, kubeconfig: str, labels: dict[str, str] | None = None) -> str:
    """A gitward ``Cluster`` document for the cluster of ``kubeconfig``."""
    shown = ", ".join(f"{k}: {v}" for k, v in (labels or {}).items())
    return (
        "apiVersion: gitward.dev/v1alpha1\nkind: Cluster\n"
        f"metadata: {{name: {name}, labels: {{{shown}}}}}\n"
        f"spec: {{kubeconfig: '{kubeconfig}'}}\n---\n"
    )


async def live_value(client: KubeClient, namespace: str) -> str | None:
    """The value of ConfigMap ``settings`` in ``namespace``, or None if it is absent."""
    live = await client.get(ResourceKey("", "ConfigMap", namespace, "settings"))
    return None if live is None else str(live["data"]["value"])


def argo_secret_doc(
    name: str, plane: Plane, token: str, labels: dict[str, str] | None = None
) -> str:
    """An Argo CD cluster Secret for ``plane``, as Argo CD's docs show one."""
    ca = base64.b64encode(Path(plane.state.ca_file).read_bytes()).decode()
    config = f'{{"bearerToken": "{token}", "tlsClientConfig": {{"caData": "{ca}"}}}}'
    shown = "".join(f"\n    {k}: {v}" for k, v in (labels or {}).items())
    return (
        "apiVersion: v1\nkind: Secret\n"
        f"metadata:\n  name: cluster-{name}\n  labels:\n"
        f"    argocd.argoproj.io/secret-type: cluster{shown}\n"
        "type: Opaque\nstringData:\n"
        f"  name: {name}\n  server: {plane.state.server}\n  config: '{config}'\n---\n"
    )


FleetServe = Callable[..., Awaitable[Running]]


@pytest.fixture
async def fleet_serve(control_plane: ClusterState, tmp_path: Path) -> AsyncIterator[FleetServe]:
    """``gitward serve`` in-process; its default cluster is the session's control plane."""
    started: list[Service] = []

    async def start(declarations: dict[str, str], **settings: Any) -> Running:
        config = tmp_path / "config"
        config.mkdir(exist_ok=True)
        for name, text in declarations.items():
            (config / name).write_text(text)
        secret = tmp_path / "webhook-secret"
        secret.write_bytes(WEBHOOK_SECRET)
        service = Service(
            ServeSettings(
                config=ConfigLocation.parse(str(config)),
                state_dir=tmp_path / "state",
                port=0,
                kubeconfig=control_plane.kubeconfig,
                webhook_secret_file=secret,
                poll_interval=settings.pop("poll_interval", 3600.0),
                cache_dir=tmp_path / "cache",
                **settings,
            )
        )
        await service.start()
        started.append(service)
        assert service.token_path is not None
        return Running(
            service,
            f"http://127.0.0.1:{service.port}",
            service.token_path.read_text().strip(),
            config,
        )

    yield start
    for service in started:
        await service.stop()


def app_doc(
    name: str,
    repo_path: Path,
    path: str,
    namespace: str,
    *,
    cluster: str | None = None,
    extra: str = "",
) -> str:
    """An automated, pruning Application that creates its namespace."""
    destination = (
        f"name: {cluster}, namespace: {namespace}" if cluster else f"namespace: {namespace}"
    )
    return (
        "apiVersion: gitward.dev/v1alpha1\nkind: Application\n"
        f"metadata: {{name: {name}}}\nspec:\n"
        f"  source: {{repoURL: '{repo_path}', path: {path}, targetRevision: main}}\n"
        f"  destination: {{{destination}}}\n"
        "  syncPolicy:\n    automated: {prune: true, selfHeal: true}\n"
        "    syncOptions: [CreateNamespace=true]\n"
        f"{extra}---\n"
    )
