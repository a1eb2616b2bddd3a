"""Real Git repositories and real Git servers for the source stage's tests.

:class:`GitRepo` drives the git CLI (a work tree pushing to a bare ``origin.git``);
:class:`HttpGitServer` serves bare repositories through ``git http-backend`` behind a
small HTTP/1.1 server with basic auth; :class:`SshGitServer` runs Debian's ``sshd``
on 127.0.0.1 with generated host and user keys.
"""

from __future__ import annotations

import base64
import os
import shutil
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

_GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
}


def git(cwd: Path, *args: str, stdin: bytes | None = None) -> str:
    env = {**os.environ, **_GIT_ENV}
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, input=stdin, capture_output=True, check=True
    )
    return done.stdout.decode().strip()


class GitRepo:
    """A work tree whose commits are pushed to a bare repository that servers serve."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.bare = root / "origin.git"
        self.work = root / "work"
        root.mkdir(parents=True, exist_ok=True)
        git(root, "init", "-q", "--bare", "-b", "main", str(self.bare))
        git(root, "init", "-q", "-b", "main", str(self.work))
        git(self.work, "remote", "add", "origin", str(self.bare))

    def commit(self, files: dict[str, str], message: str = "change") -> str:
        """Write ``files`` (path -> text), commit them, push the branch; return the SHA."""
        for name, text in files.items():
            path = self.work / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        git(self.work, "add", "-A")
        git(self.work, "commit", "-q", "--allow-empty", "-m", message)
        branch = git(self.work, "rev-parse", "--abbrev-ref", "HEAD")
        git(self.work, "push", "-q", "origin", branch)
        return git(self.work, "rev-parse", "HEAD")

    def symlink(self, name: str, target: str) -> str:
        (self.work / name).parent.mkdir(parents=True, exist_ok=True)
        (self.work / name).symlink_to(target)
        return self.commit({}, f"link {name}")

    def tag(self, name: str, *, annotated: bool = False, at: str = "HEAD") -> None:
        extra = ["-a", "-m", f"release {name}"] if annotated else []
        git(self.work, "tag", *extra, name, at)
        git(self.work, "push", "-q", "origin", f"refs/tags/{name}")

    def branch(self, name: str) -> None:
        """Create and switch to ``name``; later commits go there."""
        git(self.work, "checkout", "-q", "-b", name)

    def switch(self, name: str) -> None:
        git(self.work, "checkout", "-q", name)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class _GitHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _serve(self) -> None:
        self.server.requests += 1
        body = self._read_body()
        if not self._authorized():
            self._reply(401, [("WWW-Authenticate", 'Basic realm="git"')], b"unauthorized\n")
            return
        path, _, query = self.path.partition("?")
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": str(self.server.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "REQUEST_METHOD": self.command,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_USER": self.server.username or "",
            "REMOTE_ADDR": "127.0.0.1",
            "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
        }
        done = subprocess.run(
            ["git", "http-backend"], input=body, env=env, capture_output=True, check=False
        )
        head, _, payload = done.stdout.partition(b"\r\n\r\n")
        status, headers = 200, []
        for line in head.decode("latin-1").split("\r\n"):
            key, _, value = line.partition(":")
            if key.lower() == "status":
                status = int(value.split()[0])
            elif key:
                headers.append((key, value.strip()))
        self._reply(status, headers, payload)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                chunk = self.rfile.read(size)
                self.rfile.readline()
                if size == 0:
                    return b"".join(chunks)
                chunks.append(chunk)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _authorized(self) -> bool:
        if self.server.username is None:
            return True
        pair = f"{self.server.username}:{self.server.password}".encode()
        return self.headers.get("Authorization") == "Basic " + base64.b64encode(pair).decode()

    def _reply(self, status: int, headers: list[tuple[str, str]], payload: bytes) -> None:
        self.send_response(status)
        for key, value in headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    root: Path
    username: str | None
    password: str | None
    requests: int


class HttpGitServer:
    """Smart HTTP over ``git http-backend`` for every repository under ``root``."""

    def __init__(self, root: Path, username: str | None, password: str | None) -> None:
        self._server = _Server(("127.0.0.1", 0), _GitHandler)
        self._server.root = root
        self._server.username = username
        self._server.password = password
        self._server.requests = 0
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def requests(self) -> int:
        return self._server.requests

    def url(self, repo: GitRepo) -> str:
        return f"http://127.0.0.1:{self.port}/{repo.bare.relative_to(self._server.root)}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


class SshGitServer:
    """Debian's sshd on 127.0.0.1, one generated host key, one authorised user key."""

    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root = root
        self.host_key = root / "host_ed25519"
        self.user_key = root / "user_ed25519"
        for key in (self.host_key, self.user_key):
            self.make_key(key)
        authorized = root / "authorized_keys"
        shutil.copy(self.user_key.with_suffix(".pub"), authorized)
        authorized.chmod(0o600)
        self.port = free_port()
        self.user = (
            os.environ.get("USER")
            or subprocess.run(
                ["id", "-un"], capture_output=True, text=True, check=True
            ).stdout.strip()
        )
        config = root / "sshd_config"
        config.write_text(
            f"Port {self.port}\nListenAddress 127.0.0.1\nHostKey {self.host_key}\n"
            f"AuthorizedKeysFile {authorized}\nPidFile {root / 'sshd.pid'}\n"
            "StrictModes no\nUsePAM no\nPasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\n"
        )
        Path("/run/sshd").mkdir(parents=True, exist_ok=True)  # privilege separation
        self._log = (root / "sshd.log").open("wb")
        self._process = subprocess.Popen(
            ["/usr/sbin/sshd", "-D", "-e", "-f", str(config)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self._wait_listening()

    @staticmethod
    def make_key(path: Path) -> Path:
        """A new passphrase-less ed25519 key pair at ``path`` and ``path.pub``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
        return path

    def _wait_listening(self) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError((self.root / "sshd.log").read_text())
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            except OSError:
                time.sleep(0.05)
            else:
                return
        raise RuntimeError(f"sshd did not listen on port {self.port} within 10s")

    def known_hosts_line(self) -> str:
        key_type, key = self.host_key.with_suffix(".pub").read_text().split()[:2]
        return f"[127.0.0.1]:{self.port} {key_type} {key}\n"

    def url(self, repo: GitRepo) -> str:
        return f"ssh://{self.user}@127.0.0.1:{self.port}{repo.bare}"

    def stop(self) -> None:
        self._process.terminate()
        self._process.wait(timeout=10)
        self._log.close()
