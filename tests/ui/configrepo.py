"""A web UI whose declarations live in a Git repository, changed by commits in a test.

``start_with_config_repo`` serves ``config`` (a :class:`GitRepo`) with a webhook secret;
``push`` commits and sends the signed GitHub push webhook, which serve answers only once
the new revision is loaded: a test waits for that answer, never for a poll.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from pathlib import Path

import httpx2 as httpx
import orjson

from gitward.devcluster import ClusterState
from tests.engine.conftest import GitRepo
from tests.ui.conftest import Ui, start_ui

WEBHOOK_SECRET = b"ui-config-repo-webhook-secret"


@dataclass
class WithConfig:
    ui: Ui
    config: GitRepo  # the config repository serve reads

    def push(self, message: str, files: dict[str, str] | None = None, *, remove: str = "") -> str:
        """Commit ``files`` (and the removal of ``remove``); returns once serve loaded it."""
        if files:
            self.config.write(files)
        if remove:
            self.config.remove(remove)
        sha = self.config.commit(message)
        body = orjson.dumps(
            {
                "ref": "refs/heads/main",
                "after": sha,
                "repository": {"full_name": "ops/config", "clone_url": str(self.config.path)},
                "commits": [],
            }
        )
        signature = "sha256=" + hmac.new(WEBHOOK_SECRET, body, hashlib.sha256).hexdigest()
        response = httpx.post(
            f"{self.ui.serve.base}/api/v1/webhooks/github",
            content=body,
            headers={"X-GitHub-Event": "push", "X-Hub-Signature-256": signature},
            timeout=60,
        )
        assert response.status_code == 200, response.text
        return sha


def start_with_config_repo(
    tmp: Path,
    control_plane: ClusterState,
    repo: GitRepo,
    namespace: str,
    declarations: dict[str, str],
    *,
    extra: tuple[str, ...] = (),
    port: int | None = None,
) -> WithConfig:
    config = GitRepo(tmp / "config")  # the folder start_ui serves: a Git repository
    config.write(declarations)
    config.commit("declarations")
    secret = tmp / "webhook-secret"
    secret.write_bytes(WEBHOOK_SECRET)
    ui = start_ui(
        tmp,
        control_plane,
        repo,
        namespace,
        declarations={},
        extra=(*extra, "--webhook-secret-file", str(secret)),
        port=port,
    )
    return WithConfig(ui, config)
