""":class:`ManifestRenderer`, the render stage behind :class:`gitward.ports.Renderer`.

It picks the renderer (named in the application, or detected from the files: a
kustomization means Kustomize, a ``Chart.yaml`` means Helm, anything else is a directory
of manifests and Jsonnet files), runs it, sorts the objects and refuses duplicates
(:mod:`gitward.render.output`), and caches the result by commit and options
(:mod:`gitward.render.cache`). The source stage hands it a checked-out tree; the plan
stage takes the list it returns. Namespaces are not filled in here: that needs the
cluster's discovery information, which the plan stage has.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from gitward.model import (
    DirectoryOptions,
    HelmOptions,
    KustomizeOptions,
    RendererKind,
    Resource,
)
from gitward.paths import confine
from gitward.ports import RenderRequest
from gitward.render.cache import RenderCache, cache_key
from gitward.render.directory import render_directory
from gitward.render.generated import refuse_edits_without_kustomization, render_generated
from gitward.render.helm import HelmRun, render_helm
from gitward.render.jsonnet import JsonnetRun
from gitward.render.kustomize import kustomization_file, render_kustomize
from gitward.render.output import finish
from gitward.render.secretfiles import DEFAULT_PLAINTEXT_DIR
from gitward.render.sops import refuse_encrypted

DEFAULT_SEARCH_PATH = "/usr/local/bin:/usr/bin:/bin"


@dataclass(frozen=True)
class RenderTools:
    """The programs the renderer runs, injected (the render stage builds none itself).

    ``search_path`` is the ``PATH`` of their runs; kustomize looks up ``git`` on it.
    ``plaintext_dir`` must be a memory filesystem: decrypted SOPS files for kustomize
    are written there for the length of one run.
    """

    kustomize: Path
    helm: Path
    search_path: str = DEFAULT_SEARCH_PATH
    plaintext_dir: Path = DEFAULT_PLAINTEXT_DIR  # a tmpfs for decrypted kustomize inputs
    # Where chart dependencies built by ``helm dependency build`` are kept, by digest;
    # None: a chart whose dependencies are not vendored in charts/ is an error.
    chart_cache: Path | None = None


def detect_renderer(root: Path, app_path: str) -> RendererKind:
    """The renderer for an application that names none, from the files at ``app_path``."""
    app_dir = confine(root, app_path, what="application path")
    if kustomization_file(app_dir) is not None:
        return RendererKind.KUSTOMIZE
    if (app_dir / "Chart.yaml").is_file():
        return RendererKind.HELM
    return RendererKind.DIRECTORY


class ManifestRenderer:
    """Renders directories, kustomizations and Helm charts; caches by commit and options.

    Results share their bodies with the cache: treat them as read-only, as every
    :class:`~gitward.model.Resource` body is. The ``sha`` of a request must identify the
    tree's content; to render a working tree that changes, use ``cache_size=0``.
    """

    def __init__(
        self,
        tools: RenderTools,
        timeout: float = 60.0,
        cache_size: int = 256,
        *,
        default_kube_version: str | None = None,
    ) -> None:
        """``default_kube_version`` is Helm's ``.Capabilities.KubeVersion`` for requests
        that name no cluster version (e.g. offline validation); without it Helm uses the
        version compiled into the binary, which may be years old."""
        self._tools = tools
        self._timeout = timeout
        self._cache = RenderCache(cache_size)
        self._default_kube_version = default_kube_version

    def render(self, request: RenderRequest) -> list[Resource]:
        key = cache_key(request)
        cached = self._cache.get(key)
        if cached is not None:
            return list(cached)
        resources = self._render(request)
        self._cache.put(key, tuple(resources))
        return resources

    def _render(self, request: RenderRequest) -> list[Resource]:
        source = request.source
        if source.chart is not None:
            # A chart from a repository: the tree is the chart directory (Argo CD ignores
            # ``path`` for charts too).
            chart = replace(source, path=".", helm=source.helm or HelmOptions())
            return refuse_encrypted(
                finish(self._helm(replace(request, source=chart)), origin="helm template output")
            )
        kind = source.renderer() or detect_renderer(request.root, source.path)
        if kind is RendererKind.KUSTOMIZE and self._generates(request):
            return refuse_encrypted(finish(self._generated(request)))
        if kind is RendererKind.KUSTOMIZE:
            return refuse_encrypted(finish(self._kustomize(request), origin="kustomize output"))
        if kind is RendererKind.HELM:
            return refuse_encrypted(finish(self._helm(request), origin="helm template output"))
        options = source.directory or DirectoryOptions()
        jsonnet = JsonnetRun(timeout=self._timeout, search_path=self._tools.search_path)
        return finish(render_directory(request.root, source.path, options, request.keys, jsonnet))

    def _generates(self, request: RenderRequest) -> bool:
        """Whether to build the path as Flux does (``kustomize.generate``, no kustomization)."""
        options = request.source.kustomize
        if options is None or not options.generate:
            return False
        app_dir = confine(request.root, request.source.path, what="application path")
        if kustomization_file(app_dir) is not None:
            return False
        if options.edits:
            raise refuse_edits_without_kustomization(request.source.path)
        return True

    def _generated(self, request: RenderRequest) -> list[Resource]:
        def build(path: str) -> list[Resource]:
            return self._kustomize(replace(request, source=replace(request.source, path=path)))

        jsonnet = JsonnetRun(timeout=self._timeout, search_path=self._tools.search_path)
        options = request.source.kustomize
        patterns = options.ignore if options is not None else None
        return render_generated(
            request.root,
            request.source.path,
            build,
            request.keys,
            jsonnet,
            ignore_patterns=patterns,
        )

    def _kustomize(self, request: RenderRequest) -> list[Resource]:
        return render_kustomize(
            request.root,
            request.source.path,
            request.source.kustomize or KustomizeOptions(),
            kustomize=self._tools.kustomize,
            helm=self._tools.helm,
            search_path=self._tools.search_path,
            timeout=self._timeout,
            keys=request.keys,
            plaintext_dir=self._tools.plaintext_dir,
        )

    def _helm(self, request: RenderRequest) -> list[Resource]:
        options = request.source.helm or HelmOptions()
        run = HelmRun(
            helm=self._tools.helm,
            release=options.release_name or request.app_name,
            namespace=request.namespace,
            kube_version=request.kube_version or self._default_kube_version,
            api_versions=request.api_versions,
            search_path=self._tools.search_path,
            timeout=self._timeout,
            dependency_cache=self._tools.chart_cache,
            plain_http=request.source.plain_http,
        )
        refs = {name: root for name, root, _ in request.refs}
        return render_helm(request.root, request.source.path, options, run, refs)
