"""A real Gitea v1.26.0 on 127.0.0.1 for the forge tests, set up headless.

The binary is the toolchain's ``gitea`` entry (built from Go modules inside
``gomod/gitea`` on first use). Without the ``bindata`` tag Gitea reads its templates and
options from its module directory, which ``STATIC_ROOT_PATH`` points at; the web UI's
assets are not in the module zip, the REST API is complete. SQLite in the work dir,
no SSH, webhooks allowed to loopback (gitward serve listens on 127.0.0.1). As root Gitea
refuses to start unless ``I_AM_BEING_UNSAFE_RUNNING_AS_ROOT = true`` is in the
root section of app.ini (Gitea 1.26 reads it there, not from the environment).
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2 as httpx

from gitward.toolchain import Toolchain
from gitward.toolchain.build import module_dir
from tests.support.waiting import eventually_sync

USER = "gitward"
PASSWORD = "gitward-test-password-1"
STARTUP_SECONDS = 120.0


def module_source() -> Path:
    """Gitea's module directory in the Go module cache (downloaded if missing)."""
    found = subprocess.run(
        ["go", "mod", "download", "-json", "code.gitea.io/gitea"],
        cwd=module_dir("gitea"),
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    return Path(json.loads(found.stdout)["Dir"])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Gitea:
    binary: Path
    work: Path
    port: int
    process: subprocess.Popen[bytes] | None = None
    token: str = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def config(self) -> Path:
        return self.work / "app.ini"

    def write_config(self, static_root: Path) -> None:
        self.work.mkdir(parents=True, exist_ok=True)
        self.config().write_text(
            f"""\
APP_NAME = gitward tests
RUN_MODE = prod
I_AM_BEING_UNSAFE_RUNNING_AS_ROOT = true
WORK_PATH = {self.work}
[server]
PROTOCOL = http
HTTP_ADDR = 127.0.0.1
HTTP_PORT = {self.port}
ROOT_URL = {self.url}/
DISABLE_SSH = true
OFFLINE_MODE = true
STATIC_ROOT_PATH = {static_root}
APP_DATA_PATH = {self.work}/data
LFS_START_SERVER = false
[database]
DB_TYPE = sqlite3
PATH = {self.work}/gitea.db
[repository]
ROOT = {self.work}/repositories
[security]
INSTALL_LOCK = true
SECRET_KEY = {secrets.token_hex(16)}
INTERNAL_TOKEN = {secrets.token_hex(32)}
[oauth2]
ENABLED = false
[service]
DISABLE_REGISTRATION = true
[webhook]
ALLOWED_HOST_LIST = loopback
DELIVER_TIMEOUT = 30
[mailer]
ENABLED = false
[log]
MODE = file
LEVEL = Info
ROOT_PATH = {self.work}/log
[cron]
ENABLED = false
[indexer]
ISSUE_INDEXER_TYPE = db
"""
        )

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "I_AM_BEING_UNSAFE_RUNNING_AS_ROOT": "true",
            "GITEA_WORK_DIR": str(self.work),
            "HOME": str(self.work),
        }

    def command(self) -> list[str]:
        return [str(self.binary), "--config", str(self.config()), "--work-path", str(self.work)]

    def admin(self, *args: str) -> str:
        result = subprocess.run(
            [
                str(self.binary),
                "--config",
                str(self.config()),
                "--work-path",
                str(self.work),
                *args,
            ],
            capture_output=True,
            text=True,
            env=self.env(),
            timeout=300,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"gitea {' '.join(args[:3])} failed: {result.stderr}{result.stdout}")
        return result.stdout.strip()

    def start(self) -> None:
        self.admin("migrate")
        self.admin(
            "admin", "user", "create", "--username", USER, "--password", PASSWORD,
            "--email", "gitward@example.com", "--admin", "--must-change-password=false",
        )  # fmt: skip
        self.token = self.admin(
            "admin", "user", "generate-access-token", "--username", USER,
            "--token-name", "tests", "--scopes", "all", "--raw",
        ).splitlines()[-1]  # fmt: skip
        with (self.work / "gitea.out").open("wb") as log:  # the child keeps its own copy
            self.process = subprocess.Popen(
                [
                    str(self.binary),
                    "web",
                    "--config",
                    str(self.config()),
                    "--work-path",
                    str(self.work),
                ],
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        eventually_sync(
            self._version,
            what="Gitea to answer its API",
            timeout=STARTUP_SECONDS,
            ignoring=(httpx.HTTPError,),
        )

    def _version(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"gitea exited: {(self.work / 'gitea.out').read_text()[-3000:]}")
        return httpx.get(f"{self.url}/api/v1/version", timeout=5).status_code == 200

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)

    def api(self, method: str, path: str, body: Any = None) -> Any:
        response = httpx.request(
            method,
            f"{self.url}/api/v1{path}",
            json=body,
            headers={"Authorization": f"token {self.token}"},
            timeout=60,
        )
        if response.status_code >= 400:
            raise AssertionError(f"{method} {path}: {response.status_code} {response.text}")
        return response.json() if response.content else None

    def push_url(self, repo: str) -> str:
        return f"http://{USER}:{self.token}@127.0.0.1:{self.port}/{USER}/{repo}.git"


def start_gitea(work: Path) -> Gitea:
    binary = Toolchain().ensure(["gitea"])["gitea"]
    gitea = Gitea(binary, work, free_port())
    gitea.write_config(module_source())
    gitea.start()
    return gitea
