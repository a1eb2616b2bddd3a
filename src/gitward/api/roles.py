"""Roles per project: who may view, sync, roll back or suspend which apps.

Before: a caller was authenticated (an API token, or a single-sign-on login in the web
UI that names a user and their groups). After: :func:`gitward.api.auth.authorize` asks
the caller's grants whether the action is allowed on the app's project; the API and the
UI make the same call, so a viewer who sees no buttons also gets 403 from the API.

The policy file (``serve --roles FILE``)::

    roles:
      deployer: {actions: [view, sync], projects: [team-a, team-b]}
    bindings:
      - {group: platform, roles: [admin]}       # an OIDC group
      - {user: alice@example.com, roles: [deployer]}
      - {user: ci-bot, roles: [viewer]}          # a token's name (tokens file)

``admin`` (every action, every project) and ``viewer`` (view, every project) are
built in; ``projects`` defaults to every project (``"*"``). A caller bound to nothing
may do nothing, so forgetting a binding fails closed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, TypeVar

import yaml

from gitward.errors import ConfigError
from gitward.loading import load_one
from gitward.ports import AppsView

# Each API verb belongs to one of the four permissions a role grants.
PERMISSION_OF: Final = {
    "list": "view",
    "get": "view",
    "history": "view",
    "metrics": "view",
    "sync": "sync",
    "refresh": "sync",
    "rollback": "rollback",
    "unpin": "rollback",
    "suspend": "suspend",
    "resume": "suspend",
}
PERMISSIONS: Final = ("view", "sync", "rollback", "suspend")
P = TypeVar("P", bound=Any)  # a Principal (gitward.api.auth imports this module)


@dataclass(frozen=True)
class Grant:
    """Permissions on projects (``"*"``: every project) from one role."""

    role: str
    permissions: frozenset[str]
    projects: frozenset[str] = frozenset({"*"})

    def allows(self, action: str, project: str | None) -> bool:
        permission = PERMISSION_OF.get(action, action)
        if permission not in self.permissions:
            return False
        if project is None:  # a list: each app is then filtered by its own project
            return permission == "view"
        return "*" in self.projects or project in self.projects


BUILT_IN: Final = {
    "admin": Grant("admin", frozenset(PERMISSIONS)),
    "viewer": Grant("viewer", frozenset({"view"})),
}


@dataclass(frozen=True)
class RolePolicy:
    roles: Mapping[str, Grant] = field(default_factory=lambda: dict(BUILT_IN))
    users: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    loaded: bool = False  # False: no policy file; token roles decide alone

    def grants(self, user: str, groups: Iterable[str]) -> tuple[Grant, ...]:
        """The grants of a caller: their own bindings and their groups'."""
        names = list(self.users.get(user, ()))
        for group in groups:
            names += self.groups.get(group, ())
        return tuple(self.roles[n] for n in dict.fromkeys(names))


def load_role_policy(path: Path | None) -> RolePolicy:
    """Read and check a policy file; ConfigError names the entry and field at fault.

    No file: no policy (each token's own role decides).
    """
    if path is None:
        return RolePolicy()
    try:
        document = load_one(path.read_text())
    except (OSError, yaml.YAMLError) as e:
        raise ConfigError(f"cannot read the role policy {path}: {e}") from e
    if not isinstance(document, dict):
        raise ConfigError(f"{path}: expected a mapping with roles and bindings")
    roles = dict(BUILT_IN)
    for name, body in (document.get("roles") or {}).items():
        roles[str(name)] = _role(path, str(name), body)
    users: dict[str, tuple[str, ...]] = {}
    groups: dict[str, tuple[str, ...]] = {}
    for i, binding in enumerate(document.get("bindings") or [], start=1):
        where = f"{path}: bindings[{i}]"
        if not isinstance(binding, dict) or ("user" in binding) == ("group" in binding):
            raise ConfigError(f"{where}: give exactly one of user or group, and roles")
        bound = binding.get("roles")
        if not isinstance(bound, list) or not bound:
            raise ConfigError(f"{where}: roles must be a non-empty list")
        for role in bound:
            if role not in roles:
                raise ConfigError(f"{where}: unknown role {role!r}; known: {', '.join(roles)}")
        target = users if "user" in binding else groups
        who = str(binding.get("user") or binding.get("group"))
        target[who] = target.get(who, ()) + tuple(bound)
    return RolePolicy(roles, users, groups, loaded=True)


def _role(path: Path, name: str, body: object) -> Grant:
    where = f"{path}: roles.{name}"
    if not isinstance(body, dict):
        raise ConfigError(f"{where}: expected a mapping with actions and projects")
    actions = body.get("actions")
    if not isinstance(actions, list) or not actions:
        raise ConfigError(f"{where}.actions: a non-empty list of {', '.join(PERMISSIONS)}")
    unknown = [a for a in actions if a not in PERMISSIONS]
    if unknown:
        raise ConfigError(f"{where}.actions: unknown {unknown}; use {', '.join(PERMISSIONS)}")
    projects = body.get("projects", ["*"])
    if not isinstance(projects, list) or not all(isinstance(p, str) for p in projects):
        raise ConfigError(f"{where}.projects: a list of project names, or ['*']")
    return Grant(name, frozenset(actions), frozenset(projects))


def with_grants(policy: RolePolicy, principal: P, groups: Iterable[str] = ()) -> P:
    """``principal`` with the grants the policy gives it (unchanged without a policy).

    A token's own role stays a grant (the admin token keeps working), to which the
    bindings of its name, and of the groups of a single-sign-on user, add.
    """
    if not policy.loaded:
        return principal
    own = tuple(BUILT_IN[str(r)] for r in sorted(principal.roles) if str(r) in BUILT_IN)
    return dataclasses.replace(principal, grants=own + policy.grants(principal.name, groups))


def visible(grants: tuple[Grant, ...] | None, apps: AppsView) -> list[str]:
    """The names of the apps a caller with ``grants`` may view (None: no policy), sorted."""
    if grants is None:
        return apps.names()
    return [
        n for n in apps.names() if any(g.allows("get", apps.declared(n).project) for g in grants)
    ]
