"""The store fails under gitward serve: PostgreSQL restarted, the SQLite disk full.

A sync is running (its first wave waits for a Deployment) when the database goes away;
the sync then finishes while the result cannot be written. What a user relies on:
serve keeps running and says what is wrong (``/readyz`` answers 503 with the store's
error; ``/healthz`` stays up), and once the database is back the sync's result is
recorded complete — never left Running, never half-written — and the app is synced.
"""

from __future__ import annotations

import asyncio
import errno
import os
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from lightkube import Client
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.apps_v1 import Deployment
from lightkube.resources.core_v1 import Namespace

from gitward.model import ResourceKey
from gitward.model.history import AppStatus, ObjectAction, SyncResult, SyncTrigger
from gitward.model.plan import Outcome
from gitward.ports import SystemClock
from gitward.store import Store
from gitward.store.errors import StoreError
from tests.engine.conftest import GitRepo
from tests.faults.conftest import Plane, ServeOn
from tests.serve.conftest import Running, application
from tests.serve.test_controller import synced
from tests.store.postgres import PostgresServer
from tests.support.waiting import eventually

MANUAL = SyncTrigger.MANUAL
NEVER_READY = """apiVersion: apps/v1
kind: Deployment
metadata: {name: db, annotations: {gitward.dev/sync-wave: "0"}}
spec:
  replicas: 1
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: db, image: postgres:17}]
"""
AFTER = """apiVersion: v1
kind: ConfigMap
metadata: {name: after, annotations: {gitward.dev/sync-wave: "1"}}
data: {value: "after"}
"""


def new_namespace(kube: Client) -> str:
    name = f"store-{secrets.token_hex(4)}"
    kube.create(Namespace(metadata=ObjectMeta(name=name)))
    return name


def make_available(kube: Client, namespace: str, name: str = "db") -> None:
    """What kube-controller-manager and a kubelet would report (this plane has neither)."""
    live = kube.get(Deployment, name, namespace=namespace)
    assert live.metadata is not None
    status = {
        "observedGeneration": live.metadata.generation,
        "replicas": 1,
        "updatedReplicas": 1,
        "readyReplicas": 1,
        "availableReplicas": 1,
    }
    kube.patch(Deployment.Status, name, {"status": status}, namespace=namespace)


async def get(running: Running, path: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=running.base, timeout=30) as client:
        return await client.get(path)


async def history(running: Running, app: str) -> list[dict[str, Any]]:
    status, body = await running.api("GET", f"/api/v1/applications/{app}/history")
    assert status == 200, body
    items: list[dict[str, Any]] = body["items"]
    return items


async def running_sync(running: Running, app: str) -> dict[str, Any]:
    items = await eventually(
        lambda: history(running, app),
        lambda h: bool(h) and h[0]["result"] == "Running",
        what="a sync waiting for its first wave",
        timeout=120,
    )
    return items[0]


async def recovered(running: Running, app: str, sync_id: int) -> None:
    """The app is synced and the sync that met the fault is recorded complete."""
    await running.wait_app(app, synced, timeout=180)
    items = await history(running, app)
    met_the_fault = next(i for i in items if i["id"] == sync_id)
    assert met_the_fault["result"] == "Succeeded", met_the_fault
    assert met_the_fault["finishedAt"] is not None
    assert {o["name"] for o in met_the_fault["objects"]} == {"db", "after"}
    assert all(i["result"] != "Running" for i in items), items
    ready = await eventually(
        lambda: get(running, "/readyz"), lambda r: r.status_code == 200, what="/readyz ok"
    )
    assert ready.text == "ok"


async def says_what_is_wrong(running: Running, words: str) -> None:
    ready = await eventually(
        lambda: get(running, "/readyz"),
        lambda r: r.status_code == 503 and words in r.text,
        what=f"/readyz to report the store's problem ({words!r})",
        timeout=120,
    )
    assert "store" in ready.text
    assert (await get(running, "/healthz")).status_code == 200  # the process is fine


async def test_postgresql_restarted_while_a_sync_finishes(
    shared_fault_plane: Plane, serve_on: ServeOn, repo: GitRepo
) -> None:
    server = PostgresServer()  # of this test alone: it is stopped under the test
    try:
        server.start()
        kube = shared_fault_plane.admin
        namespace = new_namespace(kube)
        repo.write({"app/db.yaml": NEVER_READY, "app/after.yaml": AFTER})
        repo.commit()
        name = f"pg-{namespace}"
        running = await serve_on(
            {"app.yaml": application(name, repo, "app", namespace)},
            kubeconfig=shared_fault_plane.kubeconfig,
            db_url=server.create_database(),
        )
        sync = await running_sync(running, name)

        await asyncio.to_thread(server.halt)
        await asyncio.to_thread(make_available, kube, namespace)  # the sync can finish now
        await says_what_is_wrong(running, "connect")

        await asyncio.to_thread(server.resume)
        await recovered(running, name, sync["id"])
    finally:
        server.stop()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 16 MB tmpfs for the state directory (mounted as root), unmounted afterwards."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def fill(disk: Path) -> Path:
    """Write a file until the disk has no byte left; returns it (delete it to free)."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (1 << 20, 1 << 16, 4096, 1):  # big writes first, then the last bytes
            while True:
                try:
                    os.write(fd, b"\0" * size)
                except OSError as e:
                    if e.errno != errno.ENOSPC:
                        raise
                    break
    finally:
        os.close(fd)
    return filler


async def test_a_result_that_could_not_be_written_is_written_when_the_disk_has_room(
    small_disk: Path,
) -> None:
    """The store on its own: the end of a sync meets a full disk, then the disk is freed."""
    store = await Store.open(f"sqlite:///{small_disk / 'gitward.db'}", SystemClock())
    try:
        sync_id = await store.start_sync("web", requested="main", sha="a" * 40, trigger=MANUAL)
        filler = fill(small_disk)
        actions = (ObjectAction(ResourceKey("", "ConfigMap", "ns", "cm"), Outcome.CREATED),)
        with pytest.raises(StoreError) as caught:
            await store.finish_sync(
                sync_id, SyncResult.SUCCEEDED, message="synced 1 objects", actions=actions
            )
        assert caught.value.transient
        assert "full" in store.problem
        assert store.unrecorded == 1
        assert (await store.get_sync(sync_id)) is not None  # reads still work

        filler.unlink()
        await store.put_status(AppStatus(app="web"))  # the next write, whatever it is
        record = await store.get_sync(sync_id)
        assert record is not None
        assert (record.result, record.message, record.actions) == (
            SyncResult.SUCCEEDED,
            "synced 1 objects",
            actions,
        )
        assert record.finished_at is not None
        assert (store.problem, store.unrecorded) == ("", 0)
    finally:
        await store.close()


async def test_sqlite_disk_full_while_a_sync_finishes(
    small_disk: Path, shared_fault_plane: Plane, serve_on: ServeOn, repo: GitRepo
) -> None:
    kube = shared_fault_plane.admin
    namespace = new_namespace(kube)
    repo.write({"app/db.yaml": NEVER_READY, "app/after.yaml": AFTER})
    repo.commit()
    name = f"full-{namespace}"
    running = await serve_on(
        {"app.yaml": application(name, repo, "app", namespace)},
        kubeconfig=shared_fault_plane.kubeconfig,
        state_dir=small_disk / "state",
    )
    sync = await running_sync(running, name)

    filler = await asyncio.to_thread(fill, small_disk)
    await asyncio.to_thread(make_available, kube, namespace)
    await says_what_is_wrong(running, "full")

    filler.unlink()
    await recovered(running, name, sync["id"])
