"""What an Application declares: where its source is, how to render it, where it goes.

Field names follow Argo CD's ``Application`` (``repoURL``, ``targetRevision``, ``path``,
``helm.valueFiles``, ``syncPolicy.automated.prune``, ...) so an Argo CD document means
the same thing to gitward; parsing lives in :mod:`gitward.spec`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from gitward.model.fleet import Rollout, Target
from gitward.model.keys import Decryption
from gitward.model.trust import Verification


@dataclass(frozen=True)
class RepoCredentials:
    """How to authenticate to a Git repository. Secrets are never part of ``repr``."""

    username: str | None = None
    password: str | None = field(default=None, repr=False)  # or an access token
    ssh_private_key_file: str | None = None
    known_hosts_file: str | None = None
    # The same two as text (from a Secret: never written to disk).
    ssh_private_key: str | None = field(default=None, repr=False)
    known_hosts: str | None = None
    # PEM certificates trusted (besides the system's) for HTTPS to Helm repositories
    # and OCI registries: a private CA.
    ca_file: str | None = None
    ca_data: str | None = field(default=None, repr=False)  # the same as PEM text (a Secret's)


@dataclass(frozen=True)
class JsonnetVariable:
    """An external variable or top-level argument: a string, or Jsonnet code if ``code``."""

    name: str
    value: str
    code: bool = False


@dataclass(frozen=True)
class JsonnetOptions:
    """Argo CD's ``directory.jsonnet``; ``libs`` are directories inside the repository."""

    ext_vars: tuple[JsonnetVariable, ...] = ()
    tlas: tuple[JsonnetVariable, ...] = ()
    libs: tuple[str, ...] = ()


@dataclass(frozen=True)
class DirectoryOptions:
    recurse: bool = False
    include: str | None = None  # a glob, or several in braces: "{a.yaml,b/*.yaml}"
    exclude: str | None = None
    jsonnet: JsonnetOptions = JsonnetOptions()


@dataclass(frozen=True)
class HelmParameter:
    """One ``--set`` (or ``--set-string`` with ``force_string``) of Argo CD's helm.parameters."""

    name: str
    value: str
    force_string: bool = False


@dataclass(frozen=True)
class HelmFileParameter:
    """One ``--set-file``: a value read from a file of the repository, relative to the chart."""

    name: str
    path: str


@dataclass(frozen=True)
class HelmOptions:
    release_name: str | None = None  # defaults to the application's name
    values: str | None = None  # inline YAML (helm.values or helm.valuesObject)
    # Paths relative to the chart; "$ref/path" names a file of the source whose ref is "ref".
    value_files: tuple[str, ...] = ()
    skip_crds: bool = False
    parameters: tuple[HelmParameter, ...] = ()  # win over values files and inline values
    file_parameters: tuple[HelmFileParameter, ...] = ()


@dataclass(frozen=True)
class KustomizeOptions:
    """Options of Argo CD's ``source.kustomize``; the load restrictor is always on.

    Everything but ``enable_helm`` is applied by a kustomization gitward writes in a
    temporary directory on top of the application's one (the checkout is never edited).
    ``patches`` holds each patch as canonical JSON text, to stay hashable.
    """

    enable_helm: bool = False
    images: tuple[str, ...] = ()  # "nginx:1.27", "nginx=registry/nginx:1.27", "x@sha256:..."
    name_prefix: str | None = None
    name_suffix: str | None = None
    common_labels: tuple[tuple[str, str], ...] = ()
    common_annotations: tuple[tuple[str, str], ...] = ()
    namespace: str | None = None
    patches: tuple[str, ...] = ()
    # Flux's kustomize-controller: a path without a kustomization file is built as if
    # it had one listing its .yaml/.yml files, whole tree, each subfolder that holds a
    # kustomization file built by Kustomize (gitward extension ``generate: true``).
    generate: bool = False
    # With ``generate``: more ``.sourceignore``-format patterns (Flux's GitRepository
    # ``spec.ignore``), after Flux's defaults and the repository's .sourceignore files.
    ignore: str | None = None

    @property
    def edits(self) -> bool:
        """Whether an overlay kustomization is needed on top of the application's one."""
        return bool(
            self.images
            or self.name_prefix
            or self.name_suffix
            or self.common_labels
            or self.common_annotations
            or self.namespace
            or self.patches
        )


class SourceKind(StrEnum):
    """Where an application's files come from (see :meth:`SourceSpec.kind`)."""

    GIT = "git"
    HELM_REPOSITORY = "helm-repository"  # a chart listed in an HTTP(S) index.yaml
    OCI_CHART = "oci-chart"  # a chart pushed to an OCI registry (helm push)
    OCI_ARTIFACT = "oci-artifact"  # plain files pushed to an OCI registry (oras push)


class LayerOperation(StrEnum):
    """What to do with the selected layer of an OCI artifact (Flux's layerSelector)."""

    EXTRACT = "extract"  # unpack a tar(.gz) layer into the tree
    COPY = "copy"  # write the layer as one file, named by its title annotation


@dataclass(frozen=True)
class LayerSelector:
    """Which layer of an OCI artifact holds the files: by media type, first match.

    Without a selector every layer is used: archives are unpacked and single files
    written under their ``org.opencontainers.image.title`` (what ``oras push`` makes).
    """

    media_type: str
    operation: LayerOperation = LayerOperation.EXTRACT


class RendererKind(StrEnum):
    DIRECTORY = "directory"
    KUSTOMIZE = "kustomize"
    HELM = "helm"


@dataclass(frozen=True)
class SourceSpec:
    repo_url: str
    path: str = "."
    target_revision: str = "HEAD"
    directory: DirectoryOptions | None = None
    helm: HelmOptions | None = None
    kustomize: KustomizeOptions | None = None
    # A chart in the Helm repository at ``repo_url`` (an HTTP(S) index.yaml, or an OCI
    # registry: ``oci://host/path`` or a bare ``host/path``); ``target_revision`` is
    # its version, exact or a semver range. ``path`` is unused for a chart.
    chart: str | None = None
    # An OCI artifact (``repo_url`` ``oci://host/repo`` and no ``chart``): which layer.
    layer_selector: LayerSelector | None = None
    # Talk HTTP, not HTTPS, to the registry (for a Git source: to the OCI registries of
    # its charts' dependencies).
    plain_http: bool = False
    # A Secret with the credentials of ``repo_url``: ``username``/``password`` and/or
    # ``ca.crt`` (registries, chart repositories, Git over HTTPS), ``identity`` and
    # ``known_hosts`` (Git over SSH); Flux's secretRef/certSecretRef.
    secret_ref: str | None = None
    # Where that Secret is read: the app's destination namespace unless set here (a
    # Flux source document's own namespace, where Flux reads it).
    secret_namespace: str | None = None
    # Multi-source apps: the name other sources use for this one in "$ref/..." value files.
    ref: str | None = None
    # False for a source that only lends its files to others (a ``ref`` without a path).
    renders: bool = True
    # Deploy only commits signed by these keys (Flux's GitRepository spec.verify).
    verify: Verification | None = None

    def kind(self) -> SourceKind:
        """Git, unless ``chart`` is set or the URL is ``oci://`` (Argo CD's rules).

        With ``chart``: an ``http(s)://`` URL is a Helm repository's index; ``oci://``
        or a URL without a scheme is an OCI registry. Without ``chart``, ``oci://`` is
        an artifact of plain files (Argo CD's OCI sources, Flux's OCIRepository).
        """
        url = self.repo_url.strip()
        oci = url.startswith("oci://")
        if self.chart is not None:
            if oci or "://" not in url:
                return SourceKind.OCI_CHART
            return SourceKind.HELM_REPOSITORY
        return SourceKind.OCI_ARTIFACT if oci else SourceKind.GIT

    def renderer(self) -> RendererKind | None:
        """The renderer named explicitly, or None to detect it from the files."""
        if self.helm is not None:
            return RendererKind.HELM
        if self.kustomize is not None:
            return RendererKind.KUSTOMIZE
        if self.directory is not None:
            return RendererKind.DIRECTORY
        return None


@dataclass(frozen=True)
class Destination:
    name: str | None = None  # a Cluster by name; None means the current kubeconfig context
    server: str | None = None
    namespace: str | None = None  # for namespaced objects that name none


class SyncOption(StrEnum):
    CREATE_NAMESPACE = "CreateNamespace"
    PRUNE_LAST = "PruneLast"
    REPLACE = "Replace"
    SERVER_SIDE_APPLY = "ServerSideApply"  # always on in gitward; accepted for Argo CD
    APPLY_OUT_OF_SYNC_ONLY = "ApplyOutOfSyncOnly"
    PRUNE_PROPAGATION_POLICY = "PrunePropagationPolicy"
    FAIL_ON_SHARED_RESOURCE = "FailOnSharedResource"
    VALIDATE = "Validate"


@dataclass(frozen=True)
class RetryPolicy:
    limit: int = 5
    backoff_seconds: float = 5.0
    factor: float = 2.0
    max_backoff_seconds: float = 180.0


@dataclass(frozen=True)
class SyncPolicy:
    automated: bool = False
    prune: bool = False
    self_heal: bool = False
    allow_empty: bool = False
    options: tuple[tuple[str, str], ...] = ()  # ("CreateNamespace", "true"), ...
    retry: RetryPolicy | None = None

    def option(self, name: SyncOption | str, default: str | None = None) -> str | None:
        for key, value in self.options:
            if key == name:
                return value
        return default

    def enabled(self, name: SyncOption | str) -> bool:
        return (self.option(name) or "").lower() == "true"


@dataclass(frozen=True)
class IgnoreDifferences:
    """Fields that must not count as drift, for the objects this rule matches."""

    kind: str
    group: str = ""
    name: str | None = None
    namespace: str | None = None
    json_pointers: tuple[str, ...] = ()
    managed_fields_managers: tuple[str, ...] = ()


@dataclass(frozen=True)
class HealthRule:
    """A custom health check for a kind, as CEL expressions over ``object``.

    The expressions are tried in the order suspended, healthy, degraded, progressing; the
    first that evaluates to true decides the status. ``origin`` names where the rule was
    written (a file) and ``lines`` the line of each expression in it, so that an error
    points at the line to fix.
    """

    kind: str
    group: str = ""
    healthy: str | None = None
    degraded: str | None = None
    progressing: str | None = None
    message: str | None = None  # a CEL expression giving the message
    suspended: str | None = None
    origin: str = ""
    lines: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class VariableSource:
    """A ConfigMap or Secret whose entries are substitution variables (Flux's
    ``postBuild.substituteFrom``); read from the cluster at every sync. ``optional``: a
    missing object counts as empty instead of failing the sync."""

    kind: str  # "ConfigMap" or "Secret"
    name: str
    optional: bool = False


@dataclass(frozen=True)
class PostBuild:
    """What is done to rendered objects before they are planned (Flux's ``postBuild``
    and ``targetNamespace``): see :mod:`gitward.render.postbuild`.

    ``substitute`` comes last and wins over ``substitute_from`` entries, which are read
    in order (a later one wins). ``namespace`` is where ``substitute_from`` objects live
    (the Flux Kustomization's own namespace). ``target_namespace`` replaces the namespace
    of every object that names one, as Kustomize's ``namespace`` does (objects naming
    none get the destination namespace anyway).
    """

    substitute: tuple[tuple[str, str], ...] = ()
    substitute_from: tuple[VariableSource, ...] = ()
    namespace: str = "default"
    target_namespace: str | None = None


@dataclass(frozen=True)
class ValuesReference:
    """Helm values in a ConfigMap or Secret (Flux's ``valuesFrom``), read at every sync:
    the document under ``values_key``, or that one value set at ``target_path``."""

    kind: str  # "ConfigMap" or "Secret"
    name: str
    namespace: str
    values_key: str = "values.yaml"
    target_path: str | None = None
    optional: bool = False


@dataclass(frozen=True)
class AppSpec:
    name: str
    source: SourceSpec
    destination: Destination = Destination()
    sync_policy: SyncPolicy = SyncPolicy()
    ignore_differences: tuple[IgnoreDifferences, ...] = ()
    health_rules: tuple[HealthRule, ...] = ()
    depends_on: tuple[str, ...] = ()
    suspend: bool = False
    project: str = "default"
    decryption: Decryption | None = None  # SOPS keys from a Secret (spec.decryption)
    # The declaration that generated this app, as "Kind/name" ("ApplicationSet/web",
    # "Application/root" for an app-of-apps child); None for an app declared directly.
    # A generated app is removed (and pruned per its policy) when its owner stops
    # producing it.
    owner: str | None = None
    # Argo CD's ``spec.sources``: every source in order when the app declares several
    # (then ``source`` is the first one that renders, the one whose revision the app
    # shows); empty for a single-source app.
    sources: tuple[SourceSpec, ...] = ()
    # metadata.labels, sorted pairs: the web UI filters and shows apps by them.
    labels: tuple[tuple[str, str], ...] = ()
    # Many clusters (docs/fleet.md): one instance per matching cluster, in stages.
    targets: tuple[Target, ...] = ()
    rollout: Rollout | None = None

    def all_sources(self) -> tuple[SourceSpec, ...]:
        """Every source of the app, ``(source,)`` for a single-source app."""
        return self.sources or (self.source,)

    post_build: PostBuild | None = None  # Flux Kustomizations: substitution, namespace
    values_from: tuple[ValuesReference, ...] = ()  # Flux HelmReleases: values in the cluster
