"""Build concrete adapters from configuration: the only place that picks implementations.

Stages depend on ports; this module decides that Git is pygit2 mirrors in the user
cache, rendering uses the pinned ``kustomize`` and ``helm``, and the cluster is reached
through a kubeconfig. Tool binaries are found in this order: ``$GITWARD_HELM`` /
``$GITWARD_KUSTOMIZE``, gitward's build cache, ``PATH``, and finally a build from Go
modules (with progress shown), so a fresh machine works without setup.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from gitward.apply.inventory import InventoryStore
from gitward.errors import ConfigError
from gitward.kube.client import KubeClient
from gitward.model import DecryptionKeys, RepoCredentials
from gitward.ports import Progress, SilentProgress
from gitward.reconcile.pipeline import Engine
from gitward.render import ManifestRenderer, RenderTools
from gitward.source import GitRepositorySource
from gitward.source.addresses import AddressPolicy
from gitward.source.fetch_process import DEFAULT_FETCH_TIMEOUT
from gitward.toolchain import Toolchain, default_cache_dir

if TYPE_CHECKING:
    from gitward.model.project import ProjectSpec
    from gitward.policy.set import PolicyChecker, PolicySet


@dataclass(frozen=True)
class Settings:
    kubeconfig: str | None = None
    context: str | None = None
    cache_dir: Path | None = None
    credentials: RepoCredentials | None = None
    field_manager: str = "gitward"
    inventory_namespace: str = "gitward-system"
    concurrency: int = 32
    git_timeout: float = DEFAULT_FETCH_TIMEOUT  # seconds for one fetch over the network
    # Age identities for SOPS files (--decryption-key-file); apps may add their own.
    keys: DecryptionKeys = field(default_factory=DecryptionKeys)
    # Networks Git may not fetch from (SSRF): link-local and cloud metadata by default.
    repo_addresses: AddressPolicy = field(default_factory=AddressPolicy)


def tool(name: str, progress: Progress | None = None) -> Path:
    """The ``helm`` or ``kustomize`` binary to render with."""
    if explicit := os.environ.get(f"GITWARD_{name.upper()}"):
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"GITWARD_{name.upper()}={explicit} is not a file")
        return path
    toolchain = Toolchain(progress=progress or SilentProgress())
    if built := toolchain.find(name):  # asks nothing of Go: quick, and works without it
        return built
    found = shutil.which(name)
    if found:
        return Path(found)
    return toolchain.ensure([name])[name]


def git_source(settings: Settings) -> GitRepositorySource:
    return GitRepositorySource(
        (settings.cache_dir or default_cache_dir()) / "git",
        fetch_timeout=settings.git_timeout,
        addresses=settings.repo_addresses,
    )


def renderer(progress: Progress | None = None) -> ManifestRenderer:
    return ManifestRenderer(
        RenderTools(kustomize=tool("kustomize", progress), helm=tool("helm", progress))
    )


def kube_client(settings: Settings) -> KubeClient:
    return KubeClient.from_kubeconfig(
        settings.kubeconfig, settings.context, max_in_flight=max(settings.concurrency, 8)
    )


def engine(settings: Settings, cluster: KubeClient, progress: Progress | None = None) -> Engine:
    credentials = settings.credentials
    return Engine(
        git_source(settings),
        renderer(progress),
        cluster,
        inventory=InventoryStore(cluster, settings.inventory_namespace),
        field_manager=settings.field_manager,
        credentials=lambda _url: credentials,
        keys=settings.keys,
    )


def policy_checker(
    paths: Sequence[Path],
    progress: Progress | None = None,
    projects: Mapping[str, ProjectSpec] | None = None,
    policies: PolicySet | None = None,
) -> PolicyChecker:
    """The policy stage for ``--policy`` paths; OPA is found (or built) only for Rego.

    Close it when done: it may own a running OPA server. The stage is imported here, not
    at the top, so that the commands that do not check policy (render, diff, sync) do not
    pay its start-up cost (about 0.1 s).
    """
    from gitward.policy.load import load_policies  # noqa: PLC0415
    from gitward.policy.opa import OpaPool  # noqa: PLC0415
    from gitward.policy.set import PolicyChecker  # noqa: PLC0415

    loaded = policies or load_policies(paths)
    if projects:
        loaded = loaded.with_projects(projects)
    backend = OpaPool(tool("opa", progress)) if loaded.rego is not None else None
    return PolicyChecker(loaded, backend)
