"""One bare mirror per repository in the cache, fetched incrementally under a file lock.

:class:`~gitward.source.git.GitRepositorySource` asks a :class:`Mirror` for a commit;
the mirror fetches only when the commit or ref is not there yet (or the ref may have
moved), via :func:`gitward.source.remote.fetch_into`. The checked-out trees are made
from the mirror by :mod:`.tree`.

Layout under the cache directory::

    mirrors/<hash of the credential-free URL>.git    bare repository
    mirrors/<hash>.lock                              flock(2) held while fetching

A fetch over the network has a deadline (:mod:`.fetch_process`); lock files a stopped
or killed fetch left behind are removed before the next one, under the lock.

The lock is an ``flock`` on its own file, so two processes (or two threads, each with
its own open file) never fetch into one mirror at once. Readers take no lock: libgit2
writes objects before refs and replaces refs atomically.
"""

from __future__ import annotations

import fcntl
import logging
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pygit2

from gitward.model import RepoCredentials
from gitward.source.fetch_process import Fetcher, clear_stale_locks
from gitward.source.remote import RemoteHead, fetch_into
from gitward.source.urls import RepoURL, Transport

log = logging.getLogger(__name__)


class Mirror:
    """The bare mirror of one repository."""

    def __init__(self, cache_dir: Path, repo: RepoURL, fetcher: Fetcher | None = None) -> None:
        self.repo = repo
        self.fetcher = fetcher
        self.path = cache_dir / "mirrors" / f"{repo.cache_key}.git"
        self._lock_path = cache_dir / "mirrors" / f"{repo.cache_key}.lock"

    def open(self) -> pygit2.Repository | None:
        """The mirror as it is now, without network; None if it was never fetched."""
        if not (self.path / "HEAD").is_file():
            return None
        return pygit2.Repository(str(self.path))

    def update(self, credentials: RepoCredentials | None) -> pygit2.Repository:
        """Fetch every branch and tag (only what is new), then return the mirror."""
        with self._locked():
            git = self.open() or self._create()
            clear_stale_locks(self.path)  # left by a fetch that was killed
            started = time.monotonic()
            head = self._fetch(git, credentials)
            _record_head(git, head)
            log.debug("fetched %s in %.3fs", self.repo.safe, time.monotonic() - started)
        return pygit2.Repository(str(self.path))  # a fresh handle sees the new packs

    def _fetch(
        self, git: pygit2.Repository, credentials: RepoCredentials | None
    ) -> RemoteHead | None:
        """Local repositories in-process; network ones in a child a deadline can stop."""
        if self.repo.transport is Transport.LOCAL:
            return fetch_into(git, self.repo, credentials)
        if self.fetcher is None:
            self.fetcher = Fetcher()
        head = self.fetcher.fetch(self.path, self.repo, credentials)
        return None if head is None else RemoteHead(str(head["sha"]), head.get("branch"))

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self._lock_path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock_path.open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _create(self) -> pygit2.Repository:
        """Initialise the bare repository in a temporary place, then move it in."""
        staging = Path(tempfile.mkdtemp(prefix=".init-", dir=self.path.parent))
        try:
            pygit2.init_repository(str(staging / "repo.git"), bare=True)
            (staging / "repo.git" / "description").write_text(
                f"gitward mirror of {self.repo.safe}\n"
            )
            (staging / "repo.git").rename(self.path)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return pygit2.Repository(str(self.path))


def _record_head(git: pygit2.Repository, head: RemoteHead | None) -> None:
    """Point the mirror's HEAD where the server's HEAD points."""
    if head is None:
        return
    if head.branch and head.branch in git.references:
        git.set_head(head.branch)
    elif head.sha in git:
        git.set_head(pygit2.Oid(hex=head.sha))
