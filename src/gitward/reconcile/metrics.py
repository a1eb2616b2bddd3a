"""Prometheus metrics of the controller, in a registry of its own (no global state).

The controller, the Kubernetes client and the Git source report here; the HTTP server
exposes :meth:`Metrics.render` on ``/metrics``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from gitward.model import RepoCredentials, Revision, SignedCommit, SourceSpec
from gitward.ports import GitSource

_SECONDS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
_FAST = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.reconcile_seconds = Histogram(
            "gitward_reconcile_duration_seconds",
            "Time of one reconcile of one app.",
            ["app"],
            buckets=_SECONDS,
            registry=r,
        )
        self.sync_seconds = Histogram(
            "gitward_sync_duration_seconds",
            "Time of one sync (apply) of one app.",
            ["app"],
            buckets=_SECONDS,
            registry=r,
        )
        self.syncs = Counter(
            "gitward_syncs_total",
            "Syncs by app, trigger and result.",
            ["app", "trigger", "result"],
            registry=r,
        )
        self.policy_violations = Counter(
            "gitward_policy_violations_total",
            "Policy violations found when checking an app, by mode (deny refuses the sync).",
            ["app", "mode", "policy"],
            registry=r,
        )
        self.drift = Counter(
            "gitward_drift_events_total",
            "Changes to managed objects seen in the cluster, by app.",
            ["app"],
            registry=r,
        )
        self.queue_depth = Gauge(
            "gitward_queue_depth", "Apps waiting to be reconciled.", registry=r
        )
        self.apps = Gauge(
            "gitward_apps", "Apps by sync state and health.", ["sync_state", "health"], registry=r
        )
        self.git_seconds = Histogram(
            "gitward_git_fetch_duration_seconds",
            "Time to resolve (and fetch) a revision.",
            ["result"],
            buckets=_FAST,
            registry=r,
        )
        self.kube_requests = Counter(
            "gitward_kube_requests_total",
            "Kubernetes API requests by kind and HTTP status.",
            ["cluster", "request", "code"],
            registry=r,
        )
        self.kube_seconds = Histogram(
            "gitward_kube_request_duration_seconds",
            "Kubernetes API request latency.",
            ["cluster", "request"],
            buckets=_FAST,
            registry=r,
        )

    def kube_observer(self, cluster: str) -> Callable[[str, float, int], None]:
        def observe(request: str, seconds: float, code: int) -> None:
            self.kube_requests.labels(cluster, request, str(code)).inc()
            self.kube_seconds.labels(cluster, request).observe(seconds)

        return observe

    def render(self) -> bytes:
        return bytes(generate_latest(self.registry))


class TimedGit:
    """A :class:`gitward.ports.GitSource` that times every resolve (which fetches)."""

    def __init__(self, git: GitSource, metrics: Metrics) -> None:
        self.git = git
        self.metrics = metrics

    def resolve(
        self, repo_url: str, revision: str, credentials: RepoCredentials | None = None
    ) -> Revision:
        started = time.monotonic()
        result = "error"
        try:
            found = self.git.resolve(repo_url, revision, credentials)
            result = "ok"
            return found
        finally:
            self.metrics.git_seconds.labels(result).observe(time.monotonic() - started)

    def checkout(self, revision: Revision, credentials: RepoCredentials | None = None) -> Path:
        return self.git.checkout(revision, credentials)

    def resolve_source(
        self, source: SourceSpec, credentials: RepoCredentials | None = None
    ) -> Revision:
        started = time.monotonic()
        result = "error"
        try:
            found = self.git.resolve_source(source, credentials)
            result = "ok"
            return found
        finally:
            self.metrics.git_seconds.labels(result).observe(time.monotonic() - started)

    def checkout_source(
        self, source: SourceSpec, revision: Revision, credentials: RepoCredentials | None = None
    ) -> Path:
        return self.git.checkout_source(source, revision, credentials)

    def signed_commit(
        self, revision: Revision, credentials: RepoCredentials | None = None
    ) -> SignedCommit:
        return self.git.signed_commit(revision, credentials)
