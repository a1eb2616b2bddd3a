"""Real servers for the registry tests, on 127.0.0.1.

- :class:`StaticServer`: a threaded ``http.server`` serving a directory (a Helm chart
  repository made by the real ``helm package`` + ``helm repo index``), optionally with
  HTTP basic auth and TLS from a test CA. ``override`` lets a test make one path
  answer something hostile.
- :class:`Registry`: the real OCI registry (``distribution`` v3, built from Go modules)
  with filesystem storage in a temporary directory, optionally with htpasswd auth
  (bcrypt hashes from the system's libcrypt).
- :func:`run`: the built ``helm`` and ``oras`` with a private home.
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import socket
import ssl
import subprocess
import threading
from collections.abc import Callable, Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.support.waiting import eventually_sync

Answer = tuple[int, dict[str, str], bytes]
Override = Callable[[str, Mapping[str, str]], Answer | None]  # (path, headers)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        owner = self.server.owner
        owner.requests.append(self.path)
        if owner.basic and self.headers.get("Authorization") != owner.basic:
            self._answer(401, {"WWW-Authenticate": 'Basic realm="charts"'}, b"")
            return
        answer = owner.override(self.path, dict(self.headers)) if owner.override else None
        if answer is not None:
            self._answer(*answer)
            return
        file = (owner.root / self.path.lstrip("/").split("?")[0]).resolve()
        if not file.is_relative_to(owner.root.resolve()) or not file.is_file():
            self._answer(404, {}, b"not found")
            return
        self._answer(200, {"Content-Type": "application/octet-stream"}, file.read_bytes())

    def _answer(self, status: int, headers: dict[str, str], body: bytes) -> None:
        """``Content-Length: ""`` sends no length: the body ends when the connection does."""
        self.send_response(status)
        for key, value in headers.items():
            if value:
                self.send_header(key, value)
        if "Content-Length" not in headers:
            self.send_header("Content-Length", str(len(body)))
        elif not headers["Content-Length"]:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        with contextlib.suppress(OSError):
            self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: StaticServer


class StaticServer:
    """Serves ``root`` on 127.0.0.1; ``url`` is its base URL."""

    def __init__(
        self,
        root: Path,
        *,
        basic: tuple[str, str] | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.root = root
        self.requests: list[str] = []
        self.override: Override | None = None
        self.basic = (
            "Basic " + base64.b64encode(f"{basic[0]}:{basic[1]}".encode()).decode()
            if basic
            else None
        )
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        port = self._server.server_address[1]
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> StaticServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def bcrypt_hash(password: str) -> str:
    """A bcrypt hash for htpasswd (the registry accepts bcrypt only), from libcrypt."""
    lib = ctypes.CDLL("libcrypt.so.1")
    lib.crypt_gensalt.restype = ctypes.c_char_p
    lib.crypt_gensalt.argtypes = [ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p, ctypes.c_int]
    lib.crypt.restype = ctypes.c_char_p
    lib.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    salt = lib.crypt_gensalt(b"$2b$", 5, None, 0)
    return str(lib.crypt(password.encode(), salt).decode())


class Registry:
    """The real distribution registry on 127.0.0.1: plain HTTP, or HTTPS with ``tls``
    (a certificate and its key)."""

    def __init__(
        self,
        binary: Path,
        workdir: Path,
        *,
        user: tuple[str, str] | None = None,
        tls: tuple[Path, Path] | None = None,
    ) -> None:
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.user = user
        workdir.mkdir(parents=True, exist_ok=True)
        auth = ""
        if user is not None:
            htpasswd = workdir / "htpasswd"
            htpasswd.write_text(f"{user[0]}:{bcrypt_hash(user[1])}\n")
            auth = f"auth:\n  htpasswd:\n    realm: test\n    path: {htpasswd}\n"
        serving = f"  tls:\n    certificate: {tls[0]}\n    key: {tls[1]}\n" if tls else ""
        config = workdir / "config.yml"
        config.write_text(
            "version: 0.1\nlog:\n  level: warn\n"
            f"storage:\n  filesystem:\n    rootdirectory: {workdir / 'data'}\n"
            f"  delete:\n    enabled: true\n{auth}"
            f"http:\n  addr: {self.host}\n{serving}"
        )
        self._log = (workdir / "registry.log").open("wb")
        self._process = subprocess.Popen(
            [str(binary), "serve", str(config)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={"PATH": "/usr/bin:/bin", "HOME": str(workdir)},
        )
        eventually_sync(self._answers, what=f"the registry on {self.host} to listen", timeout=30)

    def _answers(self) -> bool:
        if self._process.poll() is not None:
            raise RuntimeError(f"the registry exited with {self._process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 1):
            return True
        return False

    def stop(self) -> None:
        self._process.terminate()
        self._process.wait(10)
        self._log.close()


def tool_env(home: Path) -> dict[str, str]:
    home.mkdir(parents=True, exist_ok=True)
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "HELM_CONFIG_HOME": str(home / "helm-config"),
        "HELM_CACHE_HOME": str(home / "helm-cache"),
        "HELM_DATA_HOME": str(home / "helm-data"),
        "DOCKER_CONFIG": str(home / "docker"),
    }


def run(argv: list[str | Path], home: Path, cwd: Path | None = None) -> str:
    """Run a built tool with a private home; fail the test with its output if it fails."""
    done = subprocess.run(
        [str(a) for a in argv],
        cwd=cwd,
        env=tool_env(home),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(f"{argv[0]} {argv[1]} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout + done.stderr


@contextlib.contextmanager
def registry(binary: Path, workdir: Path, **kwargs: Any) -> Iterator[Registry]:
    server = Registry(binary, workdir, **kwargs)
    try:
        yield server
    finally:
        server.stop()
