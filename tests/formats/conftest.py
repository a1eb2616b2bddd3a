"""Fixtures of the formats tests: the real kustomize and helm, and real Git repositories."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitward.render import ManifestRenderer, RenderTools
from gitward.toolchain import Toolchain
from tests.engine.conftest import GitRepo, cluster, engine  # noqa: F401 - fixtures

TESTDATA = Path(__file__).resolve().parents[3] / "shared" / "testdata"
EXAMPLES = Path(__file__).resolve().parent / "examples"


@pytest.fixture(scope="session")
def tools() -> RenderTools:
    chain = Toolchain()
    return RenderTools(kustomize=chain.path("kustomize"), helm=chain.path("helm"))


@pytest.fixture
def renderer(tools: RenderTools) -> ManifestRenderer:
    return ManifestRenderer(tools, timeout=30.0, cache_size=0)


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    return GitRepo(tmp_path / "repo")


@pytest.fixture
def other_repo(tmp_path: Path) -> GitRepo:
    return GitRepo(tmp_path / "other")


from tests.serve.conftest import serve  # noqa: E402, F401 - the serve fixture
