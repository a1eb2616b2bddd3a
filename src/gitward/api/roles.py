"""Roles per project: apply the role policies to callers of the API and the web UI.

Before: a caller was authenticated (an API token, or a single-sign-on login in the web
UI that names a user and their groups). After: :func:`gitward.api.auth.authorize` asks
the caller's grants whether the action is allowed on the app (its project, name and
cluster); the API and the UI make the same call, so a viewer who sees no buttons also
gets 403 from the API.

Policies (parsed by :mod:`gitward.spec.roles`) come from two places, and their grants
add up: the operator's ``serve --roles FILE``, read once at start, and the config
repository's ``RolePolicy`` document, read with every config revision. Neither can take
away what the other grants: ``--roles`` is for the bindings a commit must never be able
to remove (the platform team), the repository's policy for everyone else. A revision
whose ``RolePolicy`` is broken keeps the last good one, and :class:`RoleSource` says so
(``/readyz`` warnings, the Settings page, the log). Grants are computed for every
request, so a commit that revokes a role takes effect on the caller's next request.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar

import yaml

from gitward.errors import ConfigError
from gitward.loading import load_one
from gitward.model import AppSpec
from gitward.ports import AppsView
from gitward.spec.roles import (
    BUILT_IN,
    NOBODY,
    PERMISSION_OF,
    PERMISSIONS,
    ROLE_POLICY_KIND,
    Grant,
    RolePolicy,
    RolesFound,
    parse_role_policy,
)

__all__ = [
    "PERMISSIONS",
    "PERMISSION_OF",
    "Grant",
    "RolePolicy",
    "RoleSource",
    "load_role_policy",
    "scope",
    "visible",
    "with_grants",
]

log = logging.getLogger("gitward.roles")
P = TypeVar("P", bound=Any)  # a Principal (gitward.api.auth imports this module)


def scope(spec: AppSpec) -> dict[str, str]:
    """The project, name and cluster of an app, as grants match them.

    These are the keyword arguments of :func:`gitward.api.auth.authorize`.
    """
    return {
        "project": spec.project,
        "app": spec.name,
        "cluster": spec.destination.name or "in-cluster",
    }


def load_role_policy(path: Path | None) -> RolePolicy:
    """Read ``serve --roles FILE``; ConfigError names the entry and field at fault.

    The file holds the policy's body (``roles``, ``bindings``) or a whole ``RolePolicy``
    document, so one file can move between the flag and the config repository.
    No file: no policy.
    """
    if path is None:
        return RolePolicy()
    try:
        document = load_one(path.read_text())
    except (OSError, yaml.YAMLError) as e:
        raise ConfigError(f"cannot read the role policy {path}: {e}") from e
    if isinstance(document, dict) and document.get("kind") == ROLE_POLICY_KIND:
        return parse_role_policy(document.get("spec"), f"{path}: spec")
    return parse_role_policy(document, str(path))


class RoleSource:
    """The policies in force: ``--roles`` and the config repository's last good one."""

    def __init__(self, local: RolePolicy | None = None) -> None:
        self.local = local or RolePolicy()
        self.repository = RolePolicy()  # not loaded: the repository has none (yet)
        self.origin = ""  # the file of the repository's policy, at ``revision``
        self.revision = ""
        self.error = ""  # why the current revision's policy is not the one in force

    @property
    def loaded(self) -> bool:
        return self.local.loaded or self.repository.loaded

    def use(self, found: RolesFound | None, revision: str) -> None:
        """Adopt the ``RolePolicy`` of a config revision; a broken one keeps the last good.

        No ``RolePolicy`` in the revision: the repository grants nothing more (a removed
        policy is removed). Broken with no good one before: the repository's policy binds
        no one (fail closed) until it is fixed.
        """
        if found is None:
            self.repository, self.origin, self.revision, self.error = RolePolicy(), "", "", ""
            return
        if found.policy is None:
            at = f" at config revision {revision[:12]}" if revision else ""
            kept = (
                f"keeping the policy of {self.revision[:12] or 'the previous load'}"
                if self.repository.loaded
                else "no one is granted anything by the repository until it is fixed"
            )
            self.error = f"role policy not loaded{at}: {found.error}; {kept}"
            if not self.repository.loaded:
                self.repository = NOBODY
            log.error("%s", self.error)
            return
        if self.error or found.policy != self.repository:
            log.info("role policy from %s at %s in force", found.origin, revision[:12] or "-")
        self.repository, self.origin, self.revision, self.error = (
            found.policy,
            found.origin,
            revision,
            "",
        )

    def grants(self, user: str, groups: Iterable[str]) -> tuple[Grant, ...]:
        groups = tuple(groups)
        found = self.local.grants(user, groups) + self.repository.grants(user, groups)
        return tuple(dict.fromkeys(found))

    def warnings(self) -> list[str]:
        return [self.error] if self.error else []

    def describe(self) -> str:
        """One line for the Settings page: where the policies come from."""
        parts = []
        if self.local.loaded:
            parts.append(f"--roles: {_count(self.local)}")
        if self.repository.loaded and self.origin:
            at = f" at {self.revision[:12]}" if self.revision else ""
            parts.append(f"{self.origin}{at}: {_count(self.repository)}")
        elif self.repository.loaded:
            parts.append("the config repository's policy is broken: it grants nothing")
        return "; ".join(parts) or "none: token roles (admin, viewer)"


def _count(policy: RolePolicy) -> str:
    custom = len(policy.roles) - len(BUILT_IN)
    return f"{custom} role(s), {len(policy.users)} user and {len(policy.groups)} group binding(s)"


def with_grants(source: RoleSource | RolePolicy, principal: P, groups: Iterable[str] = ()) -> P:
    """``principal`` with the grants the policies give it (unchanged without a policy).

    A token's own role stays a grant (the admin token keeps working), to which the
    bindings of its name, and of the groups of a single-sign-on user, add.
    """
    if not source.loaded:
        return principal
    own = tuple(BUILT_IN[str(r)] for r in sorted(principal.roles) if str(r) in BUILT_IN)
    granted = source.grants(principal.name, groups)
    return dataclasses.replace(principal, grants=own + granted)


def visible(grants: tuple[Grant, ...] | None, apps: AppsView) -> list[str]:
    """The names of the apps a caller with ``grants`` may view (None: no policy), sorted."""
    if grants is None:
        return apps.names()
    return [
        n for n in apps.names() if any(g.allows("get", **scope(apps.declared(n))) for g in grants)
    ]
