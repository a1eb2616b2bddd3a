"""The child side of :mod:`.fetch_process`: answer one fetch request per stdin line.

Run as ``python -m gitward.source.fetch_child`` by a :class:`~.fetch_process.Fetcher`,
never imported by the package (so ``-m`` runs it fresh). Each request names a mirror,
a repository and its credentials; each answer is one JSON line: the remote HEAD, or the
:class:`~gitward.errors.SourceError` to raise in the parent. It exits when stdin closes,
which also happens when the parent dies.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import pygit2

from gitward.errors import SourceError
from gitward.model import RepoCredentials
from gitward.source.remote import fetch_into
from gitward.source.urls import RepoURL, Transport


def _serve_requests() -> int:
    """Answer one request per line until stdin closes."""
    for line in sys.stdin.buffer:
        request = json.loads(line)
        raw = request["repo"]
        repo = RepoURL(**{**raw, "transport": Transport(raw["transport"])})
        creds = request["credentials"]
        credentials = RepoCredentials(**creds) if creds else None
        try:
            head = fetch_into(pygit2.Repository(request["mirror"]), repo, credentials)
        except SourceError as e:
            answer: dict[str, Any] = {
                "error": {"message": e.message, "hint": e.hint, "transient": e.transient}
            }
        else:
            answer = {"head": None if head is None else {"sha": head.sha, "branch": head.branch}}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(_serve_requests())
