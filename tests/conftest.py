"""Fixtures shared by the whole suite.

``control_plane`` starts one real local control plane (etcd, kube-apiserver,
kube-controller-manager, kube-scheduler, kwok) for the whole test session and always
tears it down; ``light_control_plane`` is etcd + kube-apiserver only, for tests that need
no controllers. Each test that asks for ``namespace`` gets a fresh namespace of its own.

Every test that uses a control plane, directly or through another fixture, is marked
``cluster`` automatically (see :func:`pytest_collection_modifyitems`), so
``pytest -m "not cluster"`` runs exactly the tests that need none. Hypothesis runs
without deadlines: a loaded machine must not turn a slow example into a failure.

Set ``GITWARD_TEST_CLUSTER_DIR`` to a dev-cluster state directory to reuse a cluster that
is already running (``gitward dev-cluster up --state-dir DIR``); it is then left running.
"""

from __future__ import annotations

import os
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from lightkube import Client, KubeConfig
from lightkube.core.exceptions import ApiError
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Namespace

from gitward.devcluster import ClusterState, ControlPlane
from tests.store.postgres import PostgresServer, PostgresUnavailableError

settings.register_profile("gitward", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("GITWARD_HYPOTHESIS_PROFILE", "gitward"))

# Fixtures that start or reuse a Kubernetes control plane; a test using any of them,
# even through other fixtures, needs the Go-built binaries and is marked ``cluster``.
CLUSTER_FIXTURES = frozenset(
    {"control_plane", "light_control_plane", "own_control_plane", "shared_fault_plane"}
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if names & CLUSTER_FIXTURES and item.get_closest_marker("cluster") is None:
            item.add_marker(pytest.mark.cluster)


def _start(tmp_path_factory: pytest.TempPathFactory, profile: str) -> Iterator[ClusterState]:
    reuse = os.environ.get("GITWARD_TEST_CLUSTER_DIR")
    if reuse:
        yield ControlPlane(Path(reuse)).up("full")
        return
    plane = ControlPlane(tmp_path_factory.mktemp(f"control-plane-{profile}"))
    try:
        yield plane.up("full" if profile == "full" else "light")
    finally:
        plane.down()


@pytest.fixture(scope="session")
def control_plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterState]:
    """The full local control plane, started once per test session."""
    yield from _start(tmp_path_factory, "full")


@pytest.fixture(scope="session")
def light_control_plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterState]:
    """etcd + kube-apiserver only: enough for API behaviour, no controllers."""
    yield from _start(tmp_path_factory, "light")


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A real PostgreSQL (Debian's binaries) on 127.0.0.1 for the whole session."""
    server = PostgresServer()
    try:
        server.start()
    except (PostgresUnavailableError, OSError, subprocess.SubprocessError) as error:
        server.stop()
        pytest.fail(f"PostgreSQL could not be started for the store tests: {error}")
    try:
        yield server
    finally:
        server.stop()


def client_for(state: ClusterState) -> Client:
    return Client(config=KubeConfig.from_file(state.kubeconfig), field_manager="gitward-tests")


@pytest.fixture(scope="session")
def kube(control_plane: ClusterState) -> Iterator[Client]:
    """A lightkube client for the full control plane, as its admin."""
    client = client_for(control_plane)
    yield client
    client.close()


@pytest.fixture
def namespace(kube: Client) -> Iterator[str]:
    """A namespace of this test's own, deleted afterwards (without waiting)."""
    name = f"t-{secrets.token_hex(4)}"
    kube.create(Namespace(metadata=ObjectMeta(name=name)))
    yield name
    try:
        kube.delete(Namespace, name)
    except ApiError as e:
        if e.status.code != 404:
            raise
