"""``gitward serve`` as a real child process, for tests that kill it or its neighbours.

Started as a user starts it (``python -m gitward serve``) against a given kubeconfig,
with its state, Git cache and log in a tmp directory; ``kill`` sends SIGKILL (no
cleanup runs), ``stop`` sends SIGTERM like a service manager. Waiting is event-based:
``start`` returns once ``/readyz`` answers 200, ``wait`` polls an API path.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from tests.support.waiting import eventually_sync


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServeProcess:
    def __init__(
        self,
        tmp: Path,
        kubeconfig: str,
        config: Path,
        *,
        extra: Sequence[str] = (),
        env: dict[str, str] | None = None,
    ) -> None:
        self.tmp = tmp
        self.port = free_port()
        self.log = tmp / "serve.log"
        self.cmd = [
            sys.executable,
            "-m",
            "gitward",
            "serve",
            "--config",
            str(config),
            "--state-dir",
            str(tmp / "state"),
            "--listen",
            f"127.0.0.1:{self.port}",
            "--kubeconfig",
            kubeconfig,
            "--poll-interval",
            "3600",
            *extra,
        ]
        self.env = {**os.environ, "GITWARD_CACHE_DIR": str(tmp / "cache"), **(env or {})}
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 120.0) -> None:
        self.launch()
        self.wait_ready(timeout)

    def launch(self) -> None:
        """Start the process without waiting (several start side by side)."""
        with self.log.open("ab") as log:  # the child keeps its own handle
            self.proc = subprocess.Popen(
                self.cmd, env=self.env, stdout=log, stderr=log, stdin=subprocess.DEVNULL
            )

    def wait_ready(self, timeout: float = 120.0) -> None:
        def ready() -> int | str:
            assert self.proc is not None
            if self.proc.poll() is not None:
                pytest.fail(f"gitward serve exited at start:\n{self.log.read_text()[-5000:]}")
            return httpx.get(f"{self.base}/readyz", timeout=5).status_code

        eventually_sync(
            ready,
            lambda code: code == 200,
            what="gitward serve to answer /readyz",
            timeout=timeout,
            ignoring=(httpx.TransportError,),
        )

    def token(self) -> str:
        return (self.tmp / "state" / "admin-token").read_text().strip()

    def request(self, method: str, path: str, timeout: float = 30.0) -> httpx.Response:
        return httpx.request(
            method,
            f"{self.base}{path}",
            timeout=timeout,
            headers={"Authorization": f"Bearer {self.token()}"},
        )

    def get(self, path: str) -> Any:
        response = self.request("GET", path)
        assert response.status_code == 200, response.text
        return response.json()

    def wait(self, path: str, check: Callable[[Any], bool], timeout: float = 60.0) -> Any:
        return eventually_sync(
            lambda: self.get(path), check, what=f"GET {path} to satisfy the test", timeout=timeout
        )

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to clean up, like a power cut."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def terminate(self) -> None:
        """SIGTERM without waiting (several stop side by side; then :meth:`stop`)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def dump(body: Any) -> str:
    return json.dumps(body)[:2000]
