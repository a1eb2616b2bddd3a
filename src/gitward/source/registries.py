"""Registry sources: charts from Helm repositories and OCI registries, OCI artifacts.

The source stage for applications whose files are not in Git
(:meth:`gitward.model.SourceSpec.kind`). Like the Git source it resolves then checks
out: ``resolve`` turns ``targetRevision`` (a version, a semver range, a tag or a
digest) into a digest, the :class:`~gitward.model.Revision` ``sha`` of the pipeline;
``checkout`` returns a read-only tree for the renderer, unpacked once per digest under
``<cache>/registries/trees`` and never again (a digest names content that cannot
change). For a chart the tree is the chart directory; for an artifact, its files.

Downloads: :mod:`.helmrepo` (index.yaml and chart archives), :mod:`.oci` (manifests
and blobs, each verified by digest); unpacking: :mod:`.archive` (confined). Nothing is
written anywhere but the cache, and nothing is cached before its digest checked out.
"""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

from gitward.errors import SourceError
from gitward.model import (
    LayerOperation,
    LayerSelector,
    RepoCredentials,
    Revision,
    SourceKind,
    SourceSpec,
)
from gitward.source.addresses import AddressPolicy
from gitward.source.archive import extract_into, is_tar, publish, staging_dir, unpack
from gitward.source.download import Downloader
from gitward.source.helmrepo import (
    ChartVersion,
    chart_versions,
    download_chart,
    fetch_index,
    pick_version,
)
from gitward.source.oci import (
    DIGEST,
    MAX_ARTIFACT_BYTES,
    Descriptor,
    Manifest,
    OciClient,
    check_size,
    parse_repository,
)
from gitward.source.urls import scrub_text

HELM_CHART_LAYER = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
TITLE = "org.opencontainers.image.title"


def source_label(source: SourceSpec) -> str:
    """How people see the source: the repository, and the chart if there is one."""
    url = scrub_text(source.repo_url.rstrip("/"))
    return f"{url} (chart {source.chart})" if source.chart else url


class RegistrySource:
    """Resolves and checks out registry sources, cached by digest under ``cache_dir``."""

    def __init__(
        self,
        cache_dir: Path,
        *,
        timeout: float = 60.0,
        max_artifact_bytes: int = MAX_ARTIFACT_BYTES,
        addresses: AddressPolicy | None = None,
    ) -> None:
        self._trees = cache_dir / "trees"
        self._timeout = timeout
        self._max_bytes = max_artifact_bytes
        self._addresses = addresses or AddressPolicy()
        self._clients: dict[RepoCredentials | None, Downloader] = {}
        self._lock = threading.Lock()

    def _http(self, credentials: RepoCredentials | None) -> Downloader:
        """One client per set of credentials, kept: its TLS context and tokens are reused."""
        with self._lock:
            found = self._clients.get(credentials)
            if found is None:
                if len(self._clients) >= 64:
                    self._clients.clear()
                found = self._clients[credentials] = Downloader(
                    credentials, addresses=self._addresses
                )
            return found

    def _oci(self, source: SourceSpec, credentials: RepoCredentials | None) -> OciClient:
        url = source.repo_url.rstrip("/")
        if source.chart is not None:
            url = f"{url}/{source.chart.strip('/')}"
        repository = parse_repository(url, plain_http=source.plain_http)
        return OciClient(repository, timeout=self._timeout, downloader=self._http(credentials))

    # ------------------------------------------------------------------ resolve

    def resolve(self, source: SourceSpec, credentials: RepoCredentials | None = None) -> Revision:
        """The digest ``source.target_revision`` names now (a range or tag may move)."""
        wanted = source.target_revision
        if source.kind() is SourceKind.HELM_REPOSITORY:
            chart = self._chart_version(source, credentials)
            digest = chart.digest or self._download_chart(chart, credentials)
            return Revision(source_label(source), wanted, digest)
        if DIGEST.match(wanted.strip()) and self._tree(wanted.strip()).is_dir():
            return Revision(source_label(source), wanted, wanted.strip())  # no network
        digest = self._oci(source, credentials).resolve(_oci_tag(wanted))
        return Revision(source_label(source), wanted, digest)

    def _chart_version(
        self, source: SourceSpec, credentials: RepoCredentials | None
    ) -> ChartVersion:
        versions = self._chart_versions_all(source, credentials)
        return pick_version(versions, source.target_revision, source_label(source))

    # ------------------------------------------------------------------ checkout

    def checkout(
        self,
        source: SourceSpec,
        revision: Revision,
        credentials: RepoCredentials | None = None,
    ) -> Path:
        """A read-only tree of the content at ``revision.sha`` (a digest)."""
        if not DIGEST.match(revision.sha):
            raise SourceError(
                f"checkout of {revision.repo_url}: {revision.sha!r} is not a sha256 digest",
                hint="pass a Revision returned by resolve()",
            )
        tree = self._tree(revision.sha)
        if not tree.is_dir():
            self._fill(source, revision, credentials, tree)
        return chart_root(tree, revision) if source.chart is not None else tree

    def _tree(self, digest: str) -> Path:
        return self._trees / digest.removeprefix("sha256:")

    def _fill(
        self, source: SourceSpec, revision: Revision, creds: RepoCredentials | None, tree: Path
    ) -> None:
        kind = source.kind()
        label = f"{revision.repo_url} at {revision.sha[:19]}"
        if kind is SourceKind.HELM_REPOSITORY:
            versions = self._chart_versions_all(source, creds)
            if any(v.digest for v in versions):
                chart = _listed_with(versions, revision, label)
            else:
                chart = pick_version(versions, source.target_revision, label)
            data, digest = download_chart(self._http(creds), chart, self._timeout)
            if digest != revision.sha:
                raise SourceError(
                    f"{label}: the chart archive now hashes to {digest}",
                    hint="the chart was re-published; gitward resolves it again at the next sync",
                    transient=True,
                )
            unpack(data, tree, f"chart {chart.name} {chart.version}")
            return
        client = self._oci(source, creds)
        manifest = client.manifest(revision.sha)
        check_size(manifest, self._max_bytes, f"{client.repository}@{revision.sha}")
        if kind is SourceKind.OCI_CHART:
            layer = _layer(manifest, LayerSelector(HELM_CHART_LAYER), label)
            unpack(client.blob(layer, self._max_bytes), tree, f"chart {client.repository}")
            return
        self._artifact(client, manifest, source.layer_selector, tree, label)

    def _chart_versions_all(
        self, source: SourceSpec, creds: RepoCredentials | None
    ) -> list[ChartVersion]:
        index = fetch_index(self._http(creds), source.repo_url, self._timeout)
        return chart_versions(index, source.repo_url, source.chart or "")

    def _download_chart(self, chart: ChartVersion, creds: RepoCredentials | None) -> str:
        """An index without digests: the digest is the archive's, so download it now."""
        data, digest = download_chart(self._http(creds), chart, self._timeout)
        tree = self._tree(digest)
        if not tree.is_dir():
            unpack(data, tree, f"chart {chart.name} {chart.version}")
        return digest

    def _artifact(
        self,
        client: OciClient,
        manifest: Manifest,
        selector: LayerSelector | None,
        tree: Path,
        label: str,
    ) -> None:
        layers = [_layer(manifest, selector, label)] if selector else list(manifest.layers)
        staging = staging_dir(tree)
        try:
            for layer in layers:
                data = client.blob(layer, self._max_bytes)
                copy = selector is not None and selector.operation is LayerOperation.COPY
                if is_tar(data) and not copy:
                    extract_into(data, staging, f"{label}, layer {layer.digest}")
                else:
                    _write_file(staging, layer, data, label)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        publish(staging, tree)


def _oci_tag(wanted: str) -> str:
    """Helm pushes version ``1.0.0+build`` as tag ``1.0.0_build`` (``+`` is not allowed)."""
    text = wanted.strip() or "latest"
    if DIGEST.match(text) or any(c in text for c in " <>=^~*|,"):
        return text  # a digest or a range
    return text.replace("+", "_")


def _layer(manifest: Manifest, selector: LayerSelector | None, label: str) -> Descriptor:
    for layer in manifest.layers:
        if selector is None or layer.media_type == selector.media_type:
            return layer
    types = ", ".join(sorted({layer.media_type for layer in manifest.layers})) or "none"
    wanted = selector.media_type if selector else "any"
    raise SourceError(
        f"{label}: no layer has the media type {wanted}",
        hint=f"layer media types there: {types}",
        transient=False,
    )


def _write_file(staging: Path, layer: Descriptor, data: bytes, label: str) -> None:
    """A non-archive layer, written under its title: a relative path inside the tree."""
    title = (layer.annotation(TITLE) or "").replace("\\", "/")
    parts = title.split("/")
    if not title or title.startswith("/") or ".." in parts or "\0" in title or "" in parts:
        raise SourceError(
            f"{label}: layer {layer.digest} is not an archive and its title {title!r} is "
            "not a relative file path inside the artifact",
            hint="push files by relative name (oras push ref dir/file.yaml) or a directory",
            transient=False,
        )
    target = staging.joinpath(*parts)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() or target.is_symlink():
        raise SourceError(f"{label}: two layers are both titled {title!r}", transient=False)
    target.write_bytes(data)


def _listed_with(versions: list[ChartVersion], revision: Revision, label: str) -> ChartVersion:
    for version in versions:
        if version.digest == revision.sha:
            return version
    raise SourceError(
        f"{label}: no chart version in the index has this digest any more",
        hint="the chart was re-published; gitward resolves the version again at the next sync",
        transient=True,
    )


def chart_root(tree: Path, revision: Revision) -> Path:
    """The chart directory inside an unpacked chart archive (its one top directory)."""
    candidates = [p for p in tree.iterdir() if (p / "Chart.yaml").is_file()]
    if (tree / "Chart.yaml").is_file():
        return tree
    if len(candidates) != 1:
        raise SourceError(
            f"{revision.repo_url} at {revision.sha[:19]}: the archive holds no single chart "
            "directory with a Chart.yaml",
            hint="package the chart with helm package",
            transient=False,
        )
    return candidates[0]
