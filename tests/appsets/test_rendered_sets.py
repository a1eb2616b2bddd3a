"""ApplicationSets that apps render (app-of-apps): a set two parents render, or a set that
generates the app rendering it, fails that render with both sources named (issue 8: bad
input, "cyclic or duplicate generated names"). The render is the real one of a plain
directory of YAML; the apps known to serve are given as they would be."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from gitward import compose
from gitward.errors import RenderError
from gitward.model import AppSpec, Destination, SourceSpec
from gitward.ports import RenderRequest
from gitward.reconcile.children import AppOfApps


def set_document(name: str) -> str:
    return (
        "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\n"
        f"metadata: {{name: {name}, namespace: argocd}}\n"
        "spec:\n"
        "  generators: [{list: {elements: [{name: a}]}}]\n"
        "  template:\n"
        "    metadata: {name: '{{name}}'}\n"
        "    spec:\n"
        "      source: {repoURL: 'https://127.0.0.1:9/x.git', path: '{{name}}'}\n"
        "      destination: {server: 'https://kubernetes.default.svc', namespace: a}\n"
    )


def app(name: str, owner: str | None = None) -> AppSpec:
    source = SourceSpec(repo_url="https://127.0.0.1:9/apps.git", path=name)
    return AppSpec(name=name, source=source, destination=Destination(namespace=name), owner=owner)


async def render(children: AppOfApps, root: Path, parent: str, sets: tuple[str, ...]) -> None:
    """``parent`` renders its directory, which holds the ApplicationSets ``sets``."""
    tree = root / parent
    tree.mkdir(exist_ok=True)
    for name in sets:
        (tree / f"{name}.yaml").write_text(set_document(name))
    renderer = children.renderer(compose.renderer(cache_dir=root / "cache"))
    source = SourceSpec(repo_url="https://127.0.0.1:9/apps.git", path=parent)
    renderer.render(RenderRequest(root, "0" * 40, source, parent, "argocd"))


async def no_reload() -> None:
    return None


async def test_a_set_two_parents_render_fails_the_second_naming_the_first(tmp_path: Path) -> None:
    known = {"platform": app("platform"), "team": app("team")}
    children = AppOfApps(lambda: known, no_reload, asyncio.get_running_loop())
    await render(children, tmp_path, "platform", ("web",))
    with pytest.raises(RenderError) as failed:
        await render(children, tmp_path, "team", ("web",))
    assert "ApplicationSet 'web'" in failed.value.message
    assert "'platform' renders too" in failed.value.message
    assert failed.value.message.startswith("team: ")  # the parent whose render failed
    await render(children, tmp_path, "platform", ("web",))  # the first keeps it, as before
    assert children.is_parent("platform")
    assert not children.is_parent("team")  # nothing of the refused render was taken


async def test_a_parent_gone_from_the_apps_no_longer_holds_its_sets_name(tmp_path: Path) -> None:
    known = {"platform": app("platform"), "team": app("team")}
    children = AppOfApps(lambda: known, no_reload, asyncio.get_running_loop())
    await render(children, tmp_path, "platform", ("web",))
    del known["platform"]  # removed from Git
    await render(children, tmp_path, "team", ("web",))
    assert children.is_parent("team")


async def test_a_set_that_generates_the_app_rendering_it_is_a_cycle(tmp_path: Path) -> None:
    """Declared set ``fleet`` generates ``a``; ``a`` renders set ``more``, which
    generates ``b``; ``b`` renders ``fleet`` again: that loop would never go away."""
    known = {
        "a": app("a", owner="ApplicationSet/fleet"),
        "b": app("b", owner="ApplicationSet/more"),
    }
    children = AppOfApps(lambda: known, no_reload, asyncio.get_running_loop())
    await render(children, tmp_path, "a", ("more",))
    with pytest.raises(RenderError) as failed:
        await render(children, tmp_path, "b", ("fleet",))
    message = failed.value.message
    assert "ApplicationSet 'fleet'" in message
    assert "b <- ApplicationSet/more <- a <- ApplicationSet/fleet" in message
    assert not children.is_parent("b")
