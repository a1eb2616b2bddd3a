"""``POST .../sync`` with a body: prune, force and a subset of objects for one run.

Against a real ``gitward serve``, the dev cluster and a real Git repository. The app is
automated (prune on, self-heal off) with a poll of an hour, so every sync here is the
one the test asked for, and what the cluster holds afterwards is that sync's doing.
"""

from __future__ import annotations

from typing import Any

import pytest
from tests.engine.conftest import GitRepo
from tests.serve.conftest import Running, Serve, application
from tests.serve.test_controller import configmap, edit_by_hand, synced, value, web
from tests.support.waiting import eventually

from gitward.kube.client import KubeClient
from gitward.model import ResourceKey

pytestmark = pytest.mark.cluster


def objects(namespace: str, version: str, *names: str) -> dict[str, str]:
    return {f"app/{n}.yaml": configmap(n, version) for n in names}


async def sync_with(running: Running, app: str, body: Any, after: int) -> dict[str, Any]:
    """POST the sync; the finished history record of that sync (newer than ``after``)."""
    status, answer = await running.api("POST", f"/api/v1/applications/{app}/sync", body)
    assert status == 202, answer

    async def newest() -> dict[str, Any]:
        _, history = await running.api("GET", f"/api/v1/applications/{app}/history")
        return dict(history["items"][0])

    return await eventually(
        newest,
        lambda r: r["id"] > after and r["result"] != "Running",
        what=f"a finished sync of {app} after #{after}",
        timeout=90,
    )


async def test_sync_options_apply_to_that_run_only_and_are_recorded(
    serve: Serve, repo: GitRepo, cluster: KubeClient, namespace: str
) -> None:
    name = web(namespace)
    repo.write(objects(namespace, "v1", "settings", "other", "extra"))
    repo.commit()
    declared = application(name, repo, "app", namespace, self_heal=False, prune=True)
    running = await serve({"app.yaml": declared})
    await running.wait_app(name, synced)
    path = f"/api/v1/applications/{name}/sync"

    # Bad bodies: 400 naming what is wrong, nothing queued, nothing recorded.
    nope = f"ConfigMap {namespace}/nope"
    for body, named in [
        ({"resources": [nope]}, nope),
        ({"prune": "no"}, "'prune'"),
        ({"resources": ["just-a-name"]}, "just-a-name"),
        ({"bogus": True}, "'bogus'"),
    ]:
        status, answer = await running.api("POST", path, body)
        assert status == 400, (body, answer)
        assert named in answer["error"], answer
    status, _ = await running.api("POST", path, {"prune": False}, token="wrong")
    assert status == 401
    _, history = await running.api("GET", f"/api/v1/applications/{name}/history")
    assert not running.controller.queue.pending(name)
    assert len(history["items"]) == 1  # the first sync, automated

    # Prune off: Git drops "extra"; the sync applies the rest and leaves it in place.
    repo.remove("app/extra.yaml")
    repo.write(objects(namespace, "v2", "settings", "other"))
    repo.commit()
    record = await sync_with(running, name, {"prune": False}, history["items"][0]["id"])
    assert (record["result"], record["options"]) == ("Succeeded", {"prune": False})
    assert (await value(cluster, namespace), await value(cluster, namespace, "extra")) == (
        "v2",
        "v1",
    )
    # ... and the app says what that sync left out instead of Synced.
    await running.wait_app(name, lambda a: a["syncState"] == "OutOfSync")

    # A subset: only "settings" takes the new commit; "other" and "extra" stay.
    repo.write(objects(namespace, "v3", "settings", "other"))
    repo.commit()
    settings = f"ConfigMap {namespace}/settings"
    record = await sync_with(running, name, {"resources": [settings]}, record["id"])
    assert record["options"] == {"resources": [settings]}
    assert [o["object"] for o in record["objects"]] == [settings]
    assert await value(cluster, namespace) == "v3"
    assert await value(cluster, namespace, "other") == "v2"
    assert await value(cluster, namespace, "extra") == "v1"

    # Force off: a field a person took stays theirs and the sync says so; force takes it.
    await edit_by_hand(cluster, namespace)
    body = {"force": False, "resources": [settings]}
    record = await sync_with(running, name, body, record["id"])
    assert record["result"] == "Failed", record
    assert "conflict" in record["message"].lower(), record
    assert await value(cluster, namespace) == "by-hand"
    body = {"force": True, "resources": [settings]}
    record = await sync_with(running, name, body, record["id"])
    assert (record["result"], record["options"]) == ("Succeeded", body)
    assert await value(cluster, namespace) == "v3"

    # A plain sync afterwards has the policy back: prune on, every object.
    record = await sync_with(running, name, None, record["id"])
    assert (record["result"], record["options"]) == ("Succeeded", {})
    assert await value(cluster, namespace, "other") == "v3"
    gone = ResourceKey("", "ConfigMap", namespace, "extra")
    await eventually(lambda: cluster.get(gone), lambda v: v is None, what="extra pruned")
    await running.wait_app(name, synced)
