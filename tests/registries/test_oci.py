"""Charts and artifacts from the real OCI registry (distribution v3), pushed by helm and oras."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitward.errors import RevisionNotFoundError, SourceError
from gitward.model import (
    DirectoryOptions,
    LayerOperation,
    LayerSelector,
    RepoCredentials,
    SourceSpec,
)
from gitward.ports import RenderRequest
from gitward.render import ManifestRenderer
from gitward.source import GitRepositorySource, list_tags

from .conftest import Tools
from .servers import Registry, registry, run

CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  v: '{v}'\n"


def push_charts(tools: Tools, oci: Registry, packages: list[Path], home: Path) -> None:
    auth: list[str | Path] = []
    if oci.user:
        auth = ["--username", oci.user[0], "--password", oci.user[1]]
    for archive in packages:
        run([tools.helm, "push", archive, f"oci://{oci.host}/charts", "--plain-http", *auth], home)


def push_manifests(tools: Tools, oci: Registry, tag: str, work: Path, v: str) -> str:
    """``oras push`` of a directory ``deploy/`` holding two ConfigMaps; the digest pushed."""
    deploy = work / "deploy"
    (deploy / "more").mkdir(parents=True, exist_ok=True)
    (deploy / "one.yaml").write_text(CONFIGMAP.format(name="one", v=v))
    (deploy / "more" / "two.yaml").write_text(CONFIGMAP.format(name="two", v=v))
    auth: list[str | Path] = ["-u", oci.user[0], "-p", oci.user[1]] if oci.user else []
    out = run(
        [tools.oras, "push", "--plain-http", f"{oci.host}/manifests/web:{tag}", "deploy", *auth],
        work / "home",
        cwd=work,
    )
    return next(line.split()[-1] for line in out.splitlines() if line.startswith("Digest:"))


def render(
    source: GitRepositorySource,
    renderer: ManifestRenderer,
    spec: SourceSpec,
    credentials: RepoCredentials | None = None,
) -> dict[str, str]:
    revision = source.resolve_source(spec, credentials)
    tree = source.checkout_source(spec, revision, credentials)
    resources = renderer.render(RenderRequest(tree, revision.sha, spec, "web", "apps"))
    return {
        r.key.name: str(r.body["data"]["v" if "v" in r.body["data"] else "version"])
        for r in resources
    }


@pytest.fixture
def pushed_charts(tools: Tools, oci: Registry, chart_packages: list[Path], tmp_path: Path) -> None:
    push_charts(tools, oci, chart_packages, tmp_path / "home")


@pytest.mark.usefixtures("pushed_charts")
def test_a_chart_pushed_with_helm_is_rendered_by_version_or_range(
    oci: Registry, source: GitRepositorySource, renderer: ManifestRenderer
) -> None:
    for repo_url in (f"oci://{oci.host}/charts", f"{oci.host}/charts"):  # both as Argo CD
        for wanted, version in (("1.0.0", "1.0.0"), ("^1.0", "1.2.0"), ("*", "2.0.0")):
            spec = SourceSpec(repo_url, chart="hello", target_revision=wanted, plain_http=True)
            assert render(source, renderer, spec) == {"web-hello": version}


def test_an_artifact_pushed_with_oras_is_pulled_by_tag_semver_and_digest(
    tools: Tools,
    oci: Registry,
    tmp_path: Path,
    source: GitRepositorySource,
    renderer: ManifestRenderer,
) -> None:
    first = push_manifests(tools, oci, "1.0.0", tmp_path / "a", "one")
    second = push_manifests(tools, oci, "1.1.0", tmp_path / "b", "two")
    push_manifests(tools, oci, "2.0.0", tmp_path / "c", "three")
    url = f"oci://{oci.host}/manifests/web"
    cases = {
        "1.0.0": "one",
        "~1.0": "one",
        "^1": "two",
        first: "one",
        second: "two",
        "2.0.0": "three",
    }
    for wanted, v in cases.items():
        spec = SourceSpec(url, "deploy", wanted, DirectoryOptions(recurse=True), plain_http=True)
        assert render(source, renderer, spec) == {"one": v, "two": v}, wanted
    assert (
        source.resolve_source(SourceSpec(url, target_revision="1.0.0", plain_http=True)).sha
        == first
    )
    assert sorted(list_tags(url, plain_http=True)) == ["1.0.0", "1.1.0", "2.0.0"]


def test_a_pinned_digest_checked_out_once_needs_no_registry_afterwards(
    tools: Tools, tmp_path: Path, source: GitRepositorySource
) -> None:
    with registry(tools.registry, tmp_path / "reg") as oci:
        digest = push_manifests(tools, oci, "1.0.0", tmp_path / "a", "one")
        spec = SourceSpec(
            f"oci://{oci.host}/manifests/web", target_revision=digest, plain_http=True
        )
        tree = source.checkout_source(spec, source.resolve_source(spec))
    # the registry is gone: resolve and checkout of the digest come from the cache
    revision = source.resolve_source(spec)
    assert source.checkout_source(spec, revision) == tree
    assert (tree / "deploy" / "more" / "two.yaml").is_file()


def test_a_layer_selector_copies_one_file_layer(
    tools: Tools,
    oci: Registry,
    tmp_path: Path,
    source: GitRepositorySource,
    renderer: ManifestRenderer,
) -> None:
    (tmp_path / "cm.yaml").write_text(CONFIGMAP.format(name="solo", v="x"))
    (tmp_path / "notes.txt").write_text("not a manifest")
    run(
        [
            tools.oras,
            "push",
            "--plain-http",
            f"{oci.host}/files:1",
            "cm.yaml:application/yaml",
            "notes.txt:text/plain",
        ],
        tmp_path / "home",
        cwd=tmp_path,
    )
    spec = SourceSpec(
        f"oci://{oci.host}/files",
        target_revision="1",
        plain_http=True,
        layer_selector=LayerSelector("application/yaml", LayerOperation.COPY),
    )
    assert render(source, renderer, spec) == {"solo": "x"}
    wrong = SourceSpec(
        spec.repo_url,
        target_revision="1",
        plain_http=True,
        layer_selector=LayerSelector("application/json"),
    )
    with pytest.raises(SourceError, match="no layer has the media type application/json") as info:
        GitRepositorySource(tmp_path / "other").checkout_source(wrong, source.resolve_source(wrong))
    assert "application/yaml" in str(info.value.hint)


def test_a_registry_with_htpasswd_needs_the_credentials(
    tools: Tools, tmp_path: Path, chart_packages: list[Path], renderer: ManifestRenderer
) -> None:
    user = ("deployer", "registry-pass-123")
    with registry(tools.registry, tmp_path / "reg", user=user) as oci:
        push_charts(tools, oci, chart_packages[:1], tmp_path / "home")
        push_manifests(tools, oci, "1.0.0", tmp_path / "a", "one")
        chart = SourceSpec(
            f"oci://{oci.host}/charts", chart="hello", target_revision="1.0.0", plain_http=True
        )
        with pytest.raises(SourceError, match="refused access without credentials"):
            GitRepositorySource(tmp_path / "c1").resolve_source(chart)
        creds = RepoCredentials(username=user[0], password=user[1])
        source = GitRepositorySource(tmp_path / "c2")
        assert render(source, renderer, chart, creds) == {"web-hello": "1.0.0"}
        artifact = SourceSpec(
            f"oci://{oci.host}/manifests/web",
            "deploy",
            "^1",
            DirectoryOptions(recurse=True),
            plain_http=True,
        )
        assert render(source, renderer, artifact, creds) == {"one": "one", "two": "one"}
        assert list_tags(artifact.repo_url, creds, plain_http=True) == ["1.0.0"]


def test_a_missing_tag_names_the_tags_there(
    tools: Tools, oci: Registry, tmp_path: Path, source: GitRepositorySource
) -> None:
    push_manifests(tools, oci, "1.0.0", tmp_path / "a", "one")
    spec = SourceSpec(f"oci://{oci.host}/manifests/web", target_revision="9.9.9", plain_http=True)
    with pytest.raises(RevisionNotFoundError, match=r"no tag matches '9\.9\.9'") as info:
        source.resolve_source(spec)
    assert "1.0.0" in str(info.value.hint)
