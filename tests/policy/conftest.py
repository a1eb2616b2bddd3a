"""Fixtures for the policy tests: the real OPA, built from Go modules on first use."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gitward.policy.opa import OpaPool
from gitward.toolchain import Toolchain
from tests.engine.conftest import GitRepo


@pytest.fixture(scope="session")
def opa_binary() -> Path:
    """The pinned OPA (built into the user cache the first time: ~3 min on two cores)."""
    return Toolchain().ensure(["opa"])["opa"]


@pytest.fixture
def opa(opa_binary: Path) -> Iterator[OpaPool]:
    pool = OpaPool(opa_binary)
    try:
        yield pool
    finally:
        pool.close()


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    """A real Git repository the test writes to and commits in."""
    return GitRepo(tmp_path / "repo")
