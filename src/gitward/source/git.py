"""The source stage's adapter: :class:`GitRepositorySource` implements ``ports.GitSource``.

Before it: an Application's ``spec.source`` (repoURL, targetRevision). After it:
:mod:`gitward.render` reads the tree returned by :meth:`GitRepositorySource.checkout`
(through :func:`gitward.source.tree.app_directory`).

``resolve`` fetches into the repository's mirror (:mod:`.mirror`) and names a commit
(:mod:`.refs`); a full SHA the mirror already holds needs no network. ``checkout``
extracts that commit once (:mod:`.tree`); later checkouts of the same SHA touch
neither the network nor the mirror. All calls block; callers run them in threads.
"""

from __future__ import annotations

from pathlib import Path
from typing import cast
from urllib.parse import unquote, urlsplit

import pygit2

from gitward.errors import RevisionNotFoundError, SourceError
from gitward.model import RepoCredentials, Revision, SignedCommit, SourceKind, SourceSpec
from gitward.source.addresses import AddressPolicy
from gitward.source.fetch_process import DEFAULT_FETCH_TIMEOUT, Fetcher
from gitward.source.mirror import Mirror
from gitward.source.refs import FULL_SHA, available, has_commit, resolve_in
from gitward.source.registries import RegistrySource
from gitward.source.tree import extract_tree
from gitward.source.urls import RepoURL, Transport, parse_repo_url


class GitRepositorySource:
    """Resolves revisions and checks out trees, cached under ``cache_dir``."""

    def __init__(
        self,
        cache_dir: Path,
        fetch_timeout: float = DEFAULT_FETCH_TIMEOUT,
        *,
        addresses: AddressPolicy | None = None,
    ) -> None:
        """``addresses`` says which hosts may be fetched from (default: all but link-local
        and cloud metadata addresses, see :mod:`.addresses`)."""
        self._cache_dir = cache_dir
        self._fetcher = Fetcher(fetch_timeout)  # network fetches, with their deadline
        self._trees = cache_dir / "trees"
        self._addresses = addresses or AddressPolicy()
        self._registries: RegistrySource | None = None

    def registries(self) -> RegistrySource:
        """Charts and OCI artifacts, cached beside the Git cache (built on first use)."""
        if self._registries is None:
            self._registries = RegistrySource(
                self._cache_dir / "registries", addresses=self._addresses
            )
        return self._registries

    def resolve_source(
        self, source: SourceSpec, credentials: RepoCredentials | None = None
    ) -> Revision:
        """A Git source resolves as :meth:`resolve`; the others in :mod:`.registries`."""
        if source.kind() is SourceKind.GIT:
            return self.resolve(source.repo_url, source.target_revision, credentials)
        return self.registries().resolve(source, credentials)

    def checkout_source(
        self, source: SourceSpec, revision: Revision, credentials: RepoCredentials | None = None
    ) -> Path:
        if source.kind() is SourceKind.GIT:
            return self.checkout(revision, credentials)
        return self.registries().checkout(source, revision, credentials)

    def resolve(
        self, repo_url: str, revision: str, credentials: RepoCredentials | None = None
    ) -> Revision:
        """Turn a branch, tag, SHA, semver range or HEAD into a full commit SHA."""
        repo = parse_repo_url(repo_url)
        wanted = revision.strip() or "HEAD"
        mirror = Mirror(self._cache_dir, repo, self._fetcher)
        if FULL_SHA.match(wanted.lower()):
            known = mirror.open()
            if known is not None and has_commit(known, wanted.lower()):
                return Revision(repo.safe, revision, wanted.lower())
        _check_local(repo)  # after the cache: a mirrored commit needs no remote at all
        self._addresses.check(repo)
        git = mirror.update(credentials)
        sha = _resolve_or_explain(git, repo, wanted)
        return Revision(repo.safe, revision, sha)

    def checkout(self, revision: Revision, credentials: RepoCredentials | None = None) -> Path:
        """A read-only directory holding the tree at ``revision.sha``."""
        if not FULL_SHA.match(revision.sha):
            raise SourceError(
                f"checkout of {revision.repo_url}: {revision.sha!r} is not a full commit SHA",
                hint="pass a Revision returned by resolve()",
            )
        target = self._trees / revision.sha
        if target.is_dir():
            return target
        repo = parse_repo_url(revision.repo_url)
        git = self._holding(repo, revision.sha, credentials)
        label = f"commit {revision.short} of {repo.safe}"
        try:
            return extract_tree(git, revision.sha, self._trees, label)
        except (pygit2.GitError, KeyError, ValueError) as e:
            raise SourceError(
                f"checking out {label} failed: {e}",
                hint="the mirror may be damaged; delete it from the cache to fetch it again",
            ) from e
        except OSError as e:
            raise SourceError(
                f"checking out {label} into {self._trees} failed: {e}",
                hint="check that the cache directory is writable and has free space",
                transient=True,
            ) from e

    def signed_commit(
        self, revision: Revision, credentials: RepoCredentials | None = None
    ) -> SignedCommit:
        """The commit at ``revision.sha`` split into its signature and the bytes it signs."""
        repo = parse_repo_url(revision.repo_url)
        git = self._holding(repo, revision.sha, credentials)
        try:
            commit = git[revision.sha].peel(pygit2.Commit)
            # The stubs say bytes; libgit2 gives (None, None) for an unsigned commit.
            signature, payload = cast(tuple[bytes | None, bytes | None], commit.gpg_signature)
        except (pygit2.GitError, KeyError, ValueError) as e:
            raise SourceError(
                f"reading commit {revision.short} of {repo.safe} failed: {e}",
                hint="the mirror may be damaged; delete it from the cache to fetch it again",
            ) from e
        if signature is None:  # the payload is the whole commit object
            return SignedCommit(revision.sha, git[revision.sha].read_raw(), None)
        return SignedCommit(revision.sha, payload or b"", signature.decode(errors="replace"))

    def _holding(
        self, repo: RepoURL, sha: str, credentials: RepoCredentials | None
    ) -> pygit2.Repository:
        """The mirror of ``repo``, fetched first if it does not hold commit ``sha`` yet."""
        mirror = Mirror(self._cache_dir, repo, self._fetcher)
        git = mirror.open()
        if git is None or not has_commit(git, sha):
            self._addresses.check(repo)
            git = mirror.update(credentials)
            if not has_commit(git, sha):
                raise _not_found(git, repo, sha)
        return git


def _resolve_or_explain(git: pygit2.Repository, repo: RepoURL, wanted: str) -> str:
    sha = resolve_in(git, wanted)
    if sha is None:
        raise _not_found(git, repo, wanted)
    return sha


def _not_found(git: pygit2.Repository, repo: RepoURL, wanted: str) -> RevisionNotFoundError:
    return RevisionNotFoundError(
        f"revision {wanted!r} matches no branch, tag, commit or semver range in {repo.safe}",
        hint=f"{available(git)}; set targetRevision to one of them",
    )


def _check_local(repo: RepoURL) -> None:
    """A local repository that does not exist is a typo, not a network problem."""
    if repo.transport is not Transport.LOCAL:
        return
    path = Path(unquote(urlsplit(repo.url).path) if repo.url.startswith("file:") else repo.url)
    if not path.exists():
        raise SourceError(
            f"no Git repository at {path}: the path does not exist",
            hint="check --repo (or spec.source.repoURL)",
            transient=False,
        )
