"""Turn what an Application asks for into a commit of the mirror.

The order is the one users expect from Argo CD: ``HEAD``; a full ref name; a branch;
a tag; a full SHA; a semver range over the tags (see :mod:`.semver`); a short SHA.
A branch named ``1.2.x`` therefore wins over the range ``1.2.x``, and a range wins
over a short SHA made of digits only when some tag matches it.
"""

from __future__ import annotations

import re

import pygit2

from gitward.source.semver import RangeError, parse_range

FULL_SHA = re.compile(r"^[0-9a-f]{40}$")
_SHORT_SHA = re.compile(r"^[0-9a-f]{4,39}$")


def has_commit(git: pygit2.Repository, sha: str) -> bool:
    """Whether the mirror holds the commit ``sha`` (a full SHA)."""
    obj = git.get(sha)
    return isinstance(obj, pygit2.Commit)


def resolve_in(git: pygit2.Repository, wanted: str) -> str | None:
    """The full commit SHA ``wanted`` names in ``git``, or None if it names nothing."""
    if wanted == "HEAD":
        return _head(git)
    candidates = [wanted] if wanted.startswith("refs/") else []
    candidates += [f"refs/heads/{wanted}", f"refs/tags/{wanted}"]
    for name in candidates:
        if _has_reference(git, name):
            return _peel(git, name)
    lowered = wanted.lower()
    if FULL_SHA.match(lowered):
        return lowered if has_commit(git, lowered) else None
    tag = _best_tag(git, wanted)
    if tag is not None:
        return _peel(git, f"refs/tags/{tag}")
    if _SHORT_SHA.match(lowered):
        return _short(git, lowered)
    return None


def _has_reference(git: pygit2.Repository, name: str) -> bool:
    """Whether ``name`` is a reference; a name Git cannot hold (too long, NUL, ...) is not."""
    try:
        return name in git.references
    except (ValueError, pygit2.GitError):
        return False


def available(git: pygit2.Repository, limit: int = 8) -> str:
    """A few branches and tags, newest-looking first, for an error hint."""
    branches = sorted(_names(git, "refs/heads/"))
    tags = sorted(_names(git, "refs/tags/"), reverse=True)
    shown = [f"branch {b}" for b in branches[: limit // 2]] + [f"tag {t}" for t in tags]
    if not shown:
        return "the repository has no branches or tags"
    more = len(branches) + len(tags) - len(shown[:limit])
    text = ", ".join(shown[:limit])
    return f"available: {text}" + (f" and {more} more" if more > 0 else "")


def _names(git: pygit2.Repository, prefix: str) -> list[str]:
    return [r.removeprefix(prefix) for r in git.references if r.startswith(prefix)]


def _head(git: pygit2.Repository) -> str | None:
    try:
        return str(git.head.peel(pygit2.Commit).id)
    except (pygit2.GitError, KeyError, ValueError):
        return None


def _peel(git: pygit2.Repository, name: str) -> str | None:
    try:
        return str(git.references[name].peel(pygit2.Commit).id)
    except (pygit2.GitError, KeyError, ValueError):  # a tag of a tree or blob
        return None


def _best_tag(git: pygit2.Repository, wanted: str) -> str | None:
    try:
        wanted_range = parse_range(wanted)
    except RangeError:
        return None
    return wanted_range.best(_names(git, "refs/tags/"))


def _short(git: pygit2.Repository, prefix: str) -> str | None:
    try:
        obj = git.revparse_single(prefix)
    except (pygit2.GitError, KeyError, ValueError):  # unknown or ambiguous
        return None
    return str(obj.id) if obj.type == pygit2.enums.ObjectType.COMMIT else None
