"""Helpers of the render tests: test data location, requests, small manifests."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from gitward.model import Resource, SourceSpec
from gitward.ports import RenderRequest
from gitward.render import ManifestRenderer

TESTDATA = Path(__file__).resolve().parents[3] / "shared" / "testdata"
KUBE_VERSION = "1.36.3"
REPO_URL = "file:///test-repo"  # never read: render works on the checked-out tree

Write = Callable[[str, str], Path]
"""Writes a dedented file at a path relative to the repository; returns its path."""


def copy_testdata(relative: str, target: Path) -> Path:
    """Copy a folder of the shared test data into ``target`` (writable, unlike the source)."""
    shutil.copytree(TESTDATA / relative, target, copy_function=shutil.copyfile)
    for path in [target, *target.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return target


def request(
    root: Path,
    source: SourceSpec,
    *,
    sha: str = "0" * 40,
    app_name: str = "demo",
    namespace: str | None = None,
    kube_version: str | None = None,
    api_versions: tuple[str, ...] = (),
) -> RenderRequest:
    """A request for ``source`` at a fixed commit, as app "demo" unless told otherwise."""
    return RenderRequest(
        root=root,
        sha=sha,
        source=source,
        app_name=app_name,
        namespace=namespace,
        kube_version=kube_version,
        api_versions=api_versions,
    )


def render(
    renderer: ManifestRenderer,
    root: Path,
    source: SourceSpec,
    *,
    namespace: str | None = None,
    kube_version: str | None = None,
    api_versions: tuple[str, ...] = (),
) -> list[Resource]:
    """Render ``source`` in ``root`` as the app "demo" at a fixed commit."""
    built = request(
        root, source, namespace=namespace, kube_version=kube_version, api_versions=api_versions
    )
    return renderer.render(built)


def configmap(name: str, namespace: str | None = None) -> str:
    ns = f"\n  namespace: {namespace}" if namespace else ""
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}{ns}\ndata:\n  k: v\n"


def names(resources: list[Resource]) -> list[str]:
    return [r.key.name for r in resources]
