"""Network fetches run in a child process, so that a deadline can stop them.

libgit2 has no deadline for a whole fetch: its server timeout bounds each socket read,
and its transfer callbacks fire only every 100 KB, so a server that trickles a few bytes
a second keeps a fetch — and the thread running it, which Python cannot stop — busy for
as long as it likes. :func:`fetch_with_deadline` therefore runs
:func:`gitward.source.remote.fetch_into` in ``python -m gitward.source.fetch_process``
and kills it when the deadline passes. Local repositories need no such guard and are
fetched in-process by :mod:`.mirror`.

The request travels on stdin (credentials never show in the process list); the answer
is one JSON object on stdout: the remote HEAD, or the error to raise. A killed fetch
may leave lock files in the mirror; :func:`clear_stale_locks` removes them while the
caller holds the mirror's lock. A pack cut off half-way is never referenced: libgit2
indexes a pack under a temporary name and moves it in only once it is complete.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

from gitward.errors import SourceError
from gitward.model import RepoCredentials
from gitward.source.urls import RepoURL, Transport, scrub_text

log = logging.getLogger(__name__)

DEFAULT_FETCH_TIMEOUT = 120.0  # seconds for one whole fetch of one repository
_CHILD = [sys.executable, "-m", "gitward.source.fetch_process"]
_STALE = ("**/*.lock", "objects/pack/pack_git2_*", "objects/pack/tmp_*")


def fetch_with_deadline(
    mirror: Path, repo: RepoURL, credentials: RepoCredentials | None, timeout: float
) -> dict[str, Any] | None:
    """Fetch into the bare repository at ``mirror``; the remote HEAD as a dict, or None.

    Raises :class:`SourceError` (transient) when the fetch takes longer than ``timeout``
    seconds, naming the deadline so a person can tell a slow server from a dead one.
    """
    request = {
        "mirror": str(mirror),
        "repo": {**dataclasses.asdict(repo), "transport": repo.transport.value},
        "credentials": dataclasses.asdict(credentials) if credentials else None,
    }
    try:
        done = subprocess.run(
            _CHILD,
            input=json.dumps(request).encode(),
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as e:
        clear_stale_locks(mirror)
        raise SourceError(
            f"fetching {repo.safe} failed: no complete answer within the fetch deadline "
            f"of {timeout:g}s, so the fetch was stopped",
            hint="the Git server is stalled or very slow; gitward retries. If the "
            "repository is just large, raise the Git fetch timeout",
            transient=True,
        ) from e
    return _answer(done, repo, credentials)


def _answer(
    done: subprocess.CompletedProcess[bytes], repo: RepoURL, credentials: RepoCredentials | None
) -> dict[str, Any] | None:
    secrets = (repo.password, credentials.password if credentials else None)
    try:
        answer = json.loads(done.stdout)
    except ValueError:
        answer = None
    if done.returncode != 0 or not isinstance(answer, dict):
        detail = scrub_text(done.stderr.decode(errors="replace"), secrets).strip()
        raise SourceError(
            f"fetching {repo.safe} failed: the fetch process exited with {done.returncode}"
            + (f": {detail.splitlines()[-1]}" if detail else ""),
            hint="gitward retries; if this persists, report it with the log",
            transient=True,
        )
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


def _child() -> int:
    """The child's side: read the request, fetch, print the answer."""
    import pygit2  # noqa: PLC0415 - only the child needs it at this point

    from gitward.source.remote import fetch_into  # noqa: PLC0415

    request = json.loads(sys.stdin.buffer.read())
    repo = RepoURL(**{**request["repo"], "transport": Transport(request["repo"]["transport"])})
    raw = request["credentials"]
    credentials = RepoCredentials(**raw) if raw else None
    try:
        head = fetch_into(pygit2.Repository(request["mirror"]), repo, credentials)
    except SourceError as e:
        answer: dict[str, Any] = {
            "error": {"message": e.message, "hint": e.hint, "transient": e.transient}
        }
    else:
        answer = {"head": None if head is None else {"sha": head.sha, "branch": head.branch}}
    sys.stdout.write(json.dumps(answer))
    return 0


if __name__ == "__main__":
    sys.exit(_child())
