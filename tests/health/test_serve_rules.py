"""Health rules in the config repository: `gitward serve --health-rules health` reads
them at every config revision, like the Application documents beside them.

A real ``gitward serve`` process, the dev cluster, Git over the file protocol: a commit
that adds a rule changes an app's health without a restart; a broken rule file in the
same commit is named (file and line) by ``/readyz``, which stays ready, and the other
rule still applies; removing the rule brings the previous verdict back.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import orjson
import pytest

from gitward.devcluster import ClusterState
from tests.engine.conftest import GitRepo
from tests.serve.conftest import WEBHOOK_SECRET, application
from tests.support.serve_process import ServeProcess

pytestmark = pytest.mark.cluster

SETTINGS = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {mode: draft}\n"
# ConfigMaps have no status: "degraded while data.mode is draft" is an install's policy.
OVERRIDE = """group: ""
kinds: [ConfigMap]
expectsStatus: false
degraded: 'object.?data.mode.orValue("") == "draft"'
message: '"settings still in draft (rule from the config repository)"'
"""
BROKEN = "group: example.com\nkinds: [Widget]\nhealthy: 'status.('\n"


def push(server: ServeProcess, repo: GitRepo) -> None:
    """A signed GitHub push webhook for the config repository."""
    body = orjson.dumps(
        {
            "ref": "refs/heads/main",
            "before": "0" * 40,
            "after": repo.git("rev-parse", "HEAD"),
            "repository": {"full_name": "ops/config", "clone_url": str(repo.path)},
            "commits": [],
        }
    )
    signature = "sha256=" + hmac.new(WEBHOOK_SECRET, body, hashlib.sha256).hexdigest()
    response = httpx.post(
        f"{server.base}/api/v1/webhooks/github",
        content=body,
        headers={"X-GitHub-Event": "push", "X-Hub-Signature-256": signature},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert response.json()["config"] is True


@pytest.fixture
def config(tmp_path: Path) -> GitRepo:
    repo = GitRepo(tmp_path / "config")
    repo.write({"health/README.md": "health rules of this install\n"})
    repo.commit()
    return repo


@pytest.fixture
def server(tmp_path: Path, control_plane: ClusterState, config: GitRepo) -> Iterator[ServeProcess]:
    secret = tmp_path / "webhook-secret"
    secret.write_bytes(WEBHOOK_SECRET)
    extra = ["--health-rules", "health", "--webhook-secret-file", str(secret)]
    running = ServeProcess(tmp_path, control_plane.kubeconfig, config.path, extra=extra)
    yield running
    running.stop()


def health(app: dict[str, object]) -> tuple[object, object]:
    verdict = app["health"]
    assert isinstance(verdict, dict)
    return verdict["status"], verdict["message"]


def test_a_rule_pushed_to_the_config_repository_changes_health_without_a_restart(
    server: ServeProcess, config: GitRepo, repo: GitRepo, namespace: str
) -> None:
    name = f"rules-{namespace}"
    repo.write({"app/settings.yaml": SETTINGS})
    repo.commit()
    config.write({"apps/web.yaml": application(name, repo, "app", namespace)})
    config.commit("add web")
    server.start()
    path = f"/api/v1/applications/{name}"
    before = server.wait(path, lambda a: a["syncState"] == "Synced" and health(a)[0] == "Healthy")
    assert health(before) == ("Healthy", "exists; no status to check")
    syncs = len(server.get(f"{path}/history")["items"])

    config.write({"health/settings.yaml": OVERRIDE, "health/broken.yaml": BROKEN})
    config.commit("judge settings; and a typo")
    push(server, config)

    after = server.wait(path, lambda a: health(a)[0] == "Degraded")
    assert health(after) == (
        "Degraded",
        "settings still in draft (rule from the config repository)",
    )
    assert after["syncState"] == "Synced"  # judged again, not synced again
    assert len(server.get(f"{path}/history")["items"]) == syncs
    ready = httpx.get(f"{server.base}/readyz", timeout=10)
    assert ready.status_code == 200, ready.text
    lines = ready.text.splitlines()
    assert lines[0] == "ok"
    [warning] = lines[1:]
    assert warning.startswith("health rule not loaded: health/broken.yaml:3: "), warning
    assert "does not compile" in warning
    assert "health/broken.yaml:3" in server.log_text()

    config.remove("health/settings.yaml")
    config.commit("settings are fine as they are")
    push(server, config)
    again = server.wait(path, lambda a: health(a)[0] == "Healthy")
    assert health(again) == ("Healthy", "exists; no status to check")
    assert server.proc is not None
    assert server.proc.poll() is None  # serve kept running throughout
