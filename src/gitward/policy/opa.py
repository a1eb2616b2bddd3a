"""The OPA adapter: one long-lived ``opa run --server`` per policy set, asked over HTTP.

This is the one module of :mod:`gitward.policy` that does I/O (a child process and
HTTP); the import-linter contracts allow it here and nowhere else in the package. The
rest of the stage is pure and reaches OPA only through
:class:`gitward.policy.rego.RegoBackend`.

Why a server: starting OPA and compiling the policies costs far more than evaluating
them, so ``serve`` pays it once per policy set, not once per sync. The server listens
on a Unix socket in a private temporary folder (mode 0700): nothing on the network,
not even 127.0.0.1, can reach it. Modules are loaded with ``PUT /v1/policies/<file>``,
so a compile error comes back with the file and line; a whole app is then checked
with one ``POST /v1/data/gitward_batch/results``.
"""

from __future__ import annotations

import contextlib
import http.client
import shutil
import socket
import subprocess
import tempfile
import threading
import urllib.parse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

from gitward.errors import InvalidPolicyError
from gitward.model import JsonObject
from gitward.policy.rego import BATCH_PATH, RegoBundle
from gitward.ports import Clock, SystemClock

_BATCH_ID = "gitward/batch.rego"


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(self.timeout)
            sock.connect(self._path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


class OpaServer:
    """One OPA process holding one policy set."""

    def __init__(
        self,
        binary: Path,
        *,
        clock: Clock | None = None,
        start_timeout: float = 60.0,
        request_timeout: float = 120.0,
    ) -> None:
        self.binary = binary
        self.clock = clock or SystemClock()
        self.start_timeout = start_timeout
        self.request_timeout = request_timeout
        self._dir = Path(tempfile.mkdtemp(prefix="gitward-opa-"))
        self.socket = str(self._dir / "opa.sock")
        self._log = (self._dir / "opa.log").open("wb")
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start OPA and return once it answers; InvalidPolicyError with its log if it does not."""
        self._process = subprocess.Popen(
            [
                str(self.binary),
                "run",
                "--server",
                "--addr",
                f"unix://{self.socket}",
                "--unix-socket-perm",
                "0600",
                "--log-level",
                "error",
                "--disable-telemetry",
            ],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = self.clock.monotonic() + self.start_timeout
        while True:
            if self._process.poll() is not None:
                raise InvalidPolicyError(
                    f"OPA exited at start ({self._process.returncode}): {self.log()}"
                )
            with contextlib.suppress(OSError, http.client.HTTPException):
                if self._request("GET", "/health", None, timeout=1.0)[0] == 200:
                    return
            if self.clock.monotonic() > deadline:
                self.close()
                raise InvalidPolicyError(f"OPA did not answer within {self.start_timeout:.0f}s")
            self.clock.sleep(0.02)

    def log(self) -> str:
        self._log.flush()
        return (self._dir / "opa.log").read_text(errors="replace")[-2000:].strip()

    def load(self, bundle: RegoBundle) -> None:
        """Load every module, then the batch module; compile errors name file and line.

        A module may use another one's functions; OPA compiles each PUT against what it
        already holds, so modules that fail are retried after the others until a round
        makes no progress. Only then are the remaining errors reported.
        """
        pending = list(bundle.modules)
        errors: dict[str, InvalidPolicyError] = {}
        while pending:
            errors = {}
            for module in pending:
                try:
                    self._put(module.path, module.text)
                except InvalidPolicyError as e:
                    errors[module.path] = e
            if len(errors) == len(pending):
                break
            pending = [m for m in pending if m.path in errors]
        if errors:
            raise next(iter(errors.values()))
        self._put(_BATCH_ID, bundle.batch)

    def _put(self, policy_id: str, text: str) -> None:
        path = "/v1/policies/" + urllib.parse.quote(policy_id, safe="")
        status, body = self._request("PUT", path, text.encode())
        if status != 200:
            raise _compile_error(policy_id, body)

    def evaluate(self, objects: Sequence[JsonObject]) -> list[Any]:
        payload = orjson.dumps({"input": {"objects": list(objects)}})
        status, body = self._request("POST", f"/v1/data/{BATCH_PATH}", payload)
        if status != 200:
            raise InvalidPolicyError(f"OPA could not evaluate the policies: {_message(body)}")
        result = orjson.loads(body).get("result")
        if not isinstance(result, list):
            raise InvalidPolicyError("OPA returned no result for the policy batch")
        return result

    def _request(
        self, method: str, path: str, body: bytes | None, timeout: float | None = None
    ) -> tuple[int, bytes]:
        connection = _UnixConnection(self.socket, timeout or self.request_timeout)
        try:
            headers = {"Content-Type": "application/json"} if body is not None else {}
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def close(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._log.close()
        shutil.rmtree(self._dir, ignore_errors=True)


class OpaPool:
    """A :class:`~gitward.policy.rego.RegoBackend`: one live OPA per policy set in use.

    Sets are keyed by their content digest. When a set's content changes (a new commit of
    the policies), a new server is loaded; the oldest is stopped when more than
    ``max_servers`` are running. A server that died is replaced on the next evaluation.
    """

    def __init__(self, binary: Path, *, clock: Clock | None = None, max_servers: int = 4) -> None:
        self.binary = binary
        self.clock = clock
        self.max_servers = max_servers
        self._servers: dict[str, OpaServer] = {}
        self._lock = threading.Lock()
        self.starts = 0  # how many OPA processes were started: a figure for benchmarks

    def server(self, bundle: RegoBundle) -> OpaServer:
        with self._lock:
            server = self._servers.get(bundle.digest)
            if server is not None and server.alive:
                return server
            if server is not None:
                server.close()
            server = OpaServer(self.binary, clock=self.clock)
            self.starts += 1
            try:
                server.start()
                server.load(bundle)
            except BaseException:
                server.close()
                raise
            self._servers[bundle.digest] = server
            while len(self._servers) > self.max_servers:
                self._servers.pop(next(iter(self._servers))).close()
            return server

    def evaluate(self, bundle: RegoBundle, objects: Sequence[JsonObject]) -> list[Any]:
        return self.server(bundle).evaluate(objects)

    def close(self) -> None:
        with self._lock:
            for server in self._servers.values():
                server.close()
            self._servers.clear()


def _message(body: bytes) -> str:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body.decode(errors="replace")[:500]
    return str(data.get("message", data)) if isinstance(data, dict) else str(data)


def _compile_error(policy_id: str, body: bytes) -> InvalidPolicyError:
    """OPA's ``{"errors": [{"message", "location": {"file", "row", "col"}}]}`` as one error."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return InvalidPolicyError(body.decode(errors="replace")[:500], location=policy_id)
    errors = data.get("errors") or [data] if isinstance(data, dict) else []
    first = errors[0] if errors else {}
    where = first.get("location") or {}
    location = f"{where.get('file') or policy_id}:{where.get('row', 1)}"
    if where.get("col"):
        location += f":{where['col']}"
    text = first.get("message") or _message(body)
    more = f" (and {len(errors) - 1} more error(s))" if len(errors) > 1 else ""
    return InvalidPolicyError(f"Rego does not compile: {text}{more}", location=location)
