"""Fixtures for the forge tests: a real Gitea (built from Go modules on first use)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.forge.gitea import Gitea, start_gitea
from tests.serve.conftest import GitRepo, cluster, repo, serve

__all__ = ["GitRepo", "cluster", "repo", "serve"]  # shared fixtures


@pytest.fixture(scope="session")
def gitea(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gitea]:
    """One Gitea for the session: building it takes ~40 min cold on two busy cores."""
    server = start_gitea(tmp_path_factory.mktemp("gitea"))
    try:
        yield server
    finally:
        server.stop()
