"""A smart-HTTP Git server (``git http-backend``) that a test can make misbehave.

Modes, switched at any time by the test:

- ``ok``: serves every repository under ``root`` like a healthy server.
- ``down``: the listening socket is closed; connections are refused.
- ``slow``: each response trickles out a few bytes at a time (``trickle_bytes`` every
  ``trickle_every`` seconds), so one fetch would take minutes: a client needs a
  deadline of its own to give up.
- ``corrupt``: the pack in each upload-pack response has bytes flipped in the middle of
  its object data, as a broken proxy or disk would serve it.

It binds 127.0.0.1 on a port that stays the same across ``down`` and back.
"""

from __future__ import annotations

import os
import socket
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Literal

Mode = Literal["ok", "down", "slow", "corrupt"]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HttpServer

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _serve(self) -> None:
        owner = self.server.owner
        owner.requests += 1
        body = self._read_body()
        path, _, query = self.path.partition("?")
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": str(owner.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "REQUEST_METHOD": self.command,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
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
        if owner.mode == "corrupt" and path.endswith("/git-upload-pack"):
            payload = corrupt_pack(payload)
            owner.corrupted += 1
        self.send_response(status)
        for key, value in headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if owner.mode == "slow":
            self._trickle(payload)
        else:
            self.wfile.write(payload)

    def _trickle(self, payload: bytes) -> None:
        owner = self.server.owner
        owner.trickling += 1
        try:
            for start in range(0, len(payload), owner.trickle_bytes):
                if owner.stopping.wait(owner.trickle_every):
                    return
                self.wfile.write(payload[start : start + owner.trickle_bytes])
                self.wfile.flush()
        except OSError:
            return  # the client gave up: what the test wants
        finally:
            owner.trickling -= 1

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


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: FaultyGitServer


def corrupt_pack(payload: bytes) -> bytes:
    """Flip bytes in the middle of the first pack's object data (not its framing)."""
    start = payload.find(b"PACK")
    if start < 0:
        return payload
    # The pack travels in side-band packets of up to 65520 bytes; its first 12 bytes
    # are the header. Flip a run well inside the first packet's data.
    spot = start + 12 + 8
    damaged = bytearray(payload)
    for i in range(spot, min(spot + 16, len(damaged) - 24)):
        damaged[i] ^= 0xFF
    return bytes(damaged)


class FaultyGitServer:
    """Smart HTTP for every bare repository under ``root``; see the module docstring."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.mode: Mode = "ok"
        self.requests = 0
        self.corrupted = 0
        self.trickling = 0
        self.trickle_bytes = 8
        self.trickle_every = 0.5
        self.stopping = threading.Event()
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        self._server: _HttpServer | None = None
        self._thread: threading.Thread | None = None
        self._listen()

    def url(self, bare: Path) -> str:
        return f"http://127.0.0.1:{self.port}/{bare.relative_to(self.root)}"

    def set_mode(self, mode: Mode) -> None:
        if mode == "down":
            self._close()
        elif self._server is None:
            self._listen()
        self.mode = mode

    def stop(self) -> None:
        self.stopping.set()
        self._close()

    def _listen(self) -> None:
        server = _HttpServer(("127.0.0.1", self.port), _Handler)
        server.owner = self
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()

    def _close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
