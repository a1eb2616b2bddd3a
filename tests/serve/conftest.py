"""A running ``gitward serve`` for tests: in-process, real cluster, real Git, real HTTP.

``serve(...)`` starts a :class:`gitward.serve.Service` on 127.0.0.1 (a free port) with
the given declaration files, against the session's control plane, with SQLite in the
test's tmp dir or, with ``db="postgresql"``, a fresh database on the session's real
PostgreSQL. It is stopped at the end of the test.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2 as httpx
import orjson
import pytest

from gitward.devcluster import ClusterState
from gitward.reconcile.config import ConfigLocation
from gitward.serve import ServeSettings, Service
from tests.engine.conftest import GitRepo, cluster, repo
from tests.store.postgres import PostgresServer
from tests.support.waiting import eventually, stopped

__all__ = ["GitRepo", "Running", "Serve", "application", "cluster", "repo"]  # shared fixtures

WEBHOOK_SECRET = b"test-webhook-secret"


@dataclass
class Running:
    service: Service
    base: str
    token: str
    config: Path

    @property
    def controller(self) -> Any:
        return self.service.controller

    async def api(
        self, method: str, path: str, body: Any = None, token: str | None = None
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.token if token is None else token}"}
        async with httpx.AsyncClient(base_url=self.base, timeout=30) as client:
            response = await client.request(
                method, path, headers=headers, content=orjson.dumps(body) if body else None
            )
        try:
            return response.status_code, response.json()
        except ValueError:
            return response.status_code, response.text

    async def push(
        self, repo: GitRepo, *, secret: bytes = WEBHOOK_SECRET, ref: str = "refs/heads/main"
    ) -> tuple[int, Any]:
        """Send a GitHub push webhook for ``repo``, signed like GitHub signs it."""
        body = orjson.dumps(
            {
                "ref": ref,
                "before": "0" * 40,
                "after": repo.git("rev-parse", "HEAD"),
                "repository": {
                    "full_name": "test/repo",
                    "clone_url": str(repo.path),
                    "ssh_url": str(repo.path),
                    "html_url": str(repo.path),
                },
                "commits": [],
            }
        )
        signature = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
        async with httpx.AsyncClient(base_url=self.base, timeout=30) as client:
            response = await client.post(
                "/api/v1/webhooks/github",
                content=body,
                headers={
                    "X-GitHub-Event": "push",
                    "X-Hub-Signature-256": signature,
                    "Content-Type": "application/json",
                },
            )
        return response.status_code, response.json()

    async def app(self, name: str) -> dict[str, Any]:
        status, body = await self.api("GET", f"/api/v1/applications/{name}")
        assert status == 200, body
        assert isinstance(body, dict)
        return body

    async def wait_app(
        self, name: str, check: Callable[[dict[str, Any]], bool], timeout: float = 60.0
    ) -> dict[str, Any]:
        return await eventually(
            lambda: self.app(name), check, what=f"application {name}", timeout=timeout
        )

    async def settled(self, name: str, timeout: float = 60.0) -> dict[str, Any]:
        """The app once every trigger queued for it so far has been reconciled.

        This is the event that proves a push (or a resume, a refresh) was considered:
        a test then asserts what the reconcile decided, instead of sleeping and hoping.
        """
        await eventually(
            lambda: not self.controller.queue.pending(name),
            what=f"the controller to finish reconciling {name}",
            timeout=timeout,
        )
        return await self.app(name)


Serve = Callable[..., Awaitable[Running]]


@pytest.fixture
async def serve(
    control_plane: ClusterState, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Serve]:
    started: list[Service] = []

    async def start(
        declarations: dict[str, str],
        *,
        db: str = "sqlite",
        poll_interval: float = 3600.0,
        state: Path | None = None,
        notifications: Path | None = None,
    ) -> Running:
        config = tmp_path / "config"
        config.mkdir(exist_ok=True)
        for name, text in declarations.items():
            (config / name).write_text(text)
        secret = tmp_path / "webhook-secret"
        secret.write_bytes(WEBHOOK_SECRET)
        db_url = None
        if db == "postgresql":
            server: PostgresServer = request.getfixturevalue("postgres")
            db_url = server.create_database()
        settings = ServeSettings(
            config=ConfigLocation.parse(str(config)),
            state_dir=state or tmp_path / "state",
            port=0,
            db_url=db_url,
            kubeconfig=control_plane.kubeconfig,
            webhook_secret_file=secret,
            poll_interval=poll_interval,
            cache_dir=tmp_path / "cache",
            notifications=notifications,
        )
        service = Service(settings)
        await service.start()
        started.append(service)
        assert service.token_path is not None
        return Running(
            service,
            f"http://127.0.0.1:{service.port}",
            service.token_path.read_text().strip(),
            config,
        )

    yield start
    for service in started:
        await stopped(service)


def application(
    name: str,
    repo: GitRepo,
    path: str,
    namespace: str,
    *,
    automated: bool = True,
    self_heal: bool = True,
    prune: bool = True,
    depends_on: tuple[str, ...] = (),
    revision: str = "main",
) -> str:
    automation = (
        f"automated: {{prune: {str(prune).lower()}, selfHeal: {str(self_heal).lower()}}}"
        if automated
        else "{}"
    )
    lines = [
        "apiVersion: gitward.dev/v1alpha1",
        "kind: Application",
        f"metadata: {{name: {name}}}",
        "spec:",
        f"  source: {{repoURL: '{repo.path}', path: {path}, targetRevision: {revision}}}",
        f"  destination: {{namespace: {namespace}}}",
        f"  syncPolicy: {{{automation}}}" if automated else "  syncPolicy: {}",
    ]
    if depends_on:
        lines.append(f"  dependsOn: [{', '.join(depends_on)}]")
    return "\n".join(lines) + "\n"
