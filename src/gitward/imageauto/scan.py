"""One round of image automation, and the periodic task ``gitward serve`` runs.

The round reads as the data flows::

    list tags  →  exclude  →  select per policy  →  (digest)  →  edit + commit + push

Tags are listed once per ImageRepository (in a thread: the OCI client blocks; with the
credentials of its Secret, :mod:`.credentials`), every
policy selects from them (:mod:`.policy`) and, if it reflects digests, looks up what the
selected tag points at (once per tag, or every round with ``Always``), and every
ImageUpdateAutomation writes the
selections into its branch (:mod:`.git`). A failure is logged and kept per object for
the next round; it never stops the other repositories or automations. After a push,
``announce`` names the repository so the apps that deploy it reconcile at once,
instead of at their next poll.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from gitward.errors import GitwardError
from gitward.imageauto.credentials import RegistryCredentials, no_credentials
from gitward.imageauto.git import Pushed, Workspace
from gitward.imageauto.message import render
from gitward.imageauto.policy import excluded, select
from gitward.imageauto.setters import Change, Latest
from gitward.model import RepoCredentials
from gitward.model.images import (
    DigestReflection,
    ImageAutomation,
    ImagePolicy,
    ImageRepo,
    UpdateAutomation,
)

log = logging.getLogger("gitward.imageauto")


class DigestReader(Protocol):
    """The registry seam for digests (see :func:`gitward.source.oci.tag_digest`)."""

    def __call__(
        self,
        repository: str,
        tag: str,
        credentials: RepoCredentials | None = None,
        *,
        plain_http: bool = False,
    ) -> str: ...


class TagLister(Protocol):
    """The registry seam: every tag of ``host/path`` (see :func:`gitward.source.oci.list_tags`)."""

    def __call__(
        self,
        repository: str,
        credentials: RepoCredentials | None = None,
        *,
        plain_http: bool = False,
    ) -> list[str]: ...


@dataclass
class Round:
    """What one round found and did, for logs, tests and the next round."""

    latest: dict[str, Latest] = field(default_factory=dict)  # by policy "ns:name"
    pushed: dict[str, Pushed] = field(default_factory=dict)  # by automation "ns/name"
    errors: dict[str, str] = field(default_factory=dict)  # by object, the message


class ImageUpdater:
    """Runs rounds over the declared image automation."""

    def __init__(
        self,
        cache_dir: Path,
        list_tags: TagLister,
        *,
        git_credentials: Callable[[str], RepoCredentials | None] = lambda _url: None,
        registry_credentials: RegistryCredentials = no_credentials,
        announce: Callable[[str], None] = lambda _url: None,
        tag_digest: DigestReader | None = None,
    ) -> None:
        self.cache_dir = cache_dir
        self.list_tags = list_tags
        self.tag_digest = tag_digest
        self._digests: dict[tuple[str, str, str], str] = {}  # (policy, image, tag): digest
        self.git_credentials = git_credentials
        self.registry_credentials = registry_credentials
        self.announce = announce

    async def run_once(self, images: ImageAutomation) -> Round:
        result = Round()
        tags = await self._tags(images.repositories, result)
        for policy in images.policies.values():
            if policy.repository not in tags:
                continue
            try:
                tag = select(policy, tags[policy.repository])
            except GitwardError as e:
                result.errors[f"ImagePolicy {policy.marker}"] = str(e)
                continue
            if tag is not None:
                repo = images.repositories[policy.repository]
                digest = await self._digest(policy, repo, tag, result)
                if digest is not None:
                    result.latest[policy.marker] = Latest(repo.image, tag, digest)
        for automation in images.automations:
            if not automation.suspend:
                await self._update(automation, result)
        return result

    async def run_forever(self, images: Callable[[], ImageAutomation], interval: float) -> None:
        """A round every ``interval`` seconds (the shortest declared interval wins)."""
        while True:
            declared = images()
            if declared:
                try:
                    await self.run_once(declared)
                except Exception:  # a bug in one round must not end automation for good
                    log.exception("an image automation round failed")
            await asyncio.sleep(_interval(declared, interval))

    async def _tags(
        self, repositories: Mapping[str, ImageRepo], result: Round
    ) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for ref, repo in repositories.items():
            try:
                credentials = await self.registry_credentials(repo)
                listed = await asyncio.to_thread(
                    self.list_tags, repo.image, credentials, plain_http=repo.plain_http
                )
                found[ref] = excluded(listed, repo.exclusions, f"ImageRepository {ref}")
            except GitwardError as e:
                result.errors[f"ImageRepository {ref}"] = str(e)
                log.warning("listing tags of %s failed: %s", repo.image, e)
        return found

    async def _digest(
        self, policy: ImagePolicy, repo: ImageRepo, tag: str, result: Round
    ) -> str | None:
        """The digest to pin (``""``: the policy reflects none), or None when it could
        not be read: that policy writes nothing this round rather than an unpinned tag."""
        if policy.digest_reflection is DigestReflection.NEVER:
            return ""
        key = (policy.marker, repo.image, tag)
        known = self._digests.get(key)
        if known is not None and policy.digest_reflection is DigestReflection.IF_NOT_PRESENT:
            return known
        read = self.tag_digest
        if read is None:
            result.errors[f"ImagePolicy {policy.marker}"] = "digests cannot be read here"
            return None
        try:
            credentials = await self.registry_credentials(repo)
            digest = await asyncio.to_thread(
                read, repo.image, tag, credentials, plain_http=repo.plain_http
            )
        except GitwardError as e:
            result.errors[f"ImagePolicy {policy.marker}"] = f"digest of {repo.image}:{tag}: {e}"
            return None
        self._digests[key] = digest
        return digest

    async def _update(self, automation: UpdateAutomation, result: Round) -> None:
        where = f"{automation.namespace}/{automation.name}"
        workspace = Workspace(self.cache_dir, automation, self.git_credentials(automation.repo_url))

        def message(changes: list[Change]) -> str:
            images = [result.latest[c.policy].ref for c in changes if c.policy in result.latest]
            return render(automation.message_template, where, changes, images)

        try:
            pushed = await asyncio.to_thread(workspace.update, result.latest, message)
        except GitwardError as e:
            result.errors[f"ImageUpdateAutomation {where}"] = str(e)
            log.warning("image update automation %s failed: %s", where, e)
            return
        if pushed is not None:
            result.pushed[where] = pushed
            log.info(
                "image automation %s pushed %s to %s (%d changes, %d attempts)",
                where,
                pushed.sha[:12],
                pushed.branch,
                len(pushed.changes),
                pushed.attempts,
            )
            self.announce(automation.repo_url)


def _interval(images: ImageAutomation, default: float) -> float:
    declared = [r.interval for r in images.repositories.values()]
    declared += [a.interval for a in images.automations]
    return max(1.0, min(declared, default=default))
