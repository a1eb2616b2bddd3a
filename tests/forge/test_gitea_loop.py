"""The pull-request loop against a real Gitea, end to end.

A repository on Gitea; a pull request opened through its API; ``gitward preview`` on
the pull request's two commits; the merge through the API; Gitea's own push webhook to
a running ``gitward serve``; the sync; and the commit status ``gitward/<app>`` visible
through Gitea's API on the merged commit.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.forge.gitea import USER, Gitea
from tests.serve.conftest import WEBHOOK_SECRET, GitRepo, Serve
from tests.support.waiting import eventually

pytestmark = pytest.mark.cluster


def configmap(value: str) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cm}}\ndata: {{v: '{value}'}}\n"


def application(name: str, url: str, namespace: str) -> str:
    return f"""\
apiVersion: gitward.dev/v1alpha1
kind: Application
metadata: {{name: {name}}}
spec:
  source: {{repoURL: '{url}', path: app, targetRevision: main}}
  destination: {{namespace: {namespace}}}
  syncPolicy: {{automated: {{prune: true, selfHeal: true}}}}
"""


def statuses(gitea: Gitea, sha: str, app: str) -> list[dict[str, Any]]:
    """gitward's statuses for ``app`` on a commit, as Gitea's API reports them."""
    found = gitea.api("GET", f"/repos/{USER}/deploy/commits/{sha}/statuses")
    assert isinstance(found, list)
    return [s for s in found if s["context"] == f"gitward/{app}"]


async def test_pull_request_preview_merge_webhook_sync_and_commit_status(
    gitea: Gitea, serve: Serve, repo: GitRepo, namespace: str, tmp_path: Path
) -> None:
    name = f"shop-{namespace}"
    await asyncio.to_thread(
        gitea.api, "POST", "/user/repos", {"name": "deploy", "default_branch": "main"}
    )
    url = f"{gitea.url}/{USER}/deploy.git"
    repo.write({"app/cm.yaml": configmap("v1")})
    base = repo.commit("v1")
    await asyncio.to_thread(repo.git, "push", "-q", gitea.push_url("deploy"), "main")

    (tmp_path / "token").write_text(gitea.token)
    notifications = tmp_path / "notifications.yaml"
    notifications.write_text(
        "receivers:\n"
        f"  - {{name: gitea, type: gitea, url: '{gitea.url}', tokenFile: '{tmp_path / 'token'}'}}\n"
        "delivery: {timeout: 10, attempts: 5, backoff: 0.2}\n"
    )
    running = await serve(
        {"app.yaml": application(name, url, namespace)}, notifications=notifications
    )
    await running.wait_app(name, lambda a: a["syncState"] == "Synced", timeout=120)
    await asyncio.to_thread(
        gitea.api,
        "POST",
        f"/repos/{USER}/deploy/hooks",
        {
            "type": "gitea",
            "active": True,
            "events": ["push"],
            "config": {
                "url": f"{running.base}/api/v1/webhooks/gitea",
                "content_type": "json",
                "secret": WEBHOOK_SECRET.decode(),
            },
        },
    )

    # A pull request: a branch with a change, opened through the API.
    repo.git("checkout", "-q", "-b", "change")
    repo.write({"app/cm.yaml": configmap("v2")})
    head = repo.commit("v2")
    await asyncio.to_thread(repo.git, "push", "-q", gitea.push_url("deploy"), "change")
    pull = await asyncio.to_thread(
        gitea.api,
        "POST",
        f"/repos/{USER}/deploy/pulls",
        {"head": "change", "base": "main", "title": "v2"},
    )
    assert (pull["base"]["sha"], pull["head"]["sha"]) == (base, head)

    preview = await asyncio.to_thread(
        subprocess.run,
        [
            *(sys.executable, "-m", "gitward", "preview", "--repo", url, "--path", "app"),
            *("--base", pull["base"]["sha"], "--head", pull["head"]["sha"], "-n", namespace),
            *("-o", "json"),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "GITWARD_CACHE_DIR": str(tmp_path / "cli-cache")},
        timeout=600,
        check=False,
    )
    assert preview.returncode == 0, preview.stderr
    [app] = json.loads(preview.stdout)["apps"]
    assert [(o["action"], o["object"]) for o in app["objects"]] == [
        ("update", f"ConfigMap {namespace}/cm")
    ]
    assert "-  v: v1\n+  v: v2" in app["objects"][0]["diff"]

    # Merge through the API: Gitea pushes to main and sends its webhook to serve.
    await asyncio.to_thread(
        gitea.api, "POST", f"/repos/{USER}/deploy/pulls/{pull['number']}/merge", {"Do": "merge"}
    )
    branch = await asyncio.to_thread(gitea.api, "GET", f"/repos/{USER}/deploy/branches/main")
    merged = branch["commit"]["id"]
    assert merged != base
    app_after = await running.wait_app(
        name,
        lambda a: a["lastOperation"]["trigger"] == "webhook" and a["syncState"] == "Synced",
        timeout=120,
    )
    assert app_after["revision"]["live"] == merged, (merged, base, head, app_after)

    found = await eventually(
        lambda: asyncio.to_thread(statuses, gitea, merged, name),
        lambda found: any(s["status"] == "success" for s in found),
        what="gitward's commit status on the merged commit",
    )
    assert {s["status"] for s in found} >= {"pending", "success"}
    first = await asyncio.to_thread(statuses, gitea, base, name)
    assert any(s["status"] == "success" for s in first)
