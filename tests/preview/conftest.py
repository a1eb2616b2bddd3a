"""Fixtures for the preview tests: a real Git repository to commit in."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.engine.conftest import GitRepo


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    return GitRepo(tmp_path / "repo")
