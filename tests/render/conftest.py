"""Fixtures of the render tests: the real kustomize and helm, test data, small repositories.

The binaries come from the toolchain (tests may import it; the render stage
may not). The shared test data sits beside the repository checkout and may be read-only,
so tests copy what they need into temporary repositories.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from gitward.render import ManifestRenderer, RenderTools
from gitward.toolchain import Toolchain

from .helpers import Write


@pytest.fixture(scope="session")
def tools() -> RenderTools:
    chain = Toolchain()
    return RenderTools(kustomize=chain.path("kustomize"), helm=chain.path("helm"))


@pytest.fixture
def renderer(tools: RenderTools) -> ManifestRenderer:
    return ManifestRenderer(tools, timeout=30.0, cache_size=0)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """An empty repository tree (a plain directory: render never needs Git itself)."""
    root = tmp_path / "repo"
    root.mkdir()
    return root


@pytest.fixture
def write(repo: Path) -> Write:
    """Write a dedented file into the repository, creating its directories."""

    def write_file(relative: str, text: str) -> Path:
        path = repo / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return write_file
