"""Protocols for the I/O seams of gitward.

Stages depend on these, never on concrete adapters; ``compose`` wires the real ones and
tests pass fakes for pure logic.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from gitward.model import (
    ApiResource,
    AppSpec,
    DecryptionKeys,
    GroupKind,
    JsonObject,
    RepoCredentials,
    Resource,
    ResourceKey,
    Revision,
    SignedCommit,
    SourceSpec,
)
from gitward.model.history import (
    AppStatus,
    AuditEntry,
    AuditOutcome,
    ObjectAction,
    Pin,
    SyncRecord,
    SyncResult,
    SyncTrigger,
    Trigger,
)
from gitward.model.policy import Verdict
from gitward.model.syncrequest import SyncRequest


class Clock(Protocol):
    """Time, injected so that waits have deadlines tests can control."""

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin; never goes backwards."""
        ...

    def sleep(self, seconds: float) -> None:
        """Block for ``seconds`` (a fake clock advances instead)."""
        ...

    def wall(self) -> float:
        """Seconds since the Unix epoch, for records a person reads."""
        ...


class SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def wall(self) -> float:
        return time.time()


class Progress(Protocol):
    """Where long-running work reports what it is doing, for a person to read.

    The CLI renders these as status lines; libraries and tests may ignore them.
    """

    def step(self, message: str) -> None:
        """A new step started."""
        ...

    def done(self, message: str) -> None:
        """The current step finished."""
        ...


class SilentProgress:
    """A :class:`Progress` that discards everything."""

    def step(self, message: str) -> None:
        pass

    def done(self, message: str) -> None:
        pass


# ---------------------------------------------------------------------------- stages


@dataclass(frozen=True)
class RenderRequest:
    """Everything a renderer needs: a checked-out tree and how to render a path in it."""

    root: Path  # the repository tree at ``sha`` (read-only)
    sha: str  # the commit, part of the render cache key
    source: SourceSpec
    app_name: str
    namespace: str | None = None  # the destination namespace (Helm's --namespace)
    kube_version: str | None = None  # the target cluster's version, for .Capabilities
    api_versions: tuple[str, ...] = ()  # the target cluster's API versions, for Helm
    keys: DecryptionKeys = field(
        default_factory=DecryptionKeys
    )  # for SOPS-encrypted files (in memory only)
    # Multi-source apps: the trees of the sources with a ``ref``, for "$ref/path" value
    # files, as (ref, tree, commit SHA); the SHA is part of the render cache key.
    refs: tuple[tuple[str, Path, str], ...] = ()


class GitSource(Protocol):
    """Resolves revisions and exposes the tree of a commit, cached by SHA."""

    def resolve(
        self, repo_url: str, revision: str, credentials: RepoCredentials | None = None
    ) -> Revision:
        """Turn a branch, tag, SHA, semver range or HEAD into a commit SHA."""
        ...

    def checkout(self, revision: Revision, credentials: RepoCredentials | None = None) -> Path:
        """A read-only directory holding the tree at ``revision.sha``."""
        ...

    def resolve_source(
        self, source: SourceSpec, credentials: RepoCredentials | None = None
    ) -> Revision:
        """``resolve`` for any source kind: Git, a chart in a Helm repository or OCI
        registry, an OCI artifact (``sha`` is then the content's ``sha256:`` digest)."""
        ...

    def checkout_source(
        self, source: SourceSpec, revision: Revision, credentials: RepoCredentials | None = None
    ) -> Path:
        """``checkout`` for any source kind; for a chart, the chart's directory."""
        ...

    def signed_commit(
        self, revision: Revision, credentials: RepoCredentials | None = None
    ) -> SignedCommit:
        """The commit's signature (None: unsigned) and the bytes it covers."""
        ...


class Renderer(Protocol):
    """Turns a path at a commit into a sorted list of objects."""

    def render(self, request: RenderRequest) -> list[Resource]: ...


class PolicyCheck(Protocol):
    """The policy stage: pure checks over an app's rendered objects, before anything is
    read from or written to a cluster. Same verdicts in CI and in the controller.

    :class:`gitward.policy.set.PolicyChecker` (Rego, CEL admission policies, AppProject
    rules, schemas) implements it; :class:`AllowAll` is the default without policies.
    """

    def check(self, app: AppSpec, resources: Sequence[Resource]) -> Verdict:
        """Every violation; the sync is refused when one of them denies."""
        ...


class AllowAll:
    """The default :class:`PolicyCheck`: no policy is configured, everything is allowed."""

    def check(self, app: AppSpec, resources: Sequence[Resource]) -> Verdict:
        return Verdict()


class Cluster(Protocol):
    """One Kubernetes cluster, as the apply and observe stages need it.

    Implemented by :mod:`gitward.kube`; every method raises :class:`gitward.errors.KubeError`
    subclasses only. Bodies are plain JSON objects as the API server speaks them.
    """

    @property
    def name(self) -> str:
        """A name for messages: the context or cluster name."""
        ...

    async def server_version(self) -> str: ...

    async def api_versions(self) -> list[str]:
        """Served group/versions and group/version/Kinds, for Helm's .Capabilities."""
        ...

    async def resource_for(self, group: str, kind: str, *, refresh: bool = False) -> ApiResource:
        """How to address ``group/kind``; UnknownKindError if the cluster serves none."""
        ...

    async def get(self, key: ResourceKey) -> JsonObject | None:
        """The live object, or None if it does not exist."""
        ...

    async def list(
        self, group: str, kind: str, *, namespace: str | None = None, labels: str | None = None
    ) -> list[JsonObject]: ...

    async def apply(
        self, body: JsonObject, *, field_manager: str, force: bool = False, dry_run: bool = False
    ) -> JsonObject:
        """Server-side apply; returns what the server stored (or would store, on dry run)."""
        ...

    async def create(self, body: JsonObject, *, field_manager: str) -> JsonObject:
        """Create (POST) a new object, e.g. a hook named by ``generateName``; returns it."""
        ...

    async def delete(self, key: ResourceKey, *, propagation: str = "Background") -> bool:
        """Delete; False if it was already gone."""
        ...


class HistoryStore(Protocol):
    """Application status and sync history, as the controller needs them.

    Implemented by :class:`gitward.store.Store` (SQLite or PostgreSQL).
    """

    async def get_status(self, app: str) -> AppStatus | None: ...

    async def list_status(self) -> list[AppStatus]: ...

    async def put_status(self, record: AppStatus) -> AppStatus: ...

    async def delete_status(self, app: str) -> bool: ...

    async def start_sync(
        self,
        app: str,
        *,
        requested: str,
        sha: str | None,
        trigger: SyncTrigger,
        actor: str = ...,
        repo_url: str = "",
        request: SyncRequest | None = None,
    ) -> int: ...

    async def finish_sync(
        self,
        sync_id: int,
        result: SyncResult,
        *,
        message: str = "",
        actions: tuple[ObjectAction, ...] = (),
        diff_summary: str = "",
        sha: str | None = None,
    ) -> SyncRecord: ...

    async def get_sync(self, sync_id: int) -> SyncRecord | None: ...

    async def list_syncs(self, app: str | None = None, limit: int = 50) -> list[SyncRecord]: ...

    async def pin(
        self, app: str, sha: str, *, actor: str, reason: str = "", release_after: str | None = None
    ) -> AppStatus: ...

    async def unpin(self, app: str) -> Pin | None: ...

    async def set_suspended(self, app: str, suspended: bool) -> AppStatus: ...

    async def audit(
        self,
        actor: str,
        action: str,
        target: str,
        *,
        outcome: AuditOutcome = ...,
        app: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> AuditEntry: ...

    async def mark_interrupted(self) -> list[SyncRecord]:
        """Mark this replica's syncs left Running by a crash as Interrupted; return them."""
        ...


class LiveView(Protocol):
    """A watch-fed view of the objects gitward manages in one cluster.

    When the view is synced for every kind an app uses, planning reads live state from
    it instead of sending LIST requests. Objects in it carry no ``managedFields``.
    """

    def synced(self, group_kind: GroupKind) -> bool: ...

    def objects(self, app: str | None = None) -> list[JsonObject]: ...


class AppsView(Protocol):
    """The controller as the HTTP API sees it: read the apps, ask for work.

    Implemented by :class:`gitward.reconcile.controller.Controller`; the API never
    touches its dictionaries or its queue. Unknown names raise ``KeyError``.
    """

    def names(self) -> list[str]:
        """Every declared app, sorted."""
        ...

    def declared(self, app: str) -> AppSpec: ...

    def observed(self, app: str) -> AppStatus:
        """The latest status (never written yet: an Unknown status)."""
        ...

    def observed_all(self) -> list[AppStatus]: ...

    def queue_depth(self) -> int: ...

    def trigger(
        self, app: str, trigger: Trigger, actor: str, request: SyncRequest | None = None
    ) -> None:
        """Queue a reconcile of ``app`` now (``request``: options for a manual sync)."""
        ...

    def objects(self, app: str) -> frozenset[ResourceKey] | None:
        """The objects Git holds for ``app`` as last looked, and those applied before
        that Git no longer holds, waiting to be pruned (None: not looked yet)."""
        ...

    def apps_for_push(
        self, repo_urls: frozenset[str], normalize: Callable[[str], str]
    ) -> list[str]:
        """The apps whose source repository is one of ``repo_urls``."""
        ...

    async def suspend(self, app: str, suspended: bool, actor: str) -> AppStatus: ...


class Shard(Protocol):
    """This replica's share of the apps when several run (``serve --ha``, docs/ha.md).

    Implemented by :class:`gitward.ha.replica.Replica`; one process alone has none.
    """

    def owns(self, app: str) -> bool:
        """True if this replica reconciles ``app`` now."""
        ...

    def fence(self, app: str) -> AbstractAsyncContextManager[int]:
        """Hold ``app`` for one sync; raises NotOwnerError if this replica may not."""
        ...

    def forward(self, app: str, trigger: str, actor: str, options: str = "") -> None:
        """Queue a trigger of ``app`` for the replica that owns it; ``options``: a
        person's sync options (``SyncRequest.encode()``), "" for none."""
        ...
