"""Source stage: resolve a revision and expose its tree, cached by commit SHA or digest.

Before: the Application's ``spec.source``. After: :mod:`gitward.render` reads the tree.

Modules: :mod:`.git` (the ``GitSource`` adapter), :mod:`.mirror` (bare mirrors and their
locks), :mod:`.remote` (libgit2 network, credentials, host keys, errors), :mod:`.refs`
(revision to commit), :mod:`.semver` (ranges over tags), :mod:`.tree` (read-only
checkouts and the application directory), :mod:`.urls` and :mod:`.known_hosts`.
Registry sources (charts, OCI artifacts): :mod:`.registries`, over :mod:`.helmrepo`,
:mod:`.oci`, :mod:`.download` (bounded HTTP, auth) and :mod:`.archive` (confined
unpacking).
"""

from gitward.source.git import GitRepositorySource
from gitward.source.oci import list_tags
from gitward.source.semver import Range, RangeError, Version, parse_range
from gitward.source.tree import app_directory
from gitward.source.urls import RepoURL, Transport, parse_repo_url, scrub_text

__all__ = [
    "GitRepositorySource",
    "Range",
    "RangeError",
    "RepoURL",
    "Transport",
    "Version",
    "app_directory",
    "list_tags",
    "parse_range",
    "parse_repo_url",
    "scrub_text",
]
