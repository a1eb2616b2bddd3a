"""Chart dependencies: built by the real ``helm dependency build``, cached by digest."""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

import pytest

from gitward.errors import RenderError
from gitward.model import HelmOptions, SourceSpec
from gitward.ports import RenderRequest
from gitward.render import ManifestRenderer, RenderTools

from .conftest import Tools
from .servers import Registry, StaticServer
from .test_oci import push_charts


def umbrella(root: Path, dependencies: str) -> Path:
    """A chart in a repository tree (read-only, as a checkout is) that only depends."""
    chart = root / "umbrella"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(
        "apiVersion: v2\nname: umbrella\nversion: 0.1.0\ndependencies:\n"
        + textwrap.dedent(dependencies)
    )
    (chart / "values.yaml").write_text("web:\n  greeting: from-umbrella\n")
    for path in [*chart.rglob("*"), chart, root]:
        path.chmod(0o555 if path.is_dir() else 0o444)
    return root


def renderer_with_cache(tools: Tools, cache: Path) -> ManifestRenderer:
    chart_tools = RenderTools(kustomize=tools.kustomize, helm=tools.helm, chart_cache=cache)
    return ManifestRenderer(chart_tools, timeout=60, cache_size=0)


def render(renderer: ManifestRenderer, root: Path, *, plain_http: bool = False) -> dict[str, str]:
    spec = SourceSpec(
        "https://git.example/r.git", "umbrella", helm=HelmOptions(), plain_http=plain_http
    )
    resources = renderer.render(RenderRequest(root, "a" * 40, spec, "app", "apps"))
    return {
        r.key.name: f"{r.body['data']['version']} {r.body['data']['greeting']}" for r in resources
    }


def test_dependencies_from_a_chart_repository_and_a_registry_are_built_once(
    tools: Tools,
    chart_repo: StaticServer,
    oci: Registry,
    chart_packages: list[Path],
    tmp_path: Path,
) -> None:
    push_charts(tools, oci, chart_packages, tmp_path / "home")
    root = umbrella(
        tmp_path / "git",
        # The OCI dependency first: helm 3.21 looks up a same-named chart's OCI repository
        # in its HTTP index cache when the HTTP one is listed first (a helm limitation).
        f"""\
        - name: hello
          alias: api
          version: 2.0.0
          repository: oci://{oci.host}/charts
        - name: hello
          alias: web
          version: ^1.0
          repository: {chart_repo.url}
        """,
    )
    cache = tmp_path / "charts-cache"
    started = time.monotonic()
    first = render(renderer_with_cache(tools, cache), root, plain_http=True)
    cold = time.monotonic() - started
    assert first == {"app-web": "1.2.0 from-umbrella", "app-api": "2.0.0 hello"}
    downloads = [p for p in chart_repo.requests if p.endswith(".tgz")]
    assert downloads == ["/hello-1.2.0.tgz"]
    started = time.monotonic()
    again = render(renderer_with_cache(tools, cache), root, plain_http=True)  # a new process
    warm = time.monotonic() - started
    assert again == first
    assert [p for p in chart_repo.requests if p.endswith(".tgz")] == downloads
    print(f"chart dependencies: cold render {cold:.2f} s, cached {warm:.2f} s")


def test_without_a_dependency_cache_a_missing_dependency_is_an_error(
    tools: Tools, chart_repo: StaticServer, tmp_path: Path
) -> None:
    root = umbrella(
        tmp_path / "git", f"- name: hello\n  version: 1.0.0\n  repository: {chart_repo.url}\n"
    )
    plain = ManifestRenderer(RenderTools(kustomize=tools.kustomize, helm=tools.helm), cache_size=0)
    with pytest.raises(
        RenderError, match="missing from charts/, and this renderer has no dependency cache"
    ):
        render(plain, root)
    assert chart_repo.requests == []


@pytest.mark.parametrize("repository", ["file://../other", "@stable", ""])
def test_a_dependency_that_is_not_a_url_is_refused_naming_it(
    tools: Tools, tmp_path: Path, repository: str
) -> None:
    root = umbrella(
        tmp_path / "git", f"- name: other\n  version: 1.0.0\n  repository: '{repository}'\n"
    )
    with pytest.raises(RenderError, match="chart dependency 'other' has repository") as info:
        render(renderer_with_cache(tools, tmp_path / "cache"), root)
    assert "umbrella/Chart.yaml" in str(info.value)


def test_a_failing_dependency_build_says_why(
    tools: Tools, tmp_path: Path, chart_repo: StaticServer
) -> None:
    root = umbrella(
        tmp_path / "git", f"- name: hello\n  version: 7.0.0\n  repository: {chart_repo.url}\n"
    )
    with pytest.raises(RenderError, match="helm dependency build failed") as info:
        render(renderer_with_cache(tools, tmp_path / "cache"), root)
    assert "7.0.0" in str(info.value)
    assert not (tmp_path / "cache").exists() or list((tmp_path / "cache").iterdir()) == []
