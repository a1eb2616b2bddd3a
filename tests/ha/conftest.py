"""Fixtures for the HA tests: a Git repository and a group of replicas per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gitward.devcluster import ClusterState
from tests.engine.conftest import GitRepo, repo
from tests.ha.replicas import Replicas
from tests.store.postgres import PostgresServer

__all__ = ["replicas", "repo"]

APPS = 60  # the number
DURATION = (
    15.0  # seconds, as Kubernetes leader election: 2 cores shared by many tests starve shorter ones
)


@pytest.fixture
def replicas(  # noqa: PLR0917 - fixtures
    tmp_path: Path,
    control_plane: ClusterState,
    postgres: PostgresServer,
    repo: GitRepo,
    namespace: str,
    request: pytest.FixtureRequest,
) -> Iterator[Replicas]:
    """Replicas (not started) for ``APPS`` apps, or as many as ``indirect`` params say."""
    count = getattr(request, "param", APPS)
    group = Replicas(
        tmp_path,
        control_plane.kubeconfig,
        postgres.create_database(),
        repo,
        namespace,
        [f"ha-{i:03d}" for i in range(count)],
        DURATION,
    )
    yield group
    group.stop_all()
