"""Edge cases of the HTTP API of `gitward serve`: auth, bad requests, health, metrics, hooks."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path
from typing import Any

import httpx2 as httpx
import orjson
import pytest

from tests.engine.conftest import GitRepo
from tests.serve.conftest import WEBHOOK_SECRET, Running, Serve, application
from tests.serve.test_controller import configmap, db, synced, web

pytestmark = pytest.mark.cluster


async def one_app(serve: Serve, repo: GitRepo, namespace: str) -> Running:
    """A server with one synced, automated app."""
    repo.write({"app/cm.yaml": configmap("settings", "v1")})
    repo.commit()
    running = await serve({"app.yaml": application(web(namespace), repo, "app", namespace)})
    await running.wait_app(web(namespace), synced)
    return running


async def raw(running: Running, method: str, path: str, **kwargs: Any) -> httpx.Response:
    async with httpx.AsyncClient(base_url=running.base, timeout=30) as client:
        return await client.request(method, path, **kwargs)


async def github(running: Running, event: str, payload: dict[str, Any]) -> httpx.Response:
    body = orjson.dumps(payload)
    signature = "sha256=" + hmac.new(WEBHOOK_SECRET, body, hashlib.sha256).hexdigest()
    headers = {
        "X-GitHub-Event": event,
        "X-Hub-Signature-256": signature,
        "Content-Type": "application/json",
    }
    return await raw(running, "POST", "/api/v1/webhooks/github", content=body, headers=headers)


async def test_no_or_a_wrong_token_gets_401_with_a_bearer_challenge(
    serve: Serve, repo: GitRepo, namespace: str
) -> None:
    running = await one_app(serve, repo, namespace)
    path = f"/api/v1/applications/{web(namespace)}"

    missing = await raw(running, "GET", path)
    wrong = await raw(running, "GET", path, headers={"Authorization": "Bearer wrong"})
    not_bearer = await raw(
        running, "GET", path, headers={"Authorization": f"Basic {running.token}"}
    )
    action = await raw(running, "POST", f"{path}/sync", headers={"Authorization": "Bearer x"})

    for response in (missing, wrong, not_bearer, action):
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert response.json()["error"]
        assert running.token not in response.text
    _, history = await running.api("GET", f"{path}/history")
    assert [r["actor"] for r in history["items"]] == ["gitward"]  # the refused sync never ran


async def test_an_unknown_app_is_404_on_every_route(
    serve: Serve, repo: GitRepo, namespace: str
) -> None:
    running = await one_app(serve, repo, namespace)

    for method, path, body in [
        ("GET", "/api/v1/applications/nope", None),
        ("GET", "/api/v1/applications/nope/history", None),
        *[("POST", f"/api/v1/applications/nope/{v}", None) for v in ("sync", "refresh")],
        *[("POST", f"/api/v1/applications/nope/{v}", None) for v in ("suspend", "unpin")],
        ("POST", "/api/v1/applications/nope/rollback", {"to": "main"}),
    ]:
        status, answer = await running.api(method, path, body)
        assert (status, answer) == (404, {"error": "no application named 'nope'"}), path


async def test_rollback_needs_a_json_body_saying_where_to(
    serve: Serve, repo: GitRepo, namespace: str
) -> None:
    running = await one_app(serve, repo, namespace)
    path = f"/api/v1/applications/{web(namespace)}/rollback"
    auth = {"Authorization": f"Bearer {running.token}"}

    without_to = await running.api("POST", path, {"dryRun": True})
    empty_to = await running.api("POST", path, {"to": ""})
    no_body = await running.api("POST", path)
    not_json = await raw(running, "POST", path, content=b"to=main", headers=auth)

    for status, answer in (without_to, empty_to, no_body):
        assert status == 400
        assert '"to"' in answer["error"]
    assert not_json.status_code == 400
    assert (await running.app(web(namespace)))["pinned"] is None


async def test_rollback_to_a_sync_of_another_app_is_refused(
    serve: Serve, repo: GitRepo, namespace: str
) -> None:
    repo.write({"web/cm.yaml": configmap("settings", "v1"), "db/cm.yaml": configmap("db", "v1")})
    repo.commit()
    running = await serve(
        {
            "web.yaml": application(web(namespace), repo, "web", namespace),
            "db.yaml": application(db(namespace), repo, "db", namespace),
        }
    )
    await running.wait_app(web(namespace), synced)
    other = (await running.wait_app(db(namespace), synced))["lastOperation"]["id"]
    path = f"/api/v1/applications/{web(namespace)}/rollback"

    for body in ({"to": str(other)}, {"to": str(other), "dryRun": True}, {"to": "424242"}):
        status, answer = await running.api("POST", path, body)
        assert status == 400, answer
        assert answer["error"].startswith(f"{web(namespace)} has no sync with id")
    assert (await running.app(web(namespace)))["pinned"] is None


async def test_a_refused_rollback_carries_its_hint_apart_from_the_message(
    serve: Serve, repo: GitRepo, namespace: str
) -> None:
    running = await one_app(serve, repo, namespace)

    status, answer = await running.api(
        "POST", f"/api/v1/applications/{web(namespace)}/rollback", {"to": "424242"}
    )

    assert status == 400
    assert answer == {
        "error": f"{web(namespace)} has no sync with id 424242",
        "hint": f"see `gitward app history {web(namespace)}`",
    }


async def test_history_is_newest_first_and_honours_the_limit(
    serve: Serve, repo: GitRepo, namespace: str
) -> None:
    running = await one_app(serve, repo, namespace)
    first = (await running.app(web(namespace)))["lastOperation"]["id"]
    assert (await running.api("POST", f"/api/v1/applications/{web(namespace)}/sync"))[0] == 202
    await running.wait_app(
        web(namespace),
        lambda a: a["lastOperation"]["id"] > first and a["lastOperation"]["result"] != "Running",
    )
    path = f"/api/v1/applications/{web(namespace)}/history"

    everything = (await running.api("GET", path))[1]["items"]
    one = (await running.api("GET", f"{path}?limit=1"))[1]["items"]
    clamped = (await running.api("GET", f"{path}?limit=0"))[1]["items"]

    assert [r["id"] for r in everything] == sorted((r["id"] for r in everything), reverse=True)
    assert (everything[0]["trigger"], everything[0]["actor"]) == ("manual", "admin")
    assert len(everything) == 2
    assert [r["id"] for r in one] == [everything[0]["id"]]
    assert len(clamped) == 1


async def test_a_limit_that_is_not_a_number_is_a_400(
    serve: Serve, repo: GitRepo, namespace: str
) -> None:
    running = await one_app(serve, repo, namespace)

    status, answer = await running.api(
        "GET", f"/api/v1/applications/{web(namespace)}/history?limit=ten"
    )

    assert status == 400
    assert "error" in answer


async def test_health_readiness_and_metrics_are_open_and_meaningful(
    serve: Serve, repo: GitRepo, namespace: str
) -> None:
    running = await one_app(serve, repo, namespace)

    healthz = await raw(running, "GET", "/healthz")
    readyz = await raw(running, "GET", "/readyz")
    metrics = await raw(running, "GET", "/metrics")

    assert (healthz.status_code, healthz.text) == (200, "ok")
    assert (readyz.status_code, readyz.text) == (200, "ok")
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    text = metrics.text
    app = web(namespace)
    assert f'gitward_syncs_total{{app="{app}",result="succeeded",trigger="refresh"}} 1.0' in text
    assert f'gitward_reconcile_duration_seconds_count{{app="{app}"}}' in text
    assert "gitward_queue_depth " in text
    assert 'gitward_kube_requests_total{cluster="default"' in text
    assert 'gitward_apps{health="Healthy",sync_state="Synced"} 1.0' in text
    assert running.token not in text


async def test_readyz_says_why_while_stopping(serve: Serve, repo: GitRepo, namespace: str) -> None:
    running = await one_app(serve, repo, namespace)
    running.service.ready_reason = "stopping"

    readyz = await raw(running, "GET", "/readyz")

    assert (readyz.status_code, readyz.text) == (503, "stopping")


async def test_webhook_edge_cases(
    serve: Serve, repo: GitRepo, namespace: str, tmp_path: Path
) -> None:
    running = await one_app(serve, repo, namespace)
    unrelated = GitRepo(tmp_path / "unrelated")
    unrelated.write({"x.yaml": configmap("x", "1")})
    after = unrelated.commit()

    unknown = await raw(running, "POST", "/api/v1/webhooks/svn", content=b"{}")
    push = await github(
        running,
        "push",
        {
            "ref": "refs/heads/main",
            "before": "0" * 40,
            "after": after,
            "repository": {"full_name": "test/unrelated", "clone_url": str(unrelated.path)},
            "commits": [],
        },
    )
    ping = await github(running, "ping", {"zen": "Keep it logically awesome.", "hook_id": 1})

    assert unknown.status_code == 404
    assert unknown.json() == {"error": "unknown webhook provider 'svn'"}
    assert push.status_code == 200
    assert push.json()["apps"] == []
    assert push.json()["config"] is False
    assert ping.status_code == 200
    assert "not a push event" in ping.json()["ignored"]


async def test_updated_at_is_reported_once_the_app_was_reconciled(
    serve: Serve, repo: GitRepo, namespace: str
) -> None:
    running = await one_app(serve, repo, namespace)

    app = await running.app(web(namespace))

    assert app["updatedAt"] is not None
