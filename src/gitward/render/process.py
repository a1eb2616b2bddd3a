"""Run ``kustomize`` and ``helm`` with a deadline, without network, in a private home.

Rendering must be a function of the commit alone: a chart or kustomization that reaches
the network would make the result depend on the day, and a slow remote would stall the
reconcile loop. So each run gets an environment built from scratch (nothing inherited):

* ``HTTP(S)_PROXY`` and ``ALL_PROXY`` point at ``127.0.0.1:1``, where nothing listens,
  so any HTTP fetch is refused at once instead of hanging; ``NO_PROXY`` is not set.
* ``GIT_ALLOW_PROTOCOL=file`` stops the ``git`` that kustomize runs for remote bases
  from using https, ssh or git; the user's git configuration is ignored.
* ``HOME``, the XDG directories and Helm's cache, config and data homes live in a
  temporary directory, so no repository list, registry login or plugin of the host is
  used.

A run that outlives its deadline, or writes more than
:data:`gitward.loading.MAX_TEXT_BYTES` of output (a template looping forever), is
killed with its whole process group (kustomize starts ``git`` and ``helm``); output
is read as it comes, so memory never holds more than that bound. Used by
:mod:`gitward.render.kustomize` and :mod:`gitward.render.helm`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import IO

from gitward.errors import RenderError, ToolchainError
from gitward.loading import MAX_TEXT_BYTES

CLOSED_PROXY = "http://127.0.0.1:1"
# What a refused network access looks like in the output of Go's HTTP client and git.
_OFFLINE_MARKERS = ("127.0.0.1:1", "transport 'https' not allowed", "transport 'ssh' not allowed")
_OFFLINE_HINT = (
    "gitward renders without network: vendor remote bases, resources and charts into the repository"
)
_MAX_ERROR_LINES = 30
_MAX_STDERR_BYTES = 1024 * 1024  # the end of the error output is kept, the rest dropped
_HEAD_BYTES = 16 * 1024  # and its beginning, where a Go runtime crash says what it was
_GO_CRASH_PREFIXES = ("fatal error: ", "runtime: goroutine stack exceeds")


def offline_environment(home: Path, search_path: str) -> dict[str, str]:
    """The complete environment of a render run, with every private directory under ``home``."""
    env = {
        "PATH": search_path,
        "HOME": str(home),
        "TMPDIR": str(home),
        "LANG": "C.UTF-8",
        "GIT_ALLOW_PROTOCOL": "file",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
    }
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        env[name] = env[name.lower()] = CLOSED_PROXY
    for name, sub in (
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_CACHE_HOME", "cache"),
        ("XDG_DATA_HOME", "data"),
        ("HELM_CONFIG_HOME", "helm/config"),
        ("HELM_CACHE_HOME", "helm/cache"),
        ("HELM_DATA_HOME", "helm/data"),
    ):
        directory = home / sub
        directory.mkdir(parents=True, exist_ok=True)
        env[name] = str(directory)
    return env


def trim_stderr(stderr: str) -> str:
    """The useful end of a program's error output: its last lines, stripped."""
    lines = [line.rstrip() for line in stderr.strip().splitlines() if line.strip()]
    if len(lines) > _MAX_ERROR_LINES:
        lines = ["...", *lines[-_MAX_ERROR_LINES:]]
    return "\n".join(lines) or "(no error output)"


def go_crash(stderr_head: str) -> str | None:
    """What a crashed Go runtime said, without its goroutine dump; ``None`` if it did not crash.

    A Go program (kustomize, helm, go-jsonnet in the Jsonnet child) that overflows its
    stack or runs out of memory aborts with ``fatal error: ...`` followed by hundreds of
    lines of goroutine traces. The person needs the first lines, not the traces."""
    said = [
        line.strip() for line in stderr_head.splitlines() if line.startswith(_GO_CRASH_PREFIXES)
    ]
    return "\n".join(said) if said else None


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


class _Drain(threading.Thread):
    """Reads one pipe of a run to its end, keeping at most ``limit`` bytes.

    ``stop`` is called once the limit is passed (standard output: the run is killed, so a
    template that loops forever cannot fill the memory); without it the oldest bytes are
    dropped instead (standard error: its end says what went wrong).
    """

    def __init__(self, pipe: IO[bytes], limit: int, stop: Callable[[], None] | None) -> None:
        super().__init__(daemon=True)
        self._pipe = pipe
        self._limit = limit
        self._on_overflow = stop
        self._chunks: deque[bytes] = deque()
        self._size = 0
        self.head = bytearray()
        self.overflowed = False

    def run(self) -> None:
        with self._pipe:
            while chunk := os.read(self._pipe.fileno(), 65536):
                if self.overflowed:
                    continue  # drain what the killed run still wrote
                if len(self.head) < _HEAD_BYTES:
                    self.head += chunk[: _HEAD_BYTES - len(self.head)]
                self._chunks.append(chunk)
                self._size += len(chunk)
                if self._size > self._limit:
                    self._overflow()

    def _overflow(self) -> None:
        if self._on_overflow is not None:
            self.overflowed = True
            self._chunks.clear()
            self._on_overflow()
            return
        while self._size > self._limit and len(self._chunks) > 1:
            self._size -= len(self._chunks.popleft())

    def text(self) -> str:
        return b"".join(self._chunks).decode("utf-8", errors="replace")


def _start(argv: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    try:
        return subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as e:
        raise ToolchainError(
            f"cannot run {argv[0]}: {e.strerror}",
            hint="check the kustomize and helm paths given to the renderer",
        ) from e


def run_tool(
    argv: list[str],
    *,
    what: str,
    location: str,
    env: dict[str, str],
    cwd: Path,
    timeout: float,
    max_output: int = MAX_TEXT_BYTES,
) -> str:
    """The standard output of ``argv``; a :class:`RenderError` naming ``location`` if it fails.

    ``what`` names the run for a person ("kustomize build"); ``location`` is the
    application path in the repository. A run that writes more than ``max_output``
    bytes is stopped: its output would be refused by the parser anyway.
    """
    process = _start(argv, env, cwd)
    stdout, stderr = process.stdout, process.stderr
    if stdout is None or stderr is None:  # pragma: no cover - both are PIPE
        raise ToolchainError(f"{what}: the run has no output pipes")
    out = _Drain(stdout, max_output, stop=lambda: _kill_group(process))
    err = _Drain(stderr, _MAX_STDERR_BYTES, stop=None)
    out.start()
    err.start()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired as e:
        _kill_group(process)
        process.wait()
        raise RenderError(
            f"{what} did not finish within {timeout:g} s and was stopped",
            location=location,
            hint="a render must not need the network; check for remote bases or charts",
        ) from e
    finally:
        out.join()
        err.join()
    if out.overflowed:
        raise RenderError(
            f"{what} wrote more than {max_output // (1024 * 1024)} MiB and was stopped",
            location=location,
            hint="no application renders this much; look for a template that loops",
        )
    if process.returncode != 0:
        crash = go_crash(bytes(err.head).decode("utf-8", errors="replace"))
        if crash is not None:
            raise RenderError(
                f"{what} crashed:\n{crash}",
                location=location,
                hint="a recursion that never ends, or an input too large for the memory limit",
            )
        message = trim_stderr(err.text())
        offline = any(marker in message for marker in _OFFLINE_MARKERS)
        raise RenderError(
            f"{what} failed:\n{message}", location=location, hint=_OFFLINE_HINT if offline else None
        )
    return out.text()
