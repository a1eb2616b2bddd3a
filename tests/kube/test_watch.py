"""LIST+WATCH against the real control plane: events, resumes, 410 Gone, lost connections.

Connections are cut for real by a TCP proxy between the client and the API server (TLS
passes through it untouched), so the watcher sees the same broken streams and refused
connections it would see in production.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from gitward.devcluster import ClusterState
from gitward.errors import UnknownKindError, UnreachableError
from gitward.kube.client import KubeClient
from gitward.kube.watch import Checkpoint, EventType, Watcher, WatchEvent, WatchSettings
from gitward.model import GroupKind, ResourceKey
from gitward.model.annotations import APP_LABEL
from tests.support.waiting import eventually

pytestmark = pytest.mark.cluster

CONFIGMAP = GroupKind("", "ConfigMap")
FAST = WatchSettings(timeout_seconds=30, backoff_initial=0.05, backoff_max=0.4)


# ---------------------------------------------------------------------------- helpers


@pytest.fixture
async def client(control_plane: ClusterState) -> AsyncIterator[KubeClient]:
    async with KubeClient.from_kubeconfig(control_plane.kubeconfig) as kube:
        yield kube


def configmap(namespace: str, name: str, app: str | None = "demo", **data: str) -> dict[str, Any]:
    labels = {APP_LABEL: app} if app else {}
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "data": data,
    }


def key(namespace: str, name: str) -> ResourceKey:
    return ResourceKey("", "ConfigMap", namespace, name)


class Consumer:
    """Runs ``watcher.events()`` in a task and hands the events to the test."""

    def __init__(self, watcher: Watcher) -> None:
        self.watcher = watcher
        self.queue: asyncio.Queue[WatchEvent] = asyncio.Queue()
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async with contextlib.aclosing(self.watcher.events()) as events:
            async for event in events:
                self.queue.put_nowait(event)

    async def next(
        self, match: Callable[[WatchEvent], bool] = lambda _: True, timeout: float = 60.0
    ) -> WatchEvent:
        """The next event that matches, skipping others, within ``timeout`` seconds."""
        async with asyncio.timeout(timeout):
            while True:
                event = await self.queue.get()
                if match(event):
                    return event

    async def stop(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


@contextlib.asynccontextmanager
async def consuming(watcher: Watcher) -> AsyncIterator[Consumer]:
    consumer = Consumer(watcher)
    try:
        yield consumer
    finally:
        await consumer.stop()


class Proxy:
    """A TCP proxy to the API server that a test can stop (cutting every connection)."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self.open = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.open += 1
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self._writers |= {writer, up_writer}
        try:
            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        finally:
            self.open -= 1
            for w in (writer, up_writer):
                self._writers.discard(w)
                w.transport.abort()
            self._tasks.discard(task)


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, OSError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.transport.abort()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def kubeconfig_via(state: ClusterState, port: int, directory: Path) -> Path:
    config = json.loads(Path(state.kubeconfig).read_text())
    config["clusters"][0]["cluster"]["server"] = f"https://127.0.0.1:{port}"
    path = directory / f"kubeconfig-{port}"
    path.write_text(json.dumps(config))
    return path


def api_port(state: ClusterState) -> int:
    server = json.loads(Path(state.kubeconfig).read_text())["clusters"][0]["cluster"]["server"]
    return int(urlparse(server).port or 443)


async def until(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    await eventually(
        condition, what="the watcher's state (see the test's condition)", timeout=timeout
    )


# ---------------------------------------------------------------------------- tests


async def test_list_then_watch_delivers_every_change(client: KubeClient, namespace: str) -> None:
    await client.apply(configmap(namespace, "a", color="blue"), field_manager="t")
    watcher = Watcher(client, CONFIGMAP, namespace=namespace, labels=APP_LABEL, settings=FAST)
    async with consuming(watcher) as events:
        first = await events.next()
        assert (first.type, first.key) == (EventType.ADDED, key(namespace, "a"))
        await asyncio.wait_for(watcher.synced.wait(), 60)

        await client.apply(configmap(namespace, "b"), field_manager="t")
        added = await events.next()
        assert (added.type, added.key) == (EventType.ADDED, key(namespace, "b"))

        await client.apply(configmap(namespace, "a", color="red"), field_manager="t")
        modified = await events.next()
        assert modified.type == EventType.MODIFIED
        assert modified.object["data"] == {"color": "red"}

        await client.delete(key(namespace, "a"))
        deleted = await events.next()
        assert (deleted.type, deleted.key) == (EventType.DELETED, key(namespace, "a"))
        assert not deleted.final_state_unknown

    assert (watcher.stats.lists, watcher.stats.watches, watcher.stats.errors) == (1, 1, 0)
    assert watcher.stats.events == 3
    assert client.requests["LIST"] == 1
    assert client.requests["WATCH"] == 1


async def test_the_label_selector_filters_on_the_server(client: KubeClient, namespace: str) -> None:
    await client.apply(configmap(namespace, "plain", app=None), field_manager="t")
    await client.apply(configmap(namespace, "managed"), field_manager="t")
    watcher = Watcher(client, CONFIGMAP, namespace=namespace, labels=APP_LABEL, settings=FAST)
    async with consuming(watcher) as events:
        assert (await events.next()).key.name == "managed"
        await client.apply(configmap(namespace, "plain2", app=None), field_manager="t")
        await client.apply(configmap(namespace, "managed2"), field_manager="t")
        assert (await events.next()).key.name == "managed2"
        # Removing the label makes the object leave the selection: the server says DELETED.
        await client.apply(configmap(namespace, "managed2", app=None), field_manager="t")
        left = await events.next()
        assert (left.type, left.key.name) == (EventType.DELETED, "managed2")


async def test_a_watch_that_ends_resumes_without_listing_again(
    client: KubeClient, namespace: str
) -> None:
    settings = WatchSettings(timeout_seconds=1, backoff_initial=0.05)
    watcher = Watcher(client, CONFIGMAP, namespace=namespace, labels=APP_LABEL, settings=settings)
    async with consuming(watcher) as events:
        await until(lambda: watcher.stats.watches >= 3)
        await client.apply(configmap(namespace, "late"), field_manager="t")
        event = await events.next()
        assert (event.type, event.key.name) == (EventType.ADDED, "late")
    assert watcher.stats.lists == 1
    assert watcher.stats.watches >= 3
    assert watcher.stats.errors == 0


@pytest.fixture
async def gizmo_kind(client: KubeClient) -> AsyncIterator[GroupKind]:
    """A custom kind created for this test: its history on the server begins now."""
    group = f"g{secrets.token_hex(4)}.gitward.test"
    definition = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"gizmos.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"plural": "gizmos", "singular": "gizmo", "kind": "Gizmo"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "x-kubernetes-preserve-unknown-fields": True,
                        }
                    },
                }
            ],
        },
    }
    await client.apply(definition, field_manager="t")
    crd = ResourceKey.of(definition)
    try:
        await eventually(
            lambda: client.resource_for(group, "Gizmo", refresh=True),
            what=f"the API server to serve {group}/Gizmo",
            ignoring=(UnknownKindError,),
        )
        yield GroupKind(group, "Gizmo")
    finally:
        await client.delete(crd)


def gizmo(kind: GroupKind, namespace: str, name: str, **spec: str) -> dict[str, Any]:
    return {
        "apiVersion": f"{kind.group}/v1",
        "kind": kind.kind,
        "metadata": {"name": name, "namespace": namespace, "labels": {APP_LABEL: "demo"}},
        "spec": spec,
    }


async def test_an_expired_resource_version_relists_and_reports_deletions(
    client: KubeClient, namespace: str, gizmo_kind: GroupKind
) -> None:
    for name in ("gone", "changed", "same"):
        await client.apply(gizmo(gizmo_kind, namespace, name, v="1"), field_manager="t")
    first = Watcher(client, gizmo_kind, namespace=namespace, labels=APP_LABEL, settings=FAST)
    async with consuming(first):
        await asyncio.wait_for(first.synced.wait(), 60)
    seen = first.checkpoint()
    names = {k.name for k in seen.known}
    assert names == {"gone", "changed", "same"}

    await client.delete(ResourceKey(gizmo_kind.group, "Gizmo", namespace, "gone"))
    await client.apply(gizmo(gizmo_kind, namespace, "changed", v="2"), field_manager="t")
    await client.apply(gizmo(gizmo_kind, namespace, "new", v="1"), field_manager="t")

    # The API server serves watches from a window of recent history per resource; for a
    # kind created moments ago that window starts now, so resourceVersion "1" lies before
    # it and the server answers as for a checkpoint that aged out while a watcher was
    # away: an ERROR event with code 410, reason Expired ("too old resource version").
    # (For long-lived kinds such as ConfigMap on a fresh cluster, "1" may still be inside
    # the window, which is why the test uses a kind of its own.)
    resumed = Watcher(
        client,
        gizmo_kind,
        namespace=namespace,
        labels=APP_LABEL,
        settings=FAST,
        resume=Checkpoint("1", seen.known),
    )
    async with consuming(resumed) as events:
        got = {(e.type, e.key.name): e for e in [await events.next() for _ in range(3)]}
        # Events of one watcher arrive in order: once a change made now is seen, every
        # event of the relist has been delivered, and an unchanged object would be among
        # them.
        await client.apply(gizmo(gizmo_kind, namespace, "marker", v="1"), field_manager="t")
        marker = await events.next()
        assert (marker.type, marker.key.name) == (EventType.ADDED, "marker"), (
            "unchanged objects must not be reported"
        )
    assert set(got) == {
        (EventType.DELETED, "gone"),
        (EventType.MODIFIED, "changed"),
        (EventType.ADDED, "new"),
    }
    tombstone = got[EventType.DELETED, "gone"]
    assert tombstone.final_state_unknown
    assert tombstone.object["metadata"]["name"] == "gone"
    assert tombstone.object["apiVersion"] == f"{gizmo_kind.group}/v1"
    assert (resumed.stats.expired, resumed.stats.lists) == (1, 1)
    assert resumed.stats.errors == 0


async def test_a_lost_connection_resumes_from_the_last_version_without_a_list(
    control_plane: ClusterState, namespace: str, client: KubeClient, tmp_path: Path
) -> None:
    proxy = Proxy(api_port(control_plane))
    await proxy.start()
    delays: list[float] = []

    async def sleep(seconds: float) -> None:
        delays.append(seconds)
        await asyncio.sleep(seconds)

    kubeconfig = kubeconfig_via(control_plane, proxy.port, tmp_path)
    async with KubeClient.from_kubeconfig(kubeconfig, timeout=5) as via_proxy:
        watcher = Watcher(
            via_proxy, CONFIGMAP, namespace=namespace, labels=APP_LABEL, settings=FAST, sleep=sleep
        )
        async with consuming(watcher) as events:
            await asyncio.wait_for(watcher.synced.wait(), 60)
            await proxy.stop()  # the WATCH breaks; reconnecting is refused
            await until(lambda: len(delays) >= 3)
            await client.apply(configmap(namespace, "while-away"), field_manager="t")
            await proxy.start()
            event = await events.next()
            assert (event.type, event.key.name) == (EventType.ADDED, "while-away")
        await proxy.stop()
    assert watcher.stats.lists == 1
    assert watcher.stats.watches >= 2
    assert isinstance(watcher.last_error, UnreachableError)
    assert delays[:3] == [0.05, 0.1, 0.2]


async def test_an_unreachable_cluster_is_retried_with_capped_backoff(
    control_plane: ClusterState, tmp_path: Path
) -> None:
    delays: list[float] = []

    async def sleep(seconds: float) -> None:  # time advances without waiting
        delays.append(seconds)
        await asyncio.sleep(0)

    kubeconfig = kubeconfig_via(control_plane, free_port(), tmp_path)
    async with KubeClient.from_kubeconfig(kubeconfig, timeout=2) as dead:
        watcher = Watcher(dead, CONFIGMAP, labels=APP_LABEL, settings=FAST, sleep=sleep)
        async with consuming(watcher) as events:
            await until(lambda: len(delays) >= 6)
            assert not events.task.done(), "errors must not reach the consumer"
    assert delays[:6] == [0.05, 0.1, 0.2, 0.4, 0.4, 0.4]
    assert isinstance(watcher.last_error, UnreachableError)
    assert watcher.last_error.transient
    assert watcher.stats.lists >= 1
    assert not watcher.synced.is_set()


async def test_an_unknown_kind_is_retried_until_its_crd_appears(client: KubeClient) -> None:
    delays: list[float] = []

    async def sleep(seconds: float) -> None:
        delays.append(seconds)
        await asyncio.sleep(0)

    gizmo = GroupKind("example.com", "Gizmo")
    watcher = Watcher(client, gizmo, labels=APP_LABEL, settings=FAST, sleep=sleep)
    async with consuming(watcher) as events:
        await until(lambda: len(delays) >= 2)
        assert not events.task.done()
    assert isinstance(watcher.last_error, UnknownKindError)
    assert watcher.stats.watches == 0


async def test_cancelling_closes_the_watch_connection(
    control_plane: ClusterState, namespace: str, tmp_path: Path
) -> None:
    proxy = Proxy(api_port(control_plane))
    await proxy.start()
    kubeconfig = kubeconfig_via(control_plane, proxy.port, tmp_path)
    try:
        async with KubeClient.from_kubeconfig(kubeconfig) as via_proxy:
            watcher = Watcher(via_proxy, CONFIGMAP, namespace=namespace, settings=FAST)
            consumer = Consumer(watcher)
            await asyncio.wait_for(watcher.synced.wait(), 60)
            await until(lambda: watcher.stats.watches == 1)
            open_while_watching = proxy.open
            await consumer.stop()
            assert consumer.task.cancelled()
            await until(lambda: proxy.open == open_while_watching - 1)
    finally:
        await proxy.stop()


async def test_synced_is_cleared_while_the_stream_is_broken_and_set_once_resumed(
    control_plane: ClusterState, namespace: str, client: KubeClient, tmp_path: Path
) -> None:
    proxy = Proxy(api_port(control_plane))
    await proxy.start()
    delays: list[float] = []

    async def sleep(seconds: float) -> None:
        delays.append(seconds)
        await asyncio.sleep(seconds)

    kubeconfig = kubeconfig_via(control_plane, proxy.port, tmp_path)
    async with KubeClient.from_kubeconfig(kubeconfig, timeout=5) as via_proxy:
        watcher = Watcher(
            via_proxy, CONFIGMAP, namespace=namespace, labels=APP_LABEL, settings=FAST, sleep=sleep
        )
        async with consuming(watcher) as events:
            await asyncio.wait_for(watcher.synced.wait(), 10)
            await proxy.stop()  # changes made now are not seen until the watch resumes
            await until(lambda: len(delays) >= 2, timeout=10)
            assert not watcher.synced.is_set(), "a broken watch must not claim to be current"
            await client.apply(configmap(namespace, "while-away"), field_manager="t")
            assert not watcher.synced.is_set()
            await proxy.start()
            event = await events.next(timeout=10)
            assert (event.type, event.key.name) == (EventType.ADDED, "while-away")
            assert watcher.synced.is_set()
        await proxy.stop()
    assert watcher.stats.lists == 1


async def test_synced_is_cleared_while_listing_again_after_the_history_expired(
    client: KubeClient, namespace: str, gizmo_kind: GroupKind
) -> None:
    for name in ("a", "b"):
        await client.apply(gizmo(gizmo_kind, namespace, name, v="1"), field_manager="t")
    # Resuming from a version older than the server's history (see the test above): the
    # watcher must not call itself current until it has listed again.
    resumed = Watcher(
        client,
        gizmo_kind,
        namespace=namespace,
        labels=APP_LABEL,
        settings=FAST,
        resume=Checkpoint("1", {}),
    )
    assert not resumed.synced.is_set()
    seen: list[tuple[str, bool]] = []
    async with asyncio.timeout(20), contextlib.aclosing(resumed.events()) as events:
        async for event in events:
            seen.append((event.key.name, resumed.synced.is_set()))
            if len(seen) == 2:
                await client.apply(gizmo(gizmo_kind, namespace, "c", v="1"), field_manager="t")
            if len(seen) == 3:
                break
    assert sorted(seen[:2]) == [("a", False), ("b", False)]  # taken while listing again
    assert seen[2] == ("c", True)  # from the WATCH that followed the LIST
    assert (resumed.stats.expired, resumed.stats.lists) == (1, 1)
