"""Several ``gitward serve --ha`` processes on one PostgreSQL and the dev cluster.

Each replica is a real process (:class:`tests.support.serve_process.ServeProcess`) with
its own state and Git cache, as pods have. What the tests check is read where a user
would look: sync history and app owners in PostgreSQL, Leases and objects in the
cluster, the API of any replica.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx2 as httpx
import psycopg

from gitward.ha.assign import owner
from tests.engine.conftest import GitRepo
from tests.serve.conftest import application
from tests.support.serve_process import ServeProcess
from tests.support.waiting import eventually_sync

SECRET = b"ha-webhook-secret"
T = TypeVar("T")


def configmap(app: str, value: str) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {app}}}\ndata: {{rev: {value!r}}}\n"


@dataclass
class Replicas:
    tmp: Path
    kubeconfig: str
    db: str
    repo: GitRepo
    namespace: str
    apps: list[str]
    duration: float = 6.0
    procs: dict[str, ServeProcess] = field(default_factory=dict)
    kubeconfigs: dict[str, str] = field(default_factory=dict)  # replicas not run as admin

    def write_revision(self, value: str, only: list[str] | None = None) -> str:
        self.repo.write({f"apps/{a}/cm.yaml": configmap(a, value) for a in only or self.apps})
        return self.repo.commit(f"revision {value}")

    def declare(self) -> Path:
        config = self.tmp / "config"
        config.mkdir(exist_ok=True)
        for app in self.apps:
            text = application(app, self.repo, f"apps/{app}", self.namespace)
            (config / f"{app}.yaml").write_text(text)
        (self.tmp / "secret").write_bytes(SECRET)
        return config

    def start(self, *ids: str) -> None:
        config = self.declare()
        for rid in ids:
            home = self.tmp / rid
            home.mkdir(exist_ok=True)
            self.procs[rid] = ServeProcess(
                home,
                self.kubeconfigs.get(rid, self.kubeconfig),
                config,
                extra=[
                    "--ha",
                    "--db",
                    self.db,
                    "--replica-id",
                    rid,
                    "--lease-namespace",
                    self.namespace,
                    "--lease-duration",
                    str(self.duration),
                    "--webhook-secret-file",
                    str(self.tmp / "secret"),
                    "--workers",
                    "4",
                ],
            )
        for rid in ids:  # start together: a start takes minutes on a loaded machine
            self.procs[rid].launch()
        for rid in ids:
            self.procs[rid].wait_ready(timeout=300)

    def stop_all(self) -> None:
        """SIGTERM to every replica at once, then wait (SIGKILL after 30 s) for each: one
        that hangs must not leave the others running into the next test (their inventory
        ConfigMaps share names with the next test's apps)."""
        for proc in self.procs.values():
            proc.terminate()
        failed: list[BaseException] = []
        for proc in self.procs.values():
            try:
                proc.stop()
            except BaseException as e:  # a test timeout too: stop the others, then raise
                failed.append(e)
                if proc.proc is not None:
                    proc.proc.kill()
        if failed:
            raise failed[0]

    def live(self) -> list[str]:
        return sorted(r for r, p in self.procs.items() if p.proc and p.proc.poll() is None)

    # ------------------------------------------------------------------ the store

    def query(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.db, autocommit=True) as conn:
            return list(conn.execute(sql.encode(), args))

    def syncs(self, sha: str | None = None) -> list[tuple[Any, ...]]:
        """(id, app, sha, owner, result, started_at, finished_at), oldest first."""
        rows = self.query(
            "SELECT id, app, sha, owner, result, started_at, finished_at FROM syncs ORDER BY id"
        )
        return [r for r in rows if sha is None or r[2] == sha]

    def owners(self) -> dict[str, str]:
        return {str(r[0]): str(r[1]) for r in self.query("SELECT app, replica FROM app_owner")}

    def misowned(self, wanted: dict[str, str]) -> dict[str, tuple[str | None, str | None]]:
        """Apps whose owner in the store is not the wanted one: (found, wanted)."""
        found = self.owners()
        return {
            app: (found.get(app), wanted.get(app))
            for app in sorted(set(found) | set(wanted))
            if found.get(app) != wanted.get(app)
        }

    def expected_owners(self, members: list[str]) -> dict[str, str]:
        return {a: str(owner(a, members)) for a in self.apps}

    def wait_synced(self, sha: str, timeout: float = 300) -> list[tuple[Any, ...]]:
        def done(rows: list[tuple[Any, ...]]) -> bool:
            return {r[1] for r in rows if r[4] == "Succeeded"} == set(self.apps)

        return eventually_sync(
            lambda: self.syncs(sha), done, what=f"every app synced at {sha[:8]}", timeout=timeout
        )

    def wait_owned(self, members: list[str], timeout: float = 120) -> dict[str, str]:
        wanted = self.expected_owners(members)
        return eventually_sync(
            self.owners,
            lambda found: found == wanted,
            what=f"apps owned as hashing over {members} says",
            timeout=timeout,
        )

    # ------------------------------------------------------------------ triggers

    def push(self, rid: str) -> dict[str, Any]:
        """A GitHub push webhook for the repository, sent to replica ``rid`` only."""
        body = json.dumps(
            {
                "ref": "refs/heads/main",
                "before": "0" * 40,
                "after": self.repo.git("rev-parse", "HEAD"),
                "repository": {
                    "full_name": "test/repo",
                    "clone_url": str(self.repo.path),
                    "ssh_url": str(self.repo.path),
                    "html_url": str(self.repo.path),
                },
                "commits": [],
            }
        ).encode()
        signature = "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()
        response = httpx.post(
            f"{self.procs[rid].base}/api/v1/webhooks/github",
            content=body,
            headers={
                "X-GitHub-Event": "push",
                "X-Hub-Signature-256": signature,
                "Content-Type": "application/json",
            },
            timeout=30,
        )
        assert response.status_code in (200, 202), response.text
        result: dict[str, Any] = response.json()
        return result


def overlapping(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Pairs of syncs of one app by two replicas whose time spans overlap."""
    found = []
    by_app: dict[str, list[tuple[Any, ...]]] = {}
    for row in rows:
        by_app.setdefault(row[1], []).append(row)
    for app_rows in by_app.values():
        for i, a in enumerate(app_rows):
            for b in app_rows[i + 1 :]:
                if a[3] == b[3]:
                    continue
                a_end, b_end = a[6] or a[5], b[6] or b[5]
                if a[5] < b_end and b[5] < a_end:
                    found.append((a, b))
    return found


def timed(
    what: str, observe: Callable[[], T], until: Callable[[T], bool], timeout: float = 120
) -> float:
    """Seconds until ``until(observe())`` holds (polled), for the measured figures; a
    timeout shows what was observed last."""
    started = time.monotonic()
    eventually_sync(observe, until, what=what, timeout=timeout)
    return time.monotonic() - started
