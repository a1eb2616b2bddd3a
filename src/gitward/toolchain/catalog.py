"""The pinned Go programs gitward runs: one data entry per tool.

Adding a tool is adding a :class:`Tool` to :data:`TOOLS`: its name, the Go package of its
``main``, the version, how it is built (``go install`` at its tag with its own upstream
go.mod, or ``go build`` inside one of our pinned Go modules under ``gomod/``) and the
ldflags. :mod:`gitward.toolchain.build` turns an entry into a cached binary; nothing else
needs to change. Renderers use kustomize, helm and sops at runtime; the dev cluster uses
the Kubernetes programs and kwok; kubectl serves people and benchmarks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gitward.errors import ToolchainError

KUBERNETES_VERSION = "v1.36.3"
ETCD_VERSION = "v3.6.8"  # the version k8s.io/kubernetes v1.36.3 itself requires
SEALED_SECRETS_VERSION = "v0.27.1"  # v0.40 renamed its module: it needs a helper module
FLUX_VERSION = "v1.9.6"  # kustomize-controller and source-controller share the number

# ``k8s.io/kubernetes`` redirects its staging modules to ``./staging``; our go.mod in
# ``gomod/k8s`` replaces each with its published ``v0.Y.Z`` and pins the whole graph in
# go.sum. Its module path still says ``devcluster`` (where it used to live): changing
# go.mod would change every Kubernetes tool's cache key and rebuild them all.
K8S_MODULE = "k8s"
# Built like upstream builds them: static, ``-trimpath``, these tags.
_K8S_TAGS = ("selinux", "notest")
_K8S_PKG = "k8s.io/kubernetes/cmd/"
_VERSION_PKGS = ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version")
_STRIP = ("-s", "-w")


@dataclass(frozen=True)
class Tool:
    """One program to build: where it comes from and how.

    ``module`` names a directory under ``gomod/`` holding a go.mod + go.sum to build in
    (``go build``); ``None`` means ``go install package@version`` with the tool's own
    upstream go.mod, so another tool's pins never force versions on it.
    """

    name: str
    package: str
    version: str
    module: str | None = None
    ldflags: tuple[str, ...] = field(default=_STRIP)
    tags: tuple[str, ...] = field(default=())
    # cgo on (a C compiler is needed): only for tools that link C code, like Gitea's SQLite.
    cgo: bool = False
    # Rough cold build time on two cores (measured: about 1 min each once the
    # shared Kubernetes packages are compiled), shown so a person knows what to expect.
    cold_minutes: int = 1


def _k8s_ldflags() -> tuple[str, ...]:
    """Version stamps so that ``--version`` reports the real release, not ``v0.0.0``."""
    major, minor, _ = KUBERNETES_VERSION.lstrip("v").split(".")
    flags = list(_STRIP)
    for pkg in _VERSION_PKGS:
        flags += [
            f"-X={pkg}.gitVersion={KUBERNETES_VERSION}",
            f"-X={pkg}.gitMajor={major}",
            f"-X={pkg}.gitMinor={minor}",
            f"-X={pkg}.gitTreeState=clean",
        ]
    return tuple(flags)


def _helm_ldflags(version: str) -> tuple[str, ...]:
    # Like helm's own Makefile: without the k8sVersion flags, .Capabilities.KubeVersion
    # defaults to v1.20 and charts that require a newer Kubernetes refuse to render.
    major, minor, _ = KUBERNETES_VERSION.lstrip("v").split(".")
    flags = [*_STRIP, f"-X=helm.sh/helm/v3/internal/version.version={version}"]
    for pkg in ("helm.sh/helm/v3/pkg/chartutil", "helm.sh/helm/v3/pkg/lint/rules"):
        flags += [f"-X={pkg}.k8sVersionMajor={major}", f"-X={pkg}.k8sVersionMinor={minor}"]
    return tuple(flags)


def _kubernetes(name: str) -> Tool:
    return Tool(
        name,
        _K8S_PKG + name,
        KUBERNETES_VERSION,
        module=K8S_MODULE,
        ldflags=_k8s_ldflags(),
        tags=_K8S_TAGS,
    )


TOOLS: tuple[Tool, ...] = (
    Tool("etcd", "go.etcd.io/etcd/server/v3", ETCD_VERSION, module=K8S_MODULE, tags=_K8S_TAGS),
    _kubernetes("kube-apiserver"),
    _kubernetes("kube-controller-manager"),
    _kubernetes("kube-scheduler"),
    _kubernetes("kubectl"),
    Tool("kwok", "sigs.k8s.io/kwok/cmd/kwok", "v0.7.0"),
    Tool("kustomize", "sigs.k8s.io/kustomize/kustomize/v5", "v5.8.1"),
    Tool("helm", "helm.sh/helm/v3/cmd/helm", "v3.21.4", ldflags=_helm_ldflags("v3.21.4")),
    Tool("sops", "github.com/getsops/sops/v3/cmd/sops", "v3.13.2"),
    # Rego policies. Built on demand only (policy tests, `validate`/`sync` with .rego
    # policies): about 3 min cold on two busy cores.
    Tool("opa", "github.com/open-policy-agent/opa", "v1.22.4", cold_minutes=3),
    # Sealed Secrets: the controller (run against the dev cluster in tests) and kubeseal.
    # On demand only: the controller took 15.5 min cold on two loaded cores; kubeseal
    # then 14 s (shared packages).
    Tool(
        "sealed-secrets-controller",
        "github.com/bitnami-labs/sealed-secrets/cmd/controller",
        SEALED_SECRETS_VERSION,
        cold_minutes=15,
    ),
    Tool("kubeseal", "github.com/bitnami-labs/sealed-secrets/cmd/kubeseal", SEALED_SECRETS_VERSION),
    # A real forge for the commit-status and webhook tests (tests/forge). v1.26.0 needs
    # its own replace directives, so it is built inside gomod/gitea; SQLite needs cgo.
    # Built on demand only; without the ``bindata`` tag it reads templates/ and options/
    # from its module directory (see tests/forge).
    Tool(
        "gitea",
        "code.gitea.io/gitea",
        "v1.26.0",
        module="gitea",
        tags=("sqlite", "sqlite_unlock_notify"),
        cgo=True,
        cold_minutes=12,
    ),
    # An OCI registry (Helm charts over oci://, OCI artifact sources, image tags for image
    # automation) and ORAS to push plain manifests as OCI artifacts. Tests only, on demand.
    Tool(
        "registry", "github.com/distribution/distribution/v3/cmd/registry", "v3.1.2", cold_minutes=3
    ),
    Tool("oras", "oras.land/oras/cmd/oras", "v1.3.6", cold_minutes=2),
    # A real OpenID Connect provider for the web UI's single sign-on tests: zitadel/oidc's
    # OpenID Provider built inside gomod/oidc by its ./provider command (binds 127.0.0.1,
    # users from a file, a groups claim). Dex was the first choice; its module does not
    # build from the proxy (docs/ui.md). Tests only, on demand.
    Tool(
        "oidc-provider",
        "gitward.dev/toolchain/oidc/provider",
        "v3.52.0",
        module="oidc",
        cold_minutes=2,
    ),
    # Flux's kustomize-controller and source-controller, run out of cluster against the
    # dev cluster as the same-run baseline of benchmarks/fleet_bench.py. Their go.mod
    # carries replace directives, so each is built inside its own module under gomod/
    # (copying the non-local replaces). Benchmark only, on demand.
    Tool(
        "flux-kustomize-controller",
        "github.com/fluxcd/kustomize-controller",
        FLUX_VERSION,
        module="flux-kustomize",
        cold_minutes=20,
    ),
    Tool(
        "flux-source-controller",
        "github.com/fluxcd/source-controller",
        FLUX_VERSION,
        module="flux-source",
        cold_minutes=25,
    ),
)

CONTROL_PLANE_TOOLS = (
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kwok",
    "kubectl",
)
RENDER_TOOLS = ("kustomize", "helm", "sops")
POLICY_TOOLS = ("opa",)
SEALED_SECRETS_TOOLS = ("sealed-secrets-controller", "kubeseal")
FORGE_TOOLS = ("gitea",)
REGISTRY_TOOLS = ("registry", "oras")
OIDC_TOOLS = ("oidc-provider",)
FLUX_TOOLS = ("flux-kustomize-controller", "flux-source-controller")
# What `dev-cluster build` and the dev cluster build by default; policy, Sealed
# Secrets and forge tools are built the first time something needs them.
_ON_DEMAND = (
    POLICY_TOOLS + SEALED_SECRETS_TOOLS + FORGE_TOOLS + REGISTRY_TOOLS + OIDC_TOOLS + FLUX_TOOLS
)
ALL_TOOLS = tuple(t.name for t in TOOLS if t.name not in _ON_DEMAND)


def tool_spec(name: str) -> Tool:
    for tool in TOOLS:
        if tool.name == name:
            return tool
    raise ToolchainError(
        f"unknown tool {name!r}", hint=f"known tools: {', '.join(t.name for t in TOOLS)}"
    )
