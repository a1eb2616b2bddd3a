"""Fixtures of the source stage's tests: a repository, a cache, HTTP and SSH servers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gitward.source import GitRepositorySource

from .gitfixtures import GitRepo, HttpGitServer, SshGitServer

USERNAME = "deployer"
PASSWORD = "s3cret-token-9f8e7d"  # the tests check it never shows up in errors


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    """A repository with one commit on ``main``."""
    created = GitRepo(tmp_path / "repos" / "app")
    created.commit({"app/deploy.yaml": "kind: ConfigMap\n", "README.md": "hello\n"}, "first")
    return created


@pytest.fixture
def source(tmp_path: Path) -> GitRepositorySource:
    return GitRepositorySource(tmp_path / "cache")


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[HttpGitServer]:
    """Smart HTTP with basic auth, serving every repository under ``tmp_path/repos``."""
    server = HttpGitServer(tmp_path / "repos", USERNAME, PASSWORD)
    yield server
    server.stop()


@pytest.fixture
def ssh_server(tmp_path: Path) -> Iterator[SshGitServer]:
    server = SshGitServer(tmp_path / "sshd")
    yield server
    server.stop()
