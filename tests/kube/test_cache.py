"""The live cache against the real control plane: listing, events, the app index, close().

Objects are tracked cluster-wide as in production, so every test names its app after its
own namespace and reads by app.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gitward.devcluster import ClusterState
from gitward.errors import KubeError
from gitward.kube.cache import LiveCache
from gitward.kube.client import KubeClient
from gitward.kube.watch import EventType, WatchSettings
from gitward.model import GroupKind, JsonObject, ResourceKey
from gitward.model.annotations import APP_LABEL
from tests.kube.test_watch import (
    Proxy,
    api_port,
    configmap,
    free_port,
    key,
    kubeconfig_via,
    until,
)

pytestmark = pytest.mark.cluster

CONFIGMAP = GroupKind("", "ConfigMap")
SECRET = GroupKind("", "Secret")
FAST = WatchSettings(timeout_seconds=30, backoff_initial=0.05, backoff_max=0.4)

Seen = asyncio.Queue[tuple[str, JsonObject]]


@pytest.fixture
async def client(control_plane: ClusterState) -> AsyncIterator[KubeClient]:
    async with KubeClient.from_kubeconfig(control_plane.kubeconfig) as kube:
        yield kube


@pytest.fixture
async def cache(client: KubeClient) -> AsyncIterator[LiveCache]:
    async with LiveCache(client, settings=FAST) as live:
        yield live


def subscribe(cache: LiveCache, namespace: str) -> Seen:
    """Events about objects in ``namespace``, as a queue."""
    seen: Seen = asyncio.Queue()

    async def on_event(kind: str, obj: JsonObject) -> None:
        if obj["metadata"].get("namespace") == namespace:
            seen.put_nowait((kind, obj))

    cache.subscribe(on_event)
    return seen


async def next_event(seen: Seen, timeout: float = 60.0) -> tuple[str, str]:
    kind, obj = await asyncio.wait_for(seen.get(), timeout)
    return kind, obj["metadata"]["name"]


async def test_the_first_list_fills_the_cache_with_labelled_objects_only(
    client: KubeClient, cache: LiveCache, namespace: str
) -> None:
    app, other = f"{namespace}-a", f"{namespace}-b"
    await client.apply(configmap(namespace, "one", app=app, k="v"), field_manager="gitward")
    await client.apply(configmap(namespace, "two", app=app), field_manager="gitward")
    await client.apply(configmap(namespace, "three", app=other), field_manager="gitward")
    await client.apply(configmap(namespace, "unlabelled", app=None), field_manager="gitward")
    extra = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "one", "namespace": namespace, "annotations": {"x": "y"}},
    }
    await client.apply(extra, field_manager="someone-else")

    await cache.track(CONFIGMAP)
    assert not cache.synced(SECRET)
    await cache.wait_synced(CONFIGMAP, timeout=60)
    assert cache.synced(CONFIGMAP)

    assert sorted(o["metadata"]["name"] for o in cache.objects(app)) == ["one", "two"]
    assert [o["metadata"]["name"] for o in cache.objects(other)] == ["three"]
    assert cache.get(key(namespace, "unlabelled")) is None
    one = cache.get(key(namespace, "one"))
    assert one is not None
    assert one["data"] == {"k": "v"}
    # Other managers' entries are stripped to save memory; gitward's own is kept for
    # planning (it tells whether someone took a field from gitward).
    assert [e["manager"] for e in one["metadata"]["managedFields"]] == ["gitward"]
    assert one["metadata"]["resourceVersion"]
    assert one["metadata"]["labels"] == {APP_LABEL: app}
    assert cache.stats()[CONFIGMAP].lists == 1


async def test_changes_reach_subscribers_and_the_index(
    client: KubeClient, cache: LiveCache, namespace: str
) -> None:
    app, other = f"{namespace}-a", f"{namespace}-b"
    seen = subscribe(cache, namespace)
    await cache.track(CONFIGMAP)
    await cache.wait_synced(timeout=60)

    await client.apply(configmap(namespace, "cm", app=app, v="1"), field_manager="gitward")
    assert await next_event(seen) == (EventType.ADDED, "cm")

    await client.apply(configmap(namespace, "cm", app=app, v="2"), field_manager="gitward")
    kind, obj = await asyncio.wait_for(seen.get(), 60)
    assert kind == EventType.MODIFIED
    assert obj["metadata"]["managedFields"], "subscribers get the object as sent"
    stored = cache.get(key(namespace, "cm"))
    assert stored is not None
    assert stored["data"] == {"v": "2"}

    await client.apply(configmap(namespace, "cm", app=other, v="2"), field_manager="gitward")
    assert await next_event(seen) == (EventType.MODIFIED, "cm")
    assert cache.objects(app) == []
    assert [o["metadata"]["name"] for o in cache.objects(other)] == ["cm"]

    await client.delete(key(namespace, "cm"))
    assert await next_event(seen) == (EventType.DELETED, "cm")
    assert cache.get(key(namespace, "cm")) is None
    assert cache.objects(other) == []
    assert cache.stats()[CONFIGMAP].lists == 1


async def test_an_object_that_loses_its_label_leaves_the_cache(
    client: KubeClient, cache: LiveCache, namespace: str
) -> None:
    seen = subscribe(cache, namespace)
    await cache.track(CONFIGMAP)
    await cache.wait_synced(timeout=60)
    await client.apply(configmap(namespace, "cm", app=namespace), field_manager="gitward")
    assert await next_event(seen) == (EventType.ADDED, "cm")
    await client.apply(configmap(namespace, "cm", app=None), field_manager="gitward")
    assert await next_event(seen) == (EventType.DELETED, "cm")
    assert cache.get(key(namespace, "cm")) is None


async def test_a_failing_subscriber_does_not_stop_the_others(
    client: KubeClient, cache: LiveCache, namespace: str
) -> None:
    async def broken(kind: str, obj: JsonObject) -> None:
        raise RuntimeError("bug in a subscriber")

    unsubscribe = cache.subscribe(broken)
    seen = subscribe(cache, namespace)
    await cache.track(CONFIGMAP)
    await cache.wait_synced(timeout=60)
    await client.apply(configmap(namespace, "cm", app=namespace), field_manager="gitward")
    assert await next_event(seen) == (EventType.ADDED, "cm")
    unsubscribe()
    unsubscribe()  # twice is harmless


async def test_a_kind_is_tracked_once(cache: LiveCache) -> None:
    watcher = await cache.track(CONFIGMAP)
    assert await cache.track(CONFIGMAP) is watcher
    with pytest.raises(ValueError, match="already tracked"):
        await cache.track(CONFIGMAP, "team=x")
    with pytest.raises(ValueError, match="not tracked"):
        await cache.wait_synced(SECRET)


async def test_close_stops_every_watcher(client: KubeClient) -> None:
    cache = LiveCache(client, settings=FAST)
    watchers = [await cache.track(CONFIGMAP), await cache.track(SECRET)]
    await cache.wait_synced(timeout=60)
    await asyncio.wait_for(cache.close(), 60)
    assert cache.stats() == {}
    assert [w.stats.lists for w in watchers] == [1, 1]
    assert not [t for t in asyncio.all_tasks() if t.get_name().startswith("gitward watch")]


async def test_an_unreachable_cluster_times_out_waiting_and_says_why(
    control_plane: ClusterState, tmp_path: Path
) -> None:
    kubeconfig = kubeconfig_via(control_plane, free_port(), tmp_path)
    async with (
        KubeClient.from_kubeconfig(kubeconfig, timeout=2) as dead,
        LiveCache(dead, settings=FAST) as cache,
    ):
        await cache.track(CONFIGMAP)
        with pytest.raises(KubeError) as error:
            await cache.wait_synced(CONFIGMAP, timeout=0.5)
        assert error.value.transient
        assert "ConfigMap" in str(error.value)
        assert "ConnectError" in str(error.value)
        assert cache.get(ResourceKey("", "ConfigMap", "default", "x")) is None


async def test_a_watch_that_fails_unexpectedly_starts_over_instead_of_freezing(
    control_plane: ClusterState,
    client: KubeClient,
    namespace: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    proxy = Proxy(api_port(control_plane))
    await proxy.start()
    calls: list[float] = []

    async def sleep(seconds: float) -> None:
        calls.append(seconds)
        if len(calls) == 1:  # an error the watcher does not expect: a bug somewhere
            raise RuntimeError("injected: the first backoff sleep fails")
        await asyncio.sleep(seconds)

    kubeconfig = kubeconfig_via(control_plane, proxy.port, tmp_path)
    async with (
        KubeClient.from_kubeconfig(kubeconfig, timeout=5) as via_proxy,
        LiveCache(via_proxy, settings=FAST, sleep=sleep) as cache,
    ):
        await cache.track(CONFIGMAP)
        await cache.wait_synced(CONFIGMAP, timeout=20)
        await proxy.stop()  # the stream breaks; its retry hits the failing sleep
        await until(lambda: len(calls) >= 2, timeout=10)
        assert not cache.synced(CONFIGMAP), "planning must not trust a broken watch"
        await client.apply(configmap(namespace, "after", app=namespace), field_manager="t")
        await proxy.start()
        await until(lambda: cache.get(key(namespace, "after")) is not None, timeout=20)
        assert cache.synced(CONFIGMAP)
        await proxy.stop()
    assert cache.restarts == {CONFIGMAP: 1}
    assert "listing again" in caplog.text
