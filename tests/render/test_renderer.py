"""ManifestRenderer as a whole: detection, the cache (with real, logged processes), limits."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from gitward.errors import RenderError, ToolchainError
from gitward.model import HelmOptions, RendererKind, SourceSpec
from gitward.render import ManifestRenderer, RenderTools, detect_renderer

from .helpers import KUBE_VERSION, REPO_URL, Write, configmap, copy_testdata, request


def logging_wrapper(real: Path, log: Path, directory: Path) -> Path:
    """A script that records each run in ``log``, then runs the real program."""
    script = directory / f"logged-{real.name}"
    script.write_text(
        f'#!/bin/sh\necho "$*" >> {shlex.quote(str(log))}\nexec {shlex.quote(str(real))} "$@"\n'
    )
    script.chmod(0o755)
    return script


def runs(log: Path) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


@pytest.fixture
def logged(tools: RenderTools, tmp_path: Path) -> tuple[RenderTools, Path]:
    log = tmp_path / "runs.log"
    wrapped = RenderTools(
        kustomize=logging_wrapper(tools.kustomize, log, tmp_path),
        helm=logging_wrapper(tools.helm, log, tmp_path),
    )
    return wrapped, log


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"kustomization.yaml": "resources: []\n"}, RendererKind.KUSTOMIZE),
        ({"kustomization.yml": "resources: []\n"}, RendererKind.KUSTOMIZE),
        ({"Kustomization": "resources: []\n"}, RendererKind.KUSTOMIZE),
        ({"Chart.yaml": "name: c\n"}, RendererKind.HELM),
        ({"Chart.yaml": "name: c\n", "kustomization.yaml": ""}, RendererKind.KUSTOMIZE),
        ({"a.yaml": configmap("a")}, RendererKind.DIRECTORY),
        ({}, RendererKind.DIRECTORY),
    ],
)
def test_detection(repo: Path, write: Write, files: dict[str, str], expected: RendererKind) -> None:
    (repo / "app").mkdir()
    for name, text in files.items():
        write(f"app/{name}", text)
    assert detect_renderer(repo, "app") is expected


def test_cache_hit_runs_no_process_and_reads_no_file(
    logged: tuple[RenderTools, Path], repo: Path
) -> None:
    tools, log = logged
    copy_testdata("podinfo/charts/podinfo", repo / "chart")
    renderer = ManifestRenderer(tools)
    source = SourceSpec(REPO_URL, path="chart", helm=HelmOptions(values="hpa: {enabled: false}"))
    first = renderer.render(request(repo, source, kube_version=KUBE_VERSION))
    assert runs(log) == 1
    (repo / "chart" / "Chart.yaml").unlink()  # a hit must not look at the tree at all
    again = renderer.render(request(repo, source, kube_version=KUBE_VERSION))
    assert runs(log) == 1
    assert [r.key for r in again] == [r.key for r in first]
    assert again is not first  # a new list each time; bodies are shared and read-only


def test_cache_key_covers_every_input(logged: tuple[RenderTools, Path], repo: Path) -> None:
    tools, log = logged
    copy_testdata("podinfo/kustomize", repo / "app")
    renderer = ManifestRenderer(tools)
    source = SourceSpec(REPO_URL, path="app")
    variants = [
        request(repo, source),
        request(repo, source, sha="1" * 40),
        request(repo, SourceSpec(REPO_URL, path="./app/")),  # the same path: a hit
        request(repo, source, namespace="other"),
        request(repo, source, kube_version="1.30.0"),
        request(repo, source, api_versions=("example.com/v1",)),
        request(repo, source, app_name="renamed"),
        request(repo, source),  # a hit
    ]
    for variant in variants:
        renderer.render(variant)
    assert runs(log) == 6


def test_least_recently_used_render_is_evicted(
    logged: tuple[RenderTools, Path], repo: Path
) -> None:
    tools, log = logged
    copy_testdata("podinfo/kustomize", repo / "app")
    renderer = ManifestRenderer(tools, cache_size=2)
    source = SourceSpec(REPO_URL, path="app")
    a, b, c = (request(repo, source, sha=sha * 40) for sha in "abc")
    for each in (a, b, a, c, a, b):  # c evicts b (a was used more recently); b comes back
        renderer.render(each)
    assert runs(log) == 4


def test_errors_are_not_cached(logged: tuple[RenderTools, Path], repo: Path, write: Write) -> None:
    tools, log = logged
    write("app/kustomization.yaml", "resources: [cm.yaml]\n")
    renderer = ManifestRenderer(tools)
    with pytest.raises(RenderError):
        renderer.render(request(repo, SourceSpec(REPO_URL, path="app")))
    write("app/cm.yaml", configmap("cm"))
    assert len(renderer.render(request(repo, SourceSpec(REPO_URL, path="app")))) == 1
    assert runs(log) == 2


def test_timeout_kills_the_program(
    tmp_path: Path, tools: RenderTools, write: Write, repo: Path
) -> None:
    slow = tmp_path / "slow-kustomize"
    slow.write_text("#!/bin/sh\nsleep 30 &\nwait\n")
    slow.chmod(0o755)
    write("app/kustomization.yaml", "resources: []\n")
    renderer = ManifestRenderer(RenderTools(kustomize=slow, helm=tools.helm), timeout=0.5)
    with pytest.raises(RenderError, match=r"did not finish within 0\.5 s"):
        renderer.render(request(repo, SourceSpec(REPO_URL, path="app")))


def test_missing_binary_is_a_toolchain_error(tmp_path: Path, repo: Path, write: Write) -> None:
    write("app/kustomization.yaml", "resources: []\n")
    missing = tmp_path / "no-such-kustomize"
    renderer = ManifestRenderer(RenderTools(kustomize=missing, helm=missing))
    with pytest.raises(ToolchainError, match="cannot run"):
        renderer.render(request(repo, SourceSpec(REPO_URL, path="app")))


def test_environment_has_no_network_and_a_private_home(
    tmp_path: Path, tools: RenderTools, repo: Path, write: Write
) -> None:
    dump = tmp_path / "env.txt"
    spy = tmp_path / "env-kustomize"
    spy.write_text(f"#!/bin/sh\nenv > {shlex.quote(str(dump))}\n")
    spy.chmod(0o755)
    write("app/kustomization.yaml", "resources: []\n")
    ManifestRenderer(RenderTools(kustomize=spy, helm=tools.helm)).render(
        request(repo, SourceSpec(REPO_URL, path="app"))
    )
    env = dict(line.split("=", 1) for line in dump.read_text().splitlines() if "=" in line)
    assert env["HTTPS_PROXY"] == env["http_proxy"] == "http://127.0.0.1:1"
    assert env["GIT_ALLOW_PROTOCOL"] == "file"
    assert "NO_PROXY" not in env
    assert "no_proxy" not in env
    assert env["HOME"] != str(Path.home())
    assert env["HELM_CACHE_HOME"].startswith(env["HOME"])


def test_a_pulled_chart_is_rendered_from_the_tree_root_whatever_the_path(
    renderer: ManifestRenderer, repo: Path
) -> None:
    """The source stage hands over the chart directory; ``path`` is ignored, as in Argo CD."""
    (repo / "templates").mkdir()
    (repo / "Chart.yaml").write_text("apiVersion: v2\nname: redis\nversion: 1.0.0\n")
    (repo / "templates" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Chart.Name }}\n"
    )
    source = SourceSpec("https://charts.example.com", path="ignored", chart="redis")
    (resource,) = renderer.render(request(repo, source))
    assert resource.key.name == "redis"
