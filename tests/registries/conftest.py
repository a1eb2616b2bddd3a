"""Fixtures of the registry tests: built tools, charts, a chart repository, a registry."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from gitward.render import ManifestRenderer, RenderTools
from gitward.source import GitRepositorySource
from gitward.toolchain import Toolchain

from .servers import Registry, StaticServer, registry, run


@dataclass(frozen=True)
class Tools:
    helm: Path
    oras: Path
    registry: Path
    kustomize: Path


@pytest.fixture(scope="session")
def tools() -> Tools:
    found = Toolchain().ensure(["helm", "oras", "registry", "kustomize"])
    return Tools(found["helm"], found["oras"], found["registry"], found["kustomize"])


@pytest.fixture
def renderer(tools: Tools) -> ManifestRenderer:
    return ManifestRenderer(RenderTools(kustomize=tools.kustomize, helm=tools.helm), timeout=60)


@pytest.fixture
def source(tmp_path: Path) -> GitRepositorySource:
    return GitRepositorySource(tmp_path / "cache")


def write_chart(root: Path, name: str, version: str, *, extra: str = "") -> Path:
    """A chart whose one ConfigMap names its chart version and a value."""
    chart = root / f"{name}-{version}" / name
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(
        f"apiVersion: v2\nname: {name}\nversion: {version}\n{textwrap.dedent(extra)}"
    )
    (chart / "values.yaml").write_text("greeting: hello\n")
    (chart / "templates" / "cm.yaml").write_text(
        textwrap.dedent(
            """\
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: {{ .Release.Name }}-{{ .Chart.Name }}
            data:
              version: {{ .Chart.Version | quote }}
              greeting: {{ .Values.greeting | quote }}
            """
        )
    )
    return chart


VERSIONS = ("1.0.0", "1.2.0", "1.3.0-rc.1", "2.0.0")


def package(tools: Tools, chart: Path, into: Path, home: Path) -> Path:
    into.mkdir(parents=True, exist_ok=True)
    run([tools.helm, "package", chart, "--destination", into], home)
    name, version = chart.name, chart.parent.name.removeprefix(f"{chart.name}-")
    return into / f"{name}-{version}.tgz"


@pytest.fixture
def chart_packages(tools: Tools, tmp_path: Path) -> list[Path]:
    """``hello`` in four versions, packaged by the built helm."""
    sources, out = tmp_path / "chart-sources", tmp_path / "packages"
    return [
        package(tools, write_chart(sources, "hello", v), out, tmp_path / "home") for v in VERSIONS
    ]


def index_repository(tools: Tools, packages: list[Path], root: Path, home: Path) -> Path:
    """A chart repository directory: the archives and the index of ``helm repo index``."""
    root.mkdir(parents=True, exist_ok=True)
    for archive in packages:
        (root / archive.name).write_bytes(archive.read_bytes())
    run([tools.helm, "repo", "index", root], home)
    return root


@pytest.fixture
def chart_repo(tools: Tools, chart_packages: list[Path], tmp_path: Path) -> Iterator[StaticServer]:
    root = index_repository(tools, chart_packages, tmp_path / "repo", tmp_path / "home")
    with StaticServer(root) as server:
        yield server


@pytest.fixture
def oci(tools: Tools, tmp_path: Path) -> Iterator[Registry]:
    with registry(tools.registry, tmp_path / "registry") as server:
        yield server
