"""`gitward app ...` as people run it: a real `python -m gitward` against a real server.

The server runs in the test's event loop, so the CLI runs as an asyncio subprocess:
a blocking ``subprocess.run`` would stop the server from answering it.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from gitward.kube.client import KubeClient
from tests.engine.conftest import GitRepo
from tests.serve.conftest import Running, Serve, application
from tests.serve.test_controller import configmap, synced, value, wait_value, web

pytestmark = pytest.mark.cluster


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return orjson.loads(self.out)


async def gitward(*args: str, env: dict[str, str], timeout: float = 120.0) -> Result:
    """Run ``python -m gitward ARGS`` without blocking the event loop the server runs in."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-W",
        "error",
        "-m",
        "gitward",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout)
    assert process.returncode is not None
    result = Result(process.returncode, out.decode(), err.decode())
    assert "Traceback" not in result.err, result.err
    return result


def cli_env(server: str, token_file: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITWARD_", "FORCE_COLOR"))}
    env |= {
        "GITWARD_SERVER": server,
        "GITWARD_TOKEN_FILE": str(token_file),
        "COLUMNS": "250",  # wide tables: no wrapped names to confuse the assertions
        "NO_COLOR": "1",
    }
    return env | extra


def env_for(running: Running, **extra: str) -> dict[str, str]:
    assert running.service.token_path is not None
    return cli_env(running.base, running.service.token_path, **extra)


async def test_list_and_get_show_a_synced_app_as_tables_and_json(
    serve: Serve, repo: GitRepo, namespace: str
) -> None:
    repo.write({"app/cm.yaml": configmap("settings", "v1")})
    sha = repo.commit()
    running = await serve({"app.yaml": application(web(namespace), repo, "app", namespace)})
    await running.wait_app(web(namespace), synced)
    env = env_for(running)

    listing = await gitward("app", "list", env=env)
    assert listing.code == 0, listing.err
    row = next(line for line in listing.out.splitlines() if web(namespace) in line)
    for cell in ("Synced", "Healthy", sha[:7], "Succeeded"):
        assert cell in row
    assert sha[:8] not in row  # short shas

    as_json = await gitward("app", "list", "-o", "json", env=env)
    assert [a["name"] for a in as_json.json()] == [web(namespace)]
    as_yaml = await gitward("app", "list", "-o", "yaml", env=env)
    assert yaml.safe_load(as_yaml.out)[0]["revision"]["live"] == sha

    details = await gitward("app", "get", web(namespace), env=env)
    assert details.code == 0, details.err
    assert str(repo.path) in details.out
    assert namespace in details.out
    assert "automated (prune, self-heal)" in details.out
    assert f"ConfigMap {namespace}/settings" in details.out
    assert "created" in details.out

    got = await gitward("app", "get", web(namespace), "-o", "json", env=env)
    assert got.json() == await running.app(web(namespace))


async def test_sync_wait_prints_the_new_operation_and_history_lists_it(
    serve: Serve, repo: GitRepo, cluster: KubeClient, namespace: str
) -> None:
    repo.write({"app/cm.yaml": configmap("settings", "v1")})
    sha = repo.commit()
    spec = application(web(namespace), repo, "app", namespace, automated=False)
    running = await serve({"app.yaml": spec})
    await running.wait_app(web(namespace), lambda a: a["revision"]["wanted"] == sha)
    env = env_for(running)

    synced_now = await gitward("app", "sync", web(namespace), "--wait", "--timeout", "60", env=env)

    assert synced_now.code == 0, synced_now.err
    assert "Succeeded" in synced_now.out
    assert "manual by admin" in synced_now.out
    assert "settings" in synced_now.out
    assert "created" in synced_now.out
    assert await value(cluster, namespace) == "v1"

    again = await gitward(
        "app", "sync", web(namespace), "--wait", "-o", "json", "--timeout", "60", env=env
    )
    assert again.code == 0, again.err
    assert again.json()["result"] == "Succeeded"

    history = await gitward("app", "history", web(namespace), env=env)
    assert history.code == 0, history.err
    rows = [line for line in history.out.splitlines() if "manual" in line]
    assert len(rows) == 2
    assert all("admin" in row and sha[:7] in row and "Succeeded" in row for row in rows)
    latest = await gitward("app", "history", web(namespace), "--limit", "1", "-o", "json", env=env)
    assert [r["id"] for r in latest.json()] == [again.json()["id"]]


async def test_sync_wait_exits_1_when_the_sync_fails(
    serve: Serve, repo: GitRepo, namespace: str
) -> None:
    # Valid YAML the API server refuses: the sync runs, and fails on this object.
    repo.write({"app/cm.yaml": configmap("Not_A_Valid_Name", "v1")})
    repo.commit()
    spec = application(web(namespace), repo, "app", namespace, automated=False)
    running = await serve({"app.yaml": spec})
    await running.wait_app(web(namespace), lambda a: a["syncState"] == "OutOfSync")

    failed = await gitward(
        "app", "sync", web(namespace), "--wait", "--timeout", "60", env=env_for(running)
    )

    assert failed.code == 1, (failed.out, failed.err)
    assert "operation #1: Failed" in failed.out
    assert "Not_A_Valid_Name" in failed.out
    assert "failed" in failed.out  # the object's outcome


async def test_suspend_and_resume(serve: Serve, repo: GitRepo, namespace: str) -> None:
    repo.write({"app/cm.yaml": configmap("settings", "v1")})
    repo.commit()
    running = await serve({"app.yaml": application(web(namespace), repo, "app", namespace)})
    await running.wait_app(web(namespace), synced)
    env = env_for(running)

    suspended = await gitward("app", "suspend", web(namespace), env=env)
    assert suspended.code == 0, suspended.err
    assert suspended.out.strip() == f"suspend of {web(namespace)} accepted"
    assert (await running.app(web(namespace)))["suspended"] is True
    listing = await gitward("app", "list", env=env)
    row = next(line for line in listing.out.splitlines() if web(namespace) in line)
    assert "yes" in row

    refused = await gitward("app", "sync", web(namespace), "--wait", env=env)
    assert refused.code == 2
    assert "is suspended" in refused.err
    assert f"gitward app resume {web(namespace)}" in refused.err

    resumed = await gitward("app", "resume", web(namespace), "-o", "json", env=env)
    assert resumed.json() == {"app": web(namespace), "action": "resume", "accepted": True}
    assert (await running.app(web(namespace)))["suspended"] is False


async def test_rollback_dry_run_then_pin_survives_a_push_until_unpinned(
    serve: Serve, repo: GitRepo, cluster: KubeClient, namespace: str
) -> None:
    repo.write({"app/cm.yaml": configmap("settings", "v1")})
    first = repo.commit("v1")
    running = await serve({"app.yaml": application(web(namespace), repo, "app", namespace)})
    good = (await running.wait_app(web(namespace), synced))["lastOperation"]["id"]
    repo.write({"app/cm.yaml": configmap("settings", "v2-broken")})
    repo.commit("v2")
    await running.push(repo)
    await wait_value(cluster, namespace, "v2-broken")
    env = env_for(running)

    preview = await gitward(
        "app", "rollback", web(namespace), "--to", str(good), "--dry-run", env=env
    )
    assert preview.code == 0, preview.err
    assert "v2-broken" in preview.out
    assert "settings" in preview.out
    assert "nothing was changed" in preview.err
    assert first in preview.err
    colored = await gitward(
        "app",
        "rollback",
        web(namespace),
        "--to",
        str(good),
        "--dry-run",
        env=env_for(running, FORCE_COLOR="1", NO_COLOR=""),
    )
    assert "\x1b[32m+" in colored.out  # added lines green, like `gitward diff`
    assert "\x1b[31m-" in colored.out  # removed lines red
    assert await value(cluster, namespace) == "v2-broken"
    assert (await running.app(web(namespace)))["pinned"] is None

    pinned = await gitward("app", "rollback", web(namespace), "--to", first, env=env)
    assert pinned.code == 0, pinned.err
    assert pinned.out.strip() == (
        f"{web(namespace)}: pinned to {first}; release with `gitward app unpin {web(namespace)}`"
    )
    await wait_value(cluster, namespace, "v1")
    details = await gitward("app", "get", web(namespace), env=env)
    assert f"pinned       {first} by admin" in details.out

    repo.write({"app/cm.yaml": configmap("settings", "v3")})
    latest = repo.commit("v3")
    await running.push(repo)
    await running.settled(web(namespace))
    assert await value(cluster, namespace) == "v1"  # the pin holds against new commits
    listing = await gitward("app", "list", "-o", "json", env=env)
    assert listing.json()[0]["pinned"]["sha"] == first

    released = await gitward("app", "unpin", web(namespace), env=env)
    assert released.code == 0, released.err
    assert released.out.strip() == f"unpin of {web(namespace)} accepted"
    await wait_value(cluster, namespace, "v3")
    app = await running.wait_app(web(namespace), lambda a: a["revision"]["live"] == latest)
    assert app["pinned"] is None


async def test_a_wrong_token_exits_2_with_a_hint_and_never_prints_a_token(
    serve: Serve, repo: GitRepo, namespace: str, tmp_path: Path
) -> None:
    repo.write({"app/cm.yaml": configmap("settings", "v1")})
    repo.commit()
    running = await serve({"app.yaml": application(web(namespace), repo, "app", namespace)})
    wrong = tmp_path / "wrong-token"
    wrong.write_text("not-the-token-s3cr3t\n")

    result = await gitward("app", "list", env=cli_env(running.base, wrong))

    assert result.code == 2
    assert result.err.startswith("error:")
    assert "401" in result.err
    assert f"hint: check --token-file ({wrong})" in result.err
    output = result.out + result.err
    assert "not-the-token-s3cr3t" not in output
    assert running.token not in output


async def test_an_unknown_app_exits_2_with_the_server_message(
    serve: Serve, repo: GitRepo, namespace: str
) -> None:
    repo.write({"app/cm.yaml": configmap("settings", "v1")})
    repo.commit()
    running = await serve({"app.yaml": application(web(namespace), repo, "app", namespace)})

    result = await gitward("app", "get", "nope", env=env_for(running))

    assert result.code == 2
    assert "no application named 'nope'" in result.err
    assert "gitward app list" in result.err
    refused = await gitward(
        "app", "rollback", web(namespace), "--to", "424242", env=env_for(running)
    )
    assert refused.code == 2
    assert f"400: {web(namespace)} has no sync with id 424242\n" in refused.err
    assert f"hint: see `gitward app history {web(namespace)}`" in refused.err


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_no_server_exits_2_with_a_hint(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("some-token\n")
    server = f"http://127.0.0.1:{_closed_port()}"

    result = await gitward("app", "list", env=cli_env(server, token))

    assert result.code == 2
    assert result.err.startswith(f"error: cannot reach {server}")
    assert f"is `gitward serve` running at {server}?" in result.err
    assert "some-token" not in result.out + result.err
