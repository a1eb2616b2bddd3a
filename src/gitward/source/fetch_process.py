"""Network fetches run in child processes, so that a deadline can stop them.

libgit2 has no deadline for a whole fetch: its server timeout bounds each socket read,
and its transfer callbacks fire only every 100 KB, so a server that trickles a few bytes
a second keeps a fetch — and the thread running it, which Python cannot stop — busy for
as long as it likes. A :class:`Fetcher` therefore runs
:func:`gitward.source.remote.fetch_into` in long-lived children
(``python -m gitward.source.fetch_child``), one per concurrent fetch, and kills the
child whose fetch outlives its deadline. Children are reused, so a fetch pays no process
start; local repositories need no such guard and are fetched in-process by
:mod:`.mirror`.

Requests travel on the child's stdin (credentials never show in the process list), one
JSON object per line; each answer is one JSON line on its stdout: the remote HEAD, or
the error to raise. A killed fetch may leave lock files in the mirror;
:func:`clear_stale_locks` removes them while the caller holds the mirror's lock. A pack
cut off half-way is never referenced: libgit2 indexes a pack under a temporary name and
moves it in only once it is complete.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import select
import subprocess
import sys
import threading
import time
import weakref
from pathlib import Path
from typing import Any

from gitward.errors import SourceError
from gitward.model import RepoCredentials
from gitward.source.urls import RepoURL, scrub_text

log = logging.getLogger(__name__)

DEFAULT_FETCH_TIMEOUT = 120.0  # seconds for one whole fetch of one repository
_CHILD = [sys.executable, "-m", "gitward.source.fetch_child"]
_STALE = ("**/*.lock", "objects/pack/pack_git2_*", "objects/pack/tmp_*")
_KEEP_IDLE = 4


class _ChildGone(Exception):  # noqa: N818 - internal signal, never leaves this module
    """The child exited (or answered garbage) instead of answering."""


class _Child:
    """One fetching process; :meth:`ask` sends a request and waits for the answer line."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            _CHILD, stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0
        )

    def ask(self, request: dict[str, Any], timeout: float) -> dict[str, Any]:
        stdin, stdout = self.proc.stdin, self.proc.stdout
        if stdin is None or stdout is None:  # pragma: no cover - both are pipes
            raise _ChildGone("no pipes")
        try:
            stdin.write(json.dumps(request).encode() + b"\n")
        except OSError as e:
            raise _ChildGone(str(e)) from e
        deadline = time.monotonic() + timeout
        fd, answer = stdout.fileno(), b""
        while not answer.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                raise TimeoutError
            chunk = os.read(fd, 65536)
            if not chunk:
                raise _ChildGone(f"exit status {self.proc.wait()}")
            answer += chunk
        try:
            parsed = json.loads(answer)
        except ValueError as e:
            raise _ChildGone("an unreadable answer") from e
        if not isinstance(parsed, dict):
            raise _ChildGone("an unreadable answer")
        return parsed

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()


def _close_all(children: list[_Child]) -> None:
    for child in children:
        child.close()
    children.clear()


class Fetcher:
    """Fetches over the network with a deadline, in reusable child processes."""

    def __init__(self, timeout: float = DEFAULT_FETCH_TIMEOUT) -> None:
        self.timeout = timeout
        self._idle: list[_Child] = []
        self._lock = threading.Lock()
        # Stop idle children with their fetcher (and at exit); a child also ends by
        # itself when this process dies, as its stdin closes.
        self._finalizer = weakref.finalize(self, _close_all, self._idle)

    def close(self) -> None:
        self._finalizer()

    def fetch(
        self, mirror: Path, repo: RepoURL, credentials: RepoCredentials | None
    ) -> dict[str, Any] | None:
        """Fetch into the bare repository at ``mirror``; the remote HEAD as a dict, or None.

        Raises :class:`SourceError` (transient) when the fetch takes longer than the
        deadline, naming it so a person can tell a slow server from a dead one.
        """
        request = {
            "mirror": str(mirror),
            "repo": {**dataclasses.asdict(repo), "transport": repo.transport.value},
            "credentials": dataclasses.asdict(credentials) if credentials else None,
        }
        child = self._take()
        try:
            answer = child.ask(request, self.timeout)
        except TimeoutError:
            child.close()
            clear_stale_locks(mirror)
            raise SourceError(
                f"fetching {repo.safe} failed: no complete answer within the fetch deadline "
                f"of {self.timeout:g}s, so the fetch was stopped",
                hint="the Git server is stalled or very slow; gitward retries. If the "
                "repository is just large, raise the Git fetch timeout",
                transient=True,
            ) from None
        except _ChildGone as e:
            child.close()
            secrets = (repo.password, credentials.password if credentials else None)
            why = scrub_text(str(e), secrets)
            raise SourceError(
                f"fetching {repo.safe} failed: the fetch process stopped ({why})",
                hint="gitward retries; if this persists, report it with the log",
                transient=True,
            ) from None
        self._give(child)
        return _result(answer)

    def _take(self) -> _Child:
        with self._lock:
            while self._idle:
                child = self._idle.pop()
                if child.proc.poll() is None:
                    return child
                child.close()
        return _Child()

    def _give(self, child: _Child) -> None:
        with self._lock:
            if len(self._idle) < _KEEP_IDLE and self._finalizer.alive:
                self._idle.append(child)
                return
        child.close()


def _result(answer: dict[str, Any]) -> dict[str, Any] | None:
    if "error" in answer:
        error = answer["error"]
        raise SourceError(
            str(error["message"]), hint=error.get("hint"), transient=bool(error["transient"])
        )
    head = answer.get("head")
    return head if isinstance(head, dict) else None


def clear_stale_locks(mirror: Path) -> list[Path]:
    """Remove lock and temporary files a killed fetch left in ``mirror``.

    Only call it while holding the mirror's lock: then no fetch is running, and every
    such file belongs to one that died (a ``kill -9`` of gitward, or a deadline).
    """
    removed = []
    for pattern in _STALE:
        for path in mirror.glob(pattern):
            if path.is_file():
                path.unlink(missing_ok=True)
                removed.append(path)
    if removed:
        log.warning("removed %d stale files a stopped fetch left in %s", len(removed), mirror)
    return removed
