"""Read each provider's push payload into :class:`~gitward.api.push.PushEvent` values.

Before: :func:`gitward.api.webhooks.parse_push` has verified the signature, checked that
the event is a push and decoded the JSON. After: the controller matches the events to
applications.

Each reader names the fields it needs by their path in the payload, so a malformed or
unexpected body fails with a message that says which field is missing or of the wrong
type, instead of a ``KeyError`` deep in the controller. Fields gitward does not need are
never read, so provider additions do not break anything.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from gitward.api.errors import WebhookPayloadError
from gitward.api.push import ZERO_SHA, Provider, PushEvent
from gitward.api.repo_urls import normalize_repo_url

Json = Mapping[str, object]

_SHA = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
GITHUB_MAX_COMMITS = 2048  # GitHub lists at most this many commits in a push payload
GITHUB_MAX_FILES = 3000  # ... and at most this many changed files per commit


class _Reader:
    """Typed access to one payload, with messages that name the provider and the field."""

    def __init__(self, provider: Provider) -> None:
        self.provider = provider

    def fail(self, path: str, problem: str) -> WebhookPayloadError:
        return WebhookPayloadError(
            f"{self.provider} push webhook: {path} {problem}",
            hint="check that the webhook sends push events as JSON from a supported provider",
        )

    def obj(self, parent: Json, key: str, path: str) -> Json:
        value = parent.get(key)
        if not isinstance(value, Mapping):
            raise self.fail(path, "is missing or not an object")
        return value

    def opt_obj(self, parent: Json, key: str, path: str) -> Json | None:
        return None if parent.get(key) is None else self.obj(parent, key, path)

    def text(self, parent: Json, key: str, path: str) -> str:
        value = parent.get(key)
        if not isinstance(value, str) or not value:
            raise self.fail(path, "is missing or not a non-empty string")
        return value

    def opt_text(self, parent: Json, key: str, path: str) -> str | None:
        return None if parent.get(key) in (None, "") else self.text(parent, key, path)

    def items(self, parent: Json, key: str, path: str) -> Sequence[Json]:
        """A list of objects; absent or null is an empty list (deletes carry no commits)."""
        value = parent.get(key)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
            raise self.fail(path, "is not a list of objects")
        return value

    def flag(self, parent: Json, key: str, path: str) -> bool:
        value = parent.get(key, False)
        if not isinstance(value, bool):
            raise self.fail(path, "is not a boolean")
        return value

    def count(self, parent: Json, key: str, path: str) -> int | None:
        value = parent.get(key)
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.fail(path, "is not an integer")
        return value

    def sha(self, value: str | None, path: str) -> str:
        if value is None:
            return ZERO_SHA
        if not _SHA.match(value):
            raise self.fail(path, f"is not a full commit SHA: {value[:80]!r}")
        return value

    def ref(self, value: str, path: str) -> str:
        if not value.startswith("refs/"):
            raise self.fail(path, f"is not a full ref name (refs/...): {value[:200]!r}")
        return value

    def urls(self, parent: Json, keys: Iterable[str], path: str) -> frozenset[str]:
        found = {self.opt_text(parent, k, f"{path}.{k}") for k in keys}
        urls = frozenset(normalize_repo_url(u) for u in found if u)
        if not urls:
            raise self.fail(path, f"names no repository URL (looked for {', '.join(keys)})")
        return urls

    def paths(self, commits: Sequence[Json], *, max_files: int | None = None) -> frozenset[str]:
        """Files the commits added, modified or removed; empty if a list may be cut short."""
        found: set[str] = set()
        for i, commit in enumerate(commits):
            files: list[str] = []
            for key in ("added", "modified", "removed"):
                value = commit.get(key)
                if value is None:
                    return frozenset()  # this provider does not list files: unknown
                if not isinstance(value, list) or not all(isinstance(p, str) for p in value):
                    raise self.fail(f"commits[{i}].{key}", "is not a list of paths")
                files.extend(value)
            if max_files is not None and len(files) >= max_files:
                return frozenset()
            found.update(files)
        return frozenset(found)


def _zero(sha: str) -> bool:
    return not sha.strip("0")


def read_github(payload: Json) -> tuple[PushEvent, ...]:
    """GitHub: one ref per delivery; ``forced``/``created``/``deleted`` are explicit."""
    r = _Reader(Provider.GITHUB)
    repo = r.obj(payload, "repository", "repository")
    commits = r.items(payload, "commits", "commits")
    unsure = any(r.flag(payload, k, k) for k in ("forced", "created", "deleted"))
    unsure = unsure or not commits or len(commits) >= GITHUB_MAX_COMMITS
    keys = ("clone_url", "ssh_url", "html_url", "git_url", "svn_url")
    return (
        PushEvent(
            provider=r.provider,
            repository=r.text(repo, "full_name", "repository.full_name"),
            repo_urls=r.urls(repo, keys, "repository"),
            ref=r.ref(r.text(payload, "ref", "ref"), "ref"),
            after=r.sha(r.text(payload, "after", "after"), "after"),
            before=r.sha(r.opt_text(payload, "before", "before"), "before"),
            changed_paths=frozenset() if unsure else r.paths(commits, max_files=GITHUB_MAX_FILES),
        ),
    )


def read_gitea(payload: Json) -> tuple[PushEvent, ...]:
    """Gitea/Forgejo: GitHub's shape; commits are capped and ``total_commits`` says so."""
    r = _Reader(Provider.GITEA)
    repo = r.obj(payload, "repository", "repository")
    commits = r.items(payload, "commits", "commits")
    before = r.sha(r.opt_text(payload, "before", "before"), "before")
    after = r.sha(r.text(payload, "after", "after"), "after")
    total = r.count(payload, "total_commits", "total_commits")
    complete = bool(commits) and total == len(commits) and not _zero(before) and not _zero(after)
    return (
        PushEvent(
            provider=r.provider,
            repository=r.text(repo, "full_name", "repository.full_name"),
            repo_urls=r.urls(repo, ("clone_url", "ssh_url", "html_url"), "repository"),
            ref=r.ref(r.text(payload, "ref", "ref"), "ref"),
            after=after,
            before=before,
            changed_paths=r.paths(commits) if complete else frozenset(),
        ),
    )


def read_gitlab(payload: Json) -> tuple[PushEvent, ...]:
    """GitLab: branch and tag pushes (also via system hooks); at most 20 commits listed."""
    r = _Reader(Provider.GITLAB)
    if payload.get("object_kind") not in ("push", "tag_push"):
        return ()
    project = r.obj(payload, "project", "project")
    keys = ("git_http_url", "git_ssh_url", "web_url", "http_url", "ssh_url", "url", "homepage")
    urls = r.urls(project, keys, "project")
    legacy = r.opt_obj(payload, "repository", "repository")
    if legacy is not None and any(legacy.get(k) for k in keys):
        urls |= r.urls(legacy, keys, "repository")
    commits = r.items(payload, "commits", "commits")
    before = r.sha(r.opt_text(payload, "before", "before"), "before")
    after = r.sha(r.text(payload, "after", "after"), "after")
    checkout = r.opt_text(payload, "checkout_sha", "checkout_sha")
    total = r.count(payload, "total_commits_count", "total_commits_count")
    complete = bool(commits) and total == len(commits) and not _zero(before) and not _zero(after)
    return (
        PushEvent(
            provider=r.provider,
            repository=r.text(project, "path_with_namespace", "project.path_with_namespace"),
            repo_urls=urls,
            ref=r.ref(r.text(payload, "ref", "ref"), "ref"),
            after=r.sha(checkout, "checkout_sha") if checkout and not _zero(after) else after,
            before=before,
            changed_paths=r.paths(commits) if complete else frozenset(),
        ),
    )


_BITBUCKET_REF_PREFIX = {
    "branch": "refs/heads/",
    "tag": "refs/tags/",
    "annotated_tag": "refs/tags/",
}


def read_bitbucket(payload: Json) -> tuple[PushEvent, ...]:
    """Bitbucket Cloud: several refs per delivery, ``new``/``old`` null on create/delete.

    Bitbucket lists no files, so ``changed_paths`` is always unknown (empty).
    """
    r = _Reader(Provider.BITBUCKET)
    repo = r.obj(payload, "repository", "repository")
    html = r.obj(r.obj(repo, "links", "repository.links"), "html", "repository.links.html")
    urls = r.urls(html, ("href",), "repository.links.html")
    name = r.text(repo, "full_name", "repository.full_name")
    events = []
    changes = r.items(r.obj(payload, "push", "push"), "changes", "push.changes")
    for i, change in enumerate(changes):
        where = f"push.changes[{i}]"
        new = r.opt_obj(change, "new", f"{where}.new")
        old = r.opt_obj(change, "old", f"{where}.old")
        ref = _bitbucket_ref(r, new or old, f"{where}.{'new' if new else 'old'}")
        events.append(
            PushEvent(
                provider=r.provider,
                repository=name,
                repo_urls=urls,
                ref=ref,
                after=_bitbucket_target(r, new, f"{where}.new"),
                before=_bitbucket_target(r, old, f"{where}.old"),
            )
        )
    return tuple(events)


def _bitbucket_ref(r: _Reader, state: Json | None, where: str) -> str:
    if state is None:
        raise r.fail(where.rpartition(".")[0], "has neither new nor old state")
    kind = r.text(state, "type", f"{where}.type")
    prefix = _BITBUCKET_REF_PREFIX.get(kind)
    if prefix is None:
        raise r.fail(f"{where}.type", f"is {kind!r}; gitward knows branch and tag")
    return prefix + r.text(state, "name", f"{where}.name")


def _bitbucket_target(r: _Reader, state: Json | None, where: str) -> str:
    if state is None:
        return ZERO_SHA
    target = r.obj(state, "target", f"{where}.target")
    return r.sha(r.text(target, "hash", f"{where}.target.hash"), f"{where}.target.hash")


def read_bitbucket_server(payload: Json) -> tuple[PushEvent, ...]:
    """Bitbucket Data Center/Server ``repo:refs_changed``: several refs, clone links.

    The clone links are the only place naming the server's host, so they are required.
    """
    r = _Reader(Provider.BITBUCKET_SERVER)
    repo = r.obj(payload, "repository", "repository")
    links = r.obj(repo, "links", "repository.links")
    clones = r.items(links, "clone", "repository.links.clone")
    urls = frozenset().union(
        *(r.urls(c, ("href",), f"repository.links.clone[{i}]") for i, c in enumerate(clones))
    )
    if not urls:
        raise r.fail("repository.links.clone", "is empty; gitward cannot tell the repository")
    project = r.obj(repo, "project", "repository.project")
    key = r.text(project, "key", "repository.project.key")
    name = f"{key}/{r.text(repo, 'slug', 'repository.slug')}"
    events = []
    for i, change in enumerate(r.items(payload, "changes", "changes")):
        where = f"changes[{i}]"
        ref = r.opt_text(change, "refId", f"{where}.refId")
        if ref is None:
            ref = r.text(r.obj(change, "ref", f"{where}.ref"), "id", f"{where}.ref.id")
        events.append(
            PushEvent(
                provider=r.provider,
                repository=name,
                repo_urls=urls,
                ref=r.ref(ref, f"{where}.refId"),
                after=r.sha(r.text(change, "toHash", f"{where}.toHash"), f"{where}.toHash"),
                before=r.sha(r.text(change, "fromHash", f"{where}.fromHash"), f"{where}.fromHash"),
            )
        )
    return tuple(events)
