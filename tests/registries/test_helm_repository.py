"""Charts from a Helm repository over HTTP: made by the real helm, served on 127.0.0.1."""

from __future__ import annotations

import hashlib
import ssl
from pathlib import Path

import pytest

from gitward.devcluster.pki import make_pki
from gitward.errors import RevisionNotFoundError, SourceError
from gitward.model import HelmOptions, RepoCredentials, SourceSpec
from gitward.ports import RenderRequest
from gitward.render import ManifestRenderer
from gitward.source import GitRepositorySource

from .conftest import Tools, index_repository
from .servers import StaticServer


def render(
    source: GitRepositorySource,
    renderer: ManifestRenderer,
    spec: SourceSpec,
    credentials: RepoCredentials | None = None,
) -> dict[str, str]:
    revision = source.resolve_source(spec, credentials)
    tree = source.checkout_source(spec, revision, credentials)
    (resource,) = renderer.render(RenderRequest(tree, revision.sha, spec, "web", "apps"))
    assert resource.key.name == "web-hello"
    return dict(resource.body["data"])


@pytest.mark.parametrize(
    ("wanted", "version"),
    [
        ("1.0.0", "1.0.0"),
        ("^1.0", "1.2.0"),
        (">=1.0 <2", "1.2.0"),
        ("*", "2.0.0"),
        ("~1.3.0-0", "1.3.0-rc.1"),
    ],
)
def test_a_chart_version_is_picked_exactly_or_by_range(
    chart_repo: StaticServer,
    source: GitRepositorySource,
    renderer: ManifestRenderer,
    wanted: str,
    version: str,
) -> None:
    spec = SourceSpec(chart_repo.url, chart="hello", target_revision=wanted)
    assert render(source, renderer, spec)["version"] == version


def test_the_revision_is_the_index_digest_and_a_second_checkout_downloads_nothing(
    chart_repo: StaticServer, source: GitRepositorySource, renderer: ManifestRenderer
) -> None:
    spec = SourceSpec(chart_repo.url, chart="hello", target_revision="1.2.0")
    revision = source.resolve_source(spec)
    archive = chart_repo.root / "hello-1.2.0.tgz"
    assert revision.sha == "sha256:" + hashlib.sha256(archive.read_bytes()).hexdigest()
    source.checkout_source(spec, revision)
    downloads = [p for p in chart_repo.requests if p.endswith(".tgz")]
    assert downloads == ["/hello-1.2.0.tgz"]
    again = GitRepositorySource(source._cache_dir)  # a new process, the same cache
    tree = again.checkout_source(spec, revision)
    assert (tree / "Chart.yaml").is_file()
    assert [p for p in chart_repo.requests if p.endswith(".tgz")] == downloads


def test_helm_values_and_release_name_apply_to_a_pulled_chart(
    chart_repo: StaticServer, source: GitRepositorySource, renderer: ManifestRenderer
) -> None:
    spec = SourceSpec(
        chart_repo.url,
        chart="hello",
        target_revision="1.0.0",
        helm=HelmOptions(release_name="web", values="greeting: bonjour\n"),
    )
    assert render(source, renderer, spec)["greeting"] == "bonjour"


def test_an_unknown_chart_or_version_names_what_is_there(
    chart_repo: StaticServer, source: GitRepositorySource
) -> None:
    with pytest.raises(RevisionNotFoundError, match="chart 'nope' is not in") as info:
        source.resolve_source(SourceSpec(chart_repo.url, chart="nope"))
    assert "hello" in str(info.value.hint)
    with pytest.raises(RevisionNotFoundError, match="no version matches '\\^3'") as info:
        source.resolve_source(SourceSpec(chart_repo.url, chart="hello", target_revision="^3"))
    assert "2.0.0" in str(info.value.hint)


def test_basic_auth_is_sent_when_given_and_refused_clearly_when_not(
    tools: Tools, chart_packages: list[Path], tmp_path: Path, renderer: ManifestRenderer
) -> None:
    root = index_repository(tools, chart_packages, tmp_path / "private", tmp_path / "home")
    with StaticServer(root, basic=("reader", "s3cret-pass")) as server:
        spec = SourceSpec(server.url, chart="hello", target_revision="^1")
        without = GitRepositorySource(tmp_path / "c1")
        with pytest.raises(SourceError, match="refused access without credentials") as info:
            without.resolve_source(spec)
        assert "HTTP 401" in str(info.value)
        creds = RepoCredentials(username="reader", password="s3cret-pass")
        assert (
            render(GitRepositorySource(tmp_path / "c2"), renderer, spec, creds)["version"]
            == "1.2.0"
        )
        wrong = RepoCredentials(username="reader", password="wrong-pass")
        with pytest.raises(SourceError, match="refused the given credentials") as info:
            GitRepositorySource(tmp_path / "c3").resolve_source(spec, wrong)
        assert "wrong-pass" not in str(info.value)
        assert "s3cret" not in str(info.value)


def test_a_repository_behind_tls_from_a_private_ca_needs_that_ca(
    tools: Tools, chart_packages: list[Path], tmp_path: Path, renderer: ManifestRenderer
) -> None:
    pki = make_pki(tmp_path / "pki")  # a CA and a certificate for 127.0.0.1
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(pki.serving_cert, pki.serving_key)
    root = index_repository(tools, chart_packages, tmp_path / "tls", tmp_path / "home")
    with StaticServer(root, tls=tls) as server:
        spec = SourceSpec(server.url, chart="hello", target_revision="~1.0")
        with pytest.raises(SourceError, match="TLS certificate is not trusted") as info:
            GitRepositorySource(tmp_path / "c1").resolve_source(spec)
        assert "ca.crt" in str(info.value.hint)
        by_file = RepoCredentials(ca_file=str(pki.ca_cert))
        by_text = RepoCredentials(ca_data=pki.ca_cert.read_text())  # as from a Secret
        for n, creds in enumerate((by_file, by_text)):
            source = GitRepositorySource(tmp_path / f"c{n + 2}")
            assert render(source, renderer, spec, creds)["version"] == "1.0.0"
