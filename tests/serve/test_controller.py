"""``gitward serve`` as a platform team runs it: real cluster, real Git, real HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from gitward.kube.client import KubeClient
from gitward.model import ResourceKey
from gitward.model.history import Trigger
from tests.engine.conftest import GitRepo
from tests.serve.conftest import Serve, application
from tests.support.waiting import eventually

pytestmark = pytest.mark.cluster


def configmap(name: str, value: str, extra: str = "") -> str:
    return (
        f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\n"
        f"data: {{value: '{value}'}}\n{extra}"
    )


def web(namespace: str) -> str:
    """App names unique per test: the cluster, and its watch events, are shared."""
    return f"web-{namespace}"


def db(namespace: str) -> str:
    return f"db-{namespace}"


async def edit_by_hand(cluster: KubeClient, namespace: str) -> None:
    """What `kubectl edit` does to the settings: another field manager takes the value."""
    body = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "data": {"value": "by-hand"},
        "metadata": {"name": "settings", "namespace": namespace},
    }
    await cluster.apply(body, field_manager="kubectl-edit", force=True)


def synced(app: dict[str, Any]) -> bool:
    return bool(app["syncState"] == "Synced" and app["health"]["status"] == "Healthy")


async def value(cluster: KubeClient, namespace: str, name: str = "settings") -> str | None:
    live = await cluster.get(ResourceKey("", "ConfigMap", namespace, name))
    return None if live is None else str(live["data"]["value"])


async def wait_value(
    cluster: KubeClient, namespace: str, expected: str, timeout: float = 60.0
) -> None:
    await eventually(
        lambda: value(cluster, namespace),
        lambda v: v == expected,
        what=f"ConfigMap settings in {namespace} to hold {expected!r}",
        timeout=timeout,
    )


@pytest.mark.parametrize("db", ["sqlite", "postgresql"])
async def test_a_declared_app_is_synced_and_the_api_reports_it(
    serve: Serve, repo: GitRepo, cluster: KubeClient, namespace: str, db: str
) -> None:
    repo.write({"app/cm.yaml": configmap("settings", "v1")})
    sha = repo.commit()
    running = await serve({"app.yaml": application(web(namespace), repo, "app", namespace)}, db=db)

    app = await running.wait_app(web(namespace), synced)

    assert app["revision"]["live"] == sha
    assert app["lastOperation"]["result"] == "Succeeded"
    assert app["lastOperation"]["objects"][0]["name"] == "settings"
    assert await value(cluster, namespace) == "v1"
    status, listing = await running.api("GET", "/api/v1/applications")
    assert status == 200
    assert [a["name"] for a in listing["items"]] == [web(namespace)]
    assert (await running.api("GET", "/api/v1/applications", token="wrong"))[0] == 401
    assert (await running.api("GET", "/api/v1/applications/nope"))[0] == 404


async def test_a_push_webhook_applies_the_commit(
    serve: Serve, repo: GitRepo, cluster: KubeClient, namespace: str
) -> None:
    repo.write({"app/cm.yaml": configmap("settings", "v1")})
    repo.commit()
    running = await serve({"app.yaml": application(web(namespace), repo, "app", namespace)})
    await running.wait_app(web(namespace), synced)

    repo.write({"app/cm.yaml": configmap("settings", "v2")})
    sha = repo.commit("v2")
    status, pushed = await running.push(repo)

    assert status == 200
    assert pushed["apps"] == [web(namespace)]
    await wait_value(cluster, namespace, "v2")
    app = await running.wait_app(web(namespace), lambda a: a["revision"]["live"] == sha)
    assert app["lastOperation"]["trigger"] == "webhook"


async def test_a_health_refresh_never_syncs_a_commit_no_push_announced(
    serve: Serve, repo: GitRepo, cluster: KubeClient, namespace: str
) -> None:
    """The cause of a `selfheal` sync seen after a webhook on a loaded machine.

    gitward's own write of the first sync comes back as a watch event while the app is
    not yet Healthy, which queues a health refresh. On a busy machine that refresh ran
    after the next commit was made and before its webhook: it resolved the branch, found
    it out of sync, and synced the new commit recorded as `selfheal`; the webhook then
    found nothing to do. Here the refresh is queued after the commit on purpose.
    """
    repo.write({"app/cm.yaml": configmap("settings", "v1")})
    repo.commit()
    running = await serve({"app.yaml": application(web(namespace), repo, "app", namespace)})
    first = await running.wait_app(web(namespace), synced)
    repo.write({"app/cm.yaml": configmap("settings", "v2")})
    sha = repo.commit("v2")

    running.controller.trigger(web(namespace), Trigger.HEALTH, "gitward")
    looked = await running.wait_app(web(namespace), lambda a: a["updatedAt"] != first["updatedAt"])

    assert looked["lastOperation"]["id"] == first["lastOperation"]["id"]  # no sync
    assert await value(cluster, namespace) == "v1"
    status, _ = await running.push(repo)
    assert status == 200
    app = await running.wait_app(web(namespace), lambda a: a["revision"]["live"] == sha)
    assert app["lastOperation"]["trigger"] == "webhook"
    assert await value(cluster, namespace) == "v2"


async def test_an_unsigned_or_wrongly_signed_webhook_is_refused_and_changes_nothing(
    serve: Serve, repo: GitRepo, cluster: KubeClient, namespace: str
) -> None:
    # A manually synced app: only a verified push makes it look at Git again.
    repo.write({"app/cm.yaml": configmap("settings", "v1")})
    first = repo.commit()
    spec = application(web(namespace), repo, "app", namespace, automated=False)
    running = await serve({"app.yaml": spec})
    await running.wait_app(web(namespace), lambda a: a["revision"]["wanted"] == first)
    repo.write({"app/cm.yaml": configmap("settings", "v2")})
    second = repo.commit("v2")

    status, body = await running.push(repo, secret=b"not-the-secret")

    assert status == 401
    assert "signature" in body["error"].lower()
    app = await running.settled(web(namespace))  # a refused push queues nothing
    assert app["revision"]["wanted"] == first
    audit = await running.service.store.list_audit(limit=5)
    assert audit[0].action == "webhook"
    assert audit[0].outcome.value == "denied"

    status, _ = await running.push(repo)  # the same push, signed right
    assert status == 200
    app = await running.wait_app(web(namespace), lambda a: a["revision"]["wanted"] == second)
    assert app["syncState"] == "OutOfSync"  # seen, not applied: the app is not automated
    assert await value(cluster, namespace) is None


async def test_drift_is_reverted_with_self_heal(
    serve: Serve, repo: GitRepo, cluster: KubeClient, namespace: str
) -> None:
    repo.write({"app/cm.yaml": configmap("settings", "from-git")})
    repo.commit()
    running = await serve({"app.yaml": application(web(namespace), repo, "app", namespace)})
    await running.wait_app(web(namespace), synced)

    await edit_by_hand(cluster, namespace)

    await wait_value(cluster, namespace, "from-git")  # how fast: benchmarks/controller_bench.py
    # The value is back before the sync is recorded: wait for the record itself.
    app = await running.wait_app(
        web(namespace), lambda a: a["lastOperation"]["trigger"] == "selfheal" and synced(a)
    )
    assert app["lastOperation"]["result"] == "Succeeded"


async def test_drift_without_self_heal_is_recorded_not_reverted(
    serve: Serve, repo: GitRepo, cluster: KubeClient, namespace: str
) -> None:
    repo.write({"app/cm.yaml": configmap("settings", "from-git")})
    repo.commit()
    spec = application(web(namespace), repo, "app", namespace, self_heal=False)
    running = await serve({"app.yaml": spec})
    await running.wait_app(web(namespace), synced)

    await edit_by_hand(cluster, namespace)

    app = await running.wait_app(web(namespace), lambda a: a["syncState"] == "OutOfSync")
    assert "settings" in app["conditions"][0]["message"]
    await running.settled(web(namespace))  # the reconcile that saw the drift is over
    assert await value(cluster, namespace) == "by-hand"
    status, history = await running.api("GET", f"/api/v1/applications/{web(namespace)}/history")
    assert status == 200
    assert len(history["items"]) == 1  # the first sync only: the drift was not synced


async def test_rollback_holds_with_automated_sync_until_unpinned(
    serve: Serve, repo: GitRepo, cluster: KubeClient, namespace: str
) -> None:
    repo.write({"app/cm.yaml": configmap("settings", "v1")})
    first = repo.commit("v1")
    running = await serve({"app.yaml": application(web(namespace), repo, "app", namespace)})
    app = await running.wait_app(web(namespace), synced)
    good_sync = app["lastOperation"]["id"]
    repo.write({"app/cm.yaml": configmap("settings", "v2-broken")})
    repo.commit("v2")
    await running.push(repo)
    await wait_value(cluster, namespace, "v2-broken")

    status, preview = await running.api(
        "POST",
        f"/api/v1/applications/{web(namespace)}/rollback",
        {"to": str(good_sync), "dryRun": True},
    )
    assert status == 200
    assert preview["sha"] == first
    assert "v2-broken" in preview["diff"]
    assert await value(cluster, namespace) == "v2-broken"  # a dry run changes nothing

    status, _ = await running.api(
        "POST", f"/api/v1/applications/{web(namespace)}/rollback", {"to": str(good_sync)}
    )
    assert status == 202
    await wait_value(cluster, namespace, "v1")
    pinned = await running.wait_app(web(namespace), lambda a: a["pinned"] is not None)
    assert pinned["pinned"]["sha"] == first

    repo.write({"app/cm.yaml": configmap("settings", "v3")})
    latest = repo.commit("v3")
    await running.push(repo)
    await running.settled(web(namespace))
    assert await value(cluster, namespace) == "v1"  # the pin holds against new commits

    assert (await running.api("POST", f"/api/v1/applications/{web(namespace)}/unpin"))[0] == 202
    await wait_value(cluster, namespace, "v3")
    app = await running.wait_app(web(namespace), lambda a: a["revision"]["live"] == latest)
    assert app["pinned"] is None


UNSCHEDULABLE = """apiVersion: apps/v1
kind: Deployment
metadata: {name: db}
spec:
  replicas: 1
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      nodeSelector: {disk: ssd}
      containers: [{name: db, image: postgres:17}]
"""


async def test_depends_on_waits_for_a_healthy_dependency(
    serve: Serve, repo: GitRepo, cluster: KubeClient, namespace: str
) -> None:
    repo.write({"db/deploy.yaml": UNSCHEDULABLE, "web/cm.yaml": configmap("settings", "v1")})
    repo.commit()
    running = await serve(
        {
            "db.yaml": application(db(namespace), repo, "db", namespace),
            "web.yaml": application(
                web(namespace), repo, "web", namespace, depends_on=(db(namespace),)
            ),
        }
    )

    waiting = await running.wait_app(
        web(namespace),
        lambda a: bool(a["conditions"]) and a["conditions"][0]["type"] == "WaitingForDependency",
    )
    assert f"waiting for {db(namespace)}" in waiting["conditions"][0]["message"]
    assert await value(cluster, namespace) is None

    repo.write(
        {"db/deploy.yaml": UNSCHEDULABLE.replace("nodeSelector: {disk: ssd}", "nodeSelector: {}")}
    )
    repo.commit("schedule anywhere")
    await running.push(repo)
    await running.wait_app(db(namespace), synced)
    await running.wait_app(web(namespace), synced)
    assert await value(cluster, namespace) == "v1"


async def test_a_suspended_app_is_left_alone_until_resumed(
    serve: Serve, repo: GitRepo, cluster: KubeClient, namespace: str
) -> None:
    repo.write({"app/cm.yaml": configmap("settings", "v1")})
    repo.commit()
    running = await serve({"app.yaml": application(web(namespace), repo, "app", namespace)})
    await running.wait_app(web(namespace), synced)

    assert (await running.api("POST", f"/api/v1/applications/{web(namespace)}/suspend"))[0] == 202
    repo.write({"app/cm.yaml": configmap("settings", "v2")})
    repo.commit("v2")
    await running.push(repo)
    app = await running.settled(web(namespace))
    assert app["suspended"] is True
    assert await value(cluster, namespace) == "v1"

    assert (await running.api("POST", f"/api/v1/applications/{web(namespace)}/resume"))[0] == 202
    await wait_value(cluster, namespace, "v2")
    audit = [e.action for e in await running.service.store.list_audit(limit=10)]
    assert "suspend" in audit
    assert "resume" in audit


async def test_a_rollback_until_a_new_commit_is_released_by_the_fix(
    serve: Serve, repo: GitRepo, cluster: KubeClient, namespace: str
) -> None:
    repo.write({"app/cm.yaml": configmap("settings", "v1")})
    good = repo.commit("v1")
    running = await serve({"app.yaml": application(web(namespace), repo, "app", namespace)})
    await running.wait_app(web(namespace), synced)
    repo.write({"app/cm.yaml": configmap("settings", "v2-broken")})
    repo.commit("v2")
    await running.push(repo)
    await wait_value(cluster, namespace, "v2-broken")

    status, _ = await running.api(
        "POST",
        f"/api/v1/applications/{web(namespace)}/rollback",
        {"to": good, "untilNewCommit": True},
    )
    assert status == 202
    await wait_value(cluster, namespace, "v1")
    app = await running.app(web(namespace))
    assert app["pinned"]["sha"] == good
    assert app["pinned"]["releasedByCommitAfter"] is not None
    await running.push(repo)  # the same head again: the pin holds
    await running.settled(web(namespace))
    assert await value(cluster, namespace) == "v1"

    repo.write({"app/cm.yaml": configmap("settings", "v3-fixed")})
    fixed = repo.commit("v3: the fix")
    await running.push(repo)

    await wait_value(cluster, namespace, "v3-fixed")
    app = await running.wait_app(web(namespace), lambda a: a["revision"]["live"] == fixed)
    assert app["pinned"] is None
    audit = await running.service.store.list_audit(limit=10, app=web(namespace))
    assert any(e.action == "unpin" and e.actor == "gitward" for e in audit)
