"""Transient errors are retried with a growing delay; permanent ones are reported once
and tried again only for a new commit or a person. Real Git, a real store, a real
cluster (or a real refused connection); only the queue's clock is driven."""

from __future__ import annotations

import random
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from gitward import compose
from gitward.kube.client import KubeClient
from gitward.model import AppSpec, Destination, Resource, ResourceKey, SourceSpec, SyncPolicy
from gitward.model.history import SyncState, Trigger
from gitward.ports import Renderer, RenderRequest
from gitward.reconcile.controller import Controller, ControllerSettings
from gitward.reconcile.pipeline import Engine
from gitward.store import Store
from tests.engine.conftest import GitRepo, cluster, repo
from tests.reconcile.driven import DrivenClock, release, stepped

__all__ = ["cluster", "repo"]  # fixtures

POLL = 180.0
SETTINGS = ControllerSettings(poll_interval=POLL, jitter=0.0, workers=1)


class CountingRenderer:
    """The real renderer, counting how often it is asked (a render is the costly part
    of a retry, and what a permanent failure must not repeat)."""

    def __init__(self, inner: Renderer) -> None:
        self.inner = inner
        self.calls = 0

    def render(self, request: RenderRequest) -> list[Resource]:
        self.calls += 1
        return self.inner.render(request)


def application(repo: GitRepo, namespace: str) -> AppSpec:
    return AppSpec(
        name=f"errors-{namespace}",
        source=SourceSpec(repo_url=str(repo.path), path="app"),
        destination=Destination(namespace=namespace),
        sync_policy=SyncPolicy(automated=True, prune=True, self_heal=True),
    )


@dataclass
class Harness:
    """A controller on a real store in the test's directory, with a driven clock."""

    clock: DrivenClock
    store: Store
    tmp_path: Path
    started: list[Controller] = field(default_factory=list)

    @property
    def adapters(self) -> compose.Settings:
        return compose.Settings(cache_dir=self.tmp_path / "cache")

    async def start(self, engine: Engine, spec: AppSpec) -> Controller:
        rng = random.Random(0)  # noqa: S311 - jitter is off anyway
        controller = Controller(lambda _spec: engine, self.store, self.clock, SETTINGS, rng)
        self.started.append(controller)
        await controller.set_apps({spec.name: spec})
        await controller.start()
        return controller


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    clock = DrivenClock()
    store = await Store.open(f"sqlite:///{tmp_path / 'gitward.db'}", clock)
    running = Harness(clock, store, tmp_path)
    yield running
    for controller in running.started:
        await controller.stop()
    await store.close()


def refused_kubeconfig(tmp_path: Path) -> Path:
    """A kubeconfig naming a local port nothing listens on: every request is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    path = tmp_path / "refused.kubeconfig"
    path.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: gone\n"
        f"clusters: [{{name: gone, cluster: {{server: 'https://127.0.0.1:{port}', "
        "insecure-skip-tls-verify: true}}]\n"
        "users: [{name: gone, user: {token: not-a-secret}}]\n"
        "contexts: [{name: gone, context: {cluster: gone, user: gone}}]\n"
    )
    return path


async def test_an_unreachable_cluster_is_retried_with_a_growing_delay(
    repo: GitRepo, harness: Harness
) -> None:
    repo.write({"app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\n"})
    repo.commit()
    spec = application(repo, "nowhere")
    async with KubeClient.from_kubeconfig(refused_kubeconfig(harness.tmp_path)) as client:
        engine = compose.engine(harness.adapters, client)
        controller = await harness.start(engine, spec)

        delays = []
        for attempt in range(1, 5):
            delays.append(await stepped(controller, spec.name, attempt))
            assert controller.reconciles == attempt  # no retry before the delay passed
            queued = controller.queue.queued(spec.name)
            assert queued is not None
            assert queued.trigger is Trigger.REFRESH  # retried as what it was
            release(controller, harness.clock, delays[-1])

    assert delays == [5.0, 10.0, 20.0, 40.0]
    status = controller.observed(spec.name)
    assert status.sync_state is SyncState.UNKNOWN
    [condition] = status.conditions
    assert condition.type == "ClusterUnreachable"  # Unknown, with the cause (issue 8)
    assert "is the cluster" in condition.message  # the hint says what to check


BAD = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [settings\n"
GOOD = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {value: fixed}\n"


@pytest.mark.cluster
async def test_a_bad_manifest_is_reported_once_and_tried_again_for_a_new_commit_or_a_person(
    repo: GitRepo, cluster: KubeClient, namespace: str, harness: Harness
) -> None:
    repo.write({"app/cm.yaml": BAD})
    repo.commit("broken")
    spec = application(repo, namespace)
    renderer = CountingRenderer(compose.renderer())
    engine = compose.engine(harness.adapters, cluster, shared_renderer=renderer)
    controller = await harness.start(engine, spec)
    clock = harness.clock

    # Reported at once, and not retried: the next run is the ordinary poll.
    assert await stepped(controller, spec.name, 1) == POLL
    [condition] = controller.observed(spec.name).conditions
    assert condition.type == "ReconcileError"
    assert "cm.yaml" in condition.message
    assert renderer.calls == 1

    # The poll finds the same commit: nothing is rendered or written again.
    updated = controller.observed(spec.name).updated_at
    release(controller, clock, POLL)
    assert await stepped(controller, spec.name, 2) == POLL
    controller.trigger(spec.name, Trigger.WEBHOOK)  # a push to another branch: same commit
    assert await stepped(controller, spec.name, 3) == POLL
    assert renderer.calls == 1
    assert controller.observed(spec.name).updated_at == updated

    # A person asks: tried again, reported again.
    controller.trigger(spec.name, Trigger.REFRESH, "alice")
    assert await stepped(controller, spec.name, 4) == POLL
    assert renderer.calls == 2
    assert controller.observed(spec.name).conditions[0].type == "ReconcileError"

    # The fix is committed: the next poll syncs it.
    repo.write({"app/cm.yaml": GOOD})
    fixed = repo.commit("fixed")
    release(controller, clock, POLL)
    await stepped(controller, spec.name, 5)
    status = controller.observed(spec.name)
    assert (status.sync_state, status.live_sha, status.conditions) == (SyncState.SYNCED, fixed, ())
    live = await cluster.get(ResourceKey("", "ConfigMap", namespace, "settings"))
    assert live is not None
    assert live["data"] == {"value": "fixed"}
