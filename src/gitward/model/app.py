"""What an Application declares: where its source is, how to render it, where it goes.

Field names follow Argo CD's ``Application`` (``repoURL``, ``targetRevision``, ``path``,
``helm.valueFiles``, ``syncPolicy.automated.prune``, ...) so an Argo CD document means
the same thing to gitward; parsing lives in :mod:`gitward.spec`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from gitward.model.keys import Decryption


@dataclass(frozen=True)
class RepoCredentials:
    """How to authenticate to a Git repository. Secrets are never part of ``repr``."""

    username: str | None = None
    password: str | None = field(default=None, repr=False)  # or an access token
    ssh_private_key_file: str | None = None
    known_hosts_file: str | None = None


@dataclass(frozen=True)
class DirectoryOptions:
    recurse: bool = False
    include: str | None = None  # a glob, or several in braces: "{a.yaml,b/*.yaml}"
    exclude: str | None = None


@dataclass(frozen=True)
class HelmOptions:
    release_name: str | None = None  # defaults to the application's name
    values: str | None = None  # inline YAML
    value_files: tuple[str, ...] = ()  # paths inside the repository, relative to the chart
    skip_crds: bool = False


@dataclass(frozen=True)
class KustomizeOptions:
    """Options passed to ``kustomize build``; the load restrictor is always on."""

    enable_helm: bool = False


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
    chart: str | None = None  # a chart from a Helm repository (not supported yet)

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
