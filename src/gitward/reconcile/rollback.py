"""Rollback that works with automated sync on: pin an app to a commit, visibly.

A pin (commit, who, when, why) is kept in the store; while it exists the controller
syncs the pinned commit instead of the branch, so auto-sync cannot undo the rollback.
``unpin`` releases it and the app follows Git again. A dry run shows the diff first.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from typing import Any

from gitward.errors import ConfigError
from gitward.model import Action, AppSpec, RepoCredentials
from gitward.model.history import Trigger
from gitward.plan import normalize_pair, unified_diff
from gitward.ports import GitSource, HistoryStore
from gitward.reconcile.controller import Controller
from gitward.reconcile.pipeline import Engine, SyncOptions
from gitward.reconcile.source_secrets import source_credentials


class Rollbacks:
    def __init__(
        self,
        controller: Controller,
        store: HistoryStore,
        git: GitSource,
        engine_for: Callable[[AppSpec], Engine],
        credentials: Callable[[str], RepoCredentials | None] = lambda _u: None,
    ) -> None:
        self.controller = controller
        self.store = store
        self.git = git
        self.engine_for = engine_for
        self.credentials = credentials

    async def resolve(self, app: str, target: str) -> str:
        """A sync id from the history, or any revision of the app's repository."""
        spec = self.controller.declared(app)
        if target.isdigit() and len(target) < 10:
            record = await self.store.get_sync(int(target))
            if record is None or record.app != app:
                raise ConfigError(
                    f"{app} has no sync with id {target}", hint=f"see `gitward app history {app}`"
                )
            if not record.sha:
                raise ConfigError(f"sync {target} of {app} never resolved a commit")
            return record.sha
        credentials = await self._credentials(spec)
        revision = await asyncio.to_thread(
            self.git.resolve, spec.source.repo_url, target, credentials
        )
        return revision.sha

    async def _credentials(self, spec: AppSpec) -> RepoCredentials | None:
        """The app's repository credentials: its secretRef's, else gitward's own."""
        cluster = self.engine_for(spec).cluster
        by_url = await source_credentials(cluster, spec, self.credentials)
        return by_url(spec.source.repo_url)

    async def pin(
        self, app: str, target: str, actor: str, *, until_new_commit: bool = False
    ) -> str:
        """Pin ``app`` to ``target``; with ``until_new_commit`` the next commit on its
        branch releases the pin by itself."""
        sha = await self.resolve(app, target)
        release_after = None
        if until_new_commit:
            spec = self.controller.declared(app)
            head = await asyncio.to_thread(
                self.git.resolve,
                spec.source.repo_url,
                spec.source.target_revision,
                await self._credentials(spec),
            )
            release_after = head.sha
        reason = f"rollback to {target}" + (" until a new commit" if until_new_commit else "")
        status = await self.store.pin(
            app, sha, actor=actor, reason=reason, release_after=release_after
        )
        self.controller.set_pin(app, status.pin)
        self.controller.trigger(app, Trigger.ROLLBACK, actor)
        return sha

    async def unpin(self, app: str, actor: str) -> None:
        await self.store.unpin(app)
        self.controller.set_pin(app, None)
        self.controller.trigger(app, Trigger.REFRESH, actor)

    async def preview(self, app: str, target: str) -> dict[str, Any]:
        """What a rollback to ``target`` would change, secrets masked."""
        sha = await self.resolve(app, target)
        spec = self.controller.declared(app)
        pinned = dataclasses.replace(
            spec, source=dataclasses.replace(spec.source, target_revision=sha)
        )
        engine = self.engine_for(pinned)
        planned = await engine.look(pinned, SyncOptions(full_compare=True))
        changes, texts = [], []
        for step in planned.plan.steps:
            if step.action in (Action.UNCHANGED, Action.KEEP, Action.HOOK):
                continue
            changes.append(
                {"object": str(step.key), "action": step.action.value, "reason": step.reason}
            )
            after = None
            if step.action is not Action.PRUNE and step.desired is not None:
                after = planned.predicted.get(step.key, step.desired.body)
            live = step.live if step.action is not Action.CREATE else None
            after_n, live_n = normalize_pair(step.key, after, live, spec.ignore_differences)
            texts.append(unified_diff(live_n, after_n, str(step.key)))
        return {"app": app, "sha": sha, "changes": changes, "diff": "".join(texts)}
