"""Commit subjects for the list's Revision column, read from gitward's own mirrors.

Before: the controller synced a commit, so its repository's bare mirror (in the cache,
:mod:`gitward.source.mirror`) holds it. After: each row of the Applications list shows
the first line of that commit's message next to its short SHA, and the text search
matches it.

No network and no lock: a mirror is read as it is; a commit or mirror not there yet
gives an empty subject, asked again later. A commit never changes, so subjects are kept
(bounded) once found.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pygit2

from gitward.errors import GitwardError
from gitward.source.mirror import Mirror
from gitward.source.urls import parse_repo_url

MAX_KEPT = 50_000
RETRY = 30.0  # seconds before a repository without a mirror is looked for again


class CommitSubjects:
    def __init__(self, git_cache: Path | None, clock: Callable[[], float] = time.monotonic):
        self.git_cache = git_cache
        self.clock = clock
        self._subjects: dict[tuple[str, str], str] = {}
        self._repos: dict[str, tuple[pygit2.Repository | None, float]] = {}

    def __call__(self, repo_url: str, sha: str | None) -> str:
        """The subject of commit ``sha`` of ``repo_url``; "" if it is not mirrored (yet)."""
        if not sha or self.git_cache is None:
            return ""
        key = (repo_url, sha)
        if key in self._subjects:
            return self._subjects[key]
        git = self._repository(self.git_cache, repo_url)
        if git is None:
            return ""
        try:
            found = git.get(sha)
            commit = None if found is None else found.peel(pygit2.Commit)
        except (ValueError, KeyError, pygit2.GitError):
            return ""
        if commit is None:
            return ""
        subject = commit.message.strip().split("\n", 1)[0][:200]
        if len(self._subjects) >= MAX_KEPT:
            self._subjects.clear()
        self._subjects[key] = subject
        return subject

    def _repository(self, git_cache: Path, repo_url: str) -> pygit2.Repository | None:
        cached = self._repos.get(repo_url)
        if cached is not None and (cached[0] is not None or self.clock() < cached[1]):
            return cached[0]
        try:
            git = Mirror(git_cache, parse_repo_url(repo_url)).open()
        except (GitwardError, pygit2.GitError):
            git = None
        self._repos[repo_url] = (git, self.clock() + RETRY)
        return git
