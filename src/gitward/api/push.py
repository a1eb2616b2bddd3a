"""What a Git push webhook tells gitward, the same for every provider.

Before: :mod:`gitward.api.push_payloads` reads each provider's JSON into these values.
After: the controller matches :attr:`PushEvent.repo_urls` against each application's
``repoURL`` and refreshes the applications that track the pushed ref.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from gitward.api.repo_urls import normalize_repo_url

ZERO_SHA = "0" * 40
"""Git's name for "no object": ``before`` of a created ref, ``after`` of a deleted one."""


class Provider(StrEnum):
    """The Git hosting products whose push webhooks gitward understands."""

    GITHUB = "github"  # github.com and GitHub Enterprise Server
    GITLAB = "gitlab"
    GITEA = "gitea"  # Gitea, and Forgejo and Gogs, which send the same payloads
    BITBUCKET = "bitbucket"  # Bitbucket Cloud (bitbucket.org)
    BITBUCKET_SERVER = "bitbucket-server"  # Bitbucket Data Center / Server


@dataclass(frozen=True)
class PushEvent:
    """One ref moved (or was created, or deleted) in one repository.

    ``repo_urls`` holds every form of the repository's URL the payload names, already
    reduced by :func:`normalize_repo_url`; use :meth:`concerns` to match a ``repoURL``.

    ``after`` is the object the ref now points to, or :data:`ZERO_SHA` when the ref was
    deleted. Deletions are reported as pushes on purpose: an application that tracks a
    deleted branch or tag must be refreshed so that it reports the missing revision
    instead of silently keeping its last state. For GitLab, ``after`` is the commit
    (``checkout_sha``); for an annotated tag on other providers it may be the tag object,
    so the controller resolves the ref itself rather than trusting ``after`` blindly.

    ``changed_paths`` lists the files the pushed commits added, modified or removed, when
    the payload lists them completely. It is empty when they are unknown: the provider
    sends none (Bitbucket), the list may be truncated, the ref was created or deleted, or
    the push was forced (commits that vanished changed files too). Empty means "anything
    may have changed", never "nothing changed". GitLab and Gitea do not mark forced
    pushes, so their lists miss the files of commits a force push removed; use the paths
    to skip work, and rely on the periodic refresh to catch what a hint misses.
    """

    provider: Provider
    repository: str  # the provider's name for it, e.g. "org/repo", for messages and logs
    repo_urls: frozenset[str]
    ref: str  # the full ref name, "refs/heads/main" or "refs/tags/v1.2.0"
    after: str
    before: str = ZERO_SHA
    changed_paths: frozenset[str] = frozenset()

    @property
    def branch(self) -> str | None:
        """The branch name if a branch was pushed, else None."""
        return self.ref.removeprefix("refs/heads/") if self.ref.startswith("refs/heads/") else None

    @property
    def tag(self) -> str | None:
        """The tag name if a tag was pushed, else None."""
        return self.ref.removeprefix("refs/tags/") if self.ref.startswith("refs/tags/") else None

    @property
    def created(self) -> bool:
        """The ref did not exist before this push."""
        return _is_zero(self.before)

    @property
    def deleted(self) -> bool:
        """The push deleted the ref."""
        return _is_zero(self.after)

    def concerns(self, repo_url: str) -> bool:
        """Whether ``repo_url`` (as a user configured it) names the pushed repository."""
        return normalize_repo_url(repo_url) in self.repo_urls


def _is_zero(sha: str) -> bool:
    return not sha.strip("0")
