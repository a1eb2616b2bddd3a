"""Role policies: who may view, sync, roll back or suspend which apps, projects, clusters.

A policy comes from two places (see docs/ui.md, "Roles"): a ``RolePolicy`` document in
the config repository, read with every config revision like an Application, and the
operator's ``serve --roles FILE``. Both have the same body::

    apiVersion: gitward.dev/v1alpha1
    kind: RolePolicy
    metadata: {name: roles}
    spec:
      roles:
        deployer: {actions: [view, sync], projects: [team-a], clusters: ["prod-*"]}
      bindings:
        - {group: platform, roles: [admin]}       # an OIDC group
        - {user: alice@example.com, roles: [deployer]}

This module only parses and checks (pure, no I/O): :mod:`gitward.api.roles` applies
the grants to callers. ``apps``, ``projects`` and ``clusters`` are shell-style globs
(``"*"``, the default, matches everything); a grant allows an action on an app only if
all three match. ``admin`` and ``viewer`` are built in. A caller bound to nothing may do
nothing, so a forgotten binding fails closed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Final

from gitward.errors import ConfigError

ROLE_POLICY_KIND: Final = "RolePolicy"
ROLE_POLICY_API_VERSION: Final = "gitward.dev/v1alpha1"
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
EVERYTHING: Final = frozenset({"*"})


@dataclass(frozen=True)
class Grant:
    """Permissions on the apps, projects and clusters (globs) one role names."""

    role: str
    permissions: frozenset[str]
    projects: frozenset[str] = EVERYTHING
    apps: frozenset[str] = EVERYTHING
    clusters: frozenset[str] = EVERYTHING

    def allows(
        self,
        action: str,
        project: str | None,
        app: str | None = None,
        cluster: str | None = None,
    ) -> bool:
        """True if ``action`` is allowed on the app (``project`` None: a list, view only).

        An app or cluster left unnamed matches only a grant that does not narrow it: a
        caller that forgets to say which app it acts on is refused, not let through.
        """
        permission = PERMISSION_OF.get(action, action)
        if permission not in self.permissions:
            return False
        if project is None:  # a list: each app is then filtered by its own scope
            return permission == "view"
        return (
            _matches(self.projects, project)
            and _matches(self.apps, app)
            and _matches(self.clusters, cluster)
        )


def _matches(patterns: frozenset[str], value: str | None) -> bool:
    if "*" in patterns:
        return True
    return value is not None and any(fnmatchcase(value, p) for p in patterns)


BUILT_IN: Final = {
    "admin": Grant("admin", frozenset(PERMISSIONS)),
    "viewer": Grant("viewer", frozenset({"view"})),
}


@dataclass(frozen=True)
class RolePolicy:
    roles: Mapping[str, Grant] = field(default_factory=lambda: dict(BUILT_IN))
    users: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    loaded: bool = False  # False: no policy; token roles decide alone

    def grants(self, user: str, groups: Iterable[str]) -> tuple[Grant, ...]:
        """The grants of a caller: their own bindings and their groups'."""
        names = list(self.users.get(user, ()))
        for group in groups:
            names += self.groups.get(group, ())
        return tuple(self.roles[n] for n in dict.fromkeys(names))


# A policy that is in force but binds no one: a config repository whose first
# RolePolicy is broken grants nothing until it is fixed (tokens keep their own role).
NOBODY: Final = RolePolicy(loaded=True)


@dataclass(frozen=True)
class RolesFound:
    """The ``RolePolicy`` of one config revision: parsed, or why not.

    A broken policy does not fail the revision (apps still deploy); the caller keeps
    the last good policy and shows ``error``.
    """

    origin: str
    policy: RolePolicy | None = None
    error: str = ""


def parse_role_policy(document: object, where: str) -> RolePolicy:
    """Check a policy body (``roles`` and ``bindings``); ConfigError names the field."""
    if not isinstance(document, Mapping):
        raise ConfigError(f"{where}: expected a mapping with roles and bindings")
    unknown = sorted(set(document) - {"roles", "bindings"})
    if unknown:
        raise ConfigError(
            f"{where}: unknown field(s) {', '.join(map(str, unknown))}; "
            "a role policy has roles and bindings"
        )
    bodies = document.get("roles") or {}
    if not isinstance(bodies, Mapping):
        raise ConfigError(f"{where}: roles must be a mapping of role name to its grant")
    roles = dict(BUILT_IN)
    for name, body in bodies.items():
        if str(name) in BUILT_IN:
            raise ConfigError(f"{where}: roles.{name} redefines a built-in role")
        roles[str(name)] = _role(where, str(name), body)
    bindings = document.get("bindings") or []
    if not isinstance(bindings, list):
        raise ConfigError(f"{where}: bindings must be a list of {{user or group, roles}}")
    users: dict[str, tuple[str, ...]] = {}
    groups: dict[str, tuple[str, ...]] = {}
    for i, binding in enumerate(bindings, start=1):
        target, who, bound = _binding(f"{where}: bindings[{i}]", binding, roles)
        table = users if target == "user" else groups
        table[who] = table.get(who, ()) + bound
    return RolePolicy(roles, users, groups, loaded=True)


def _binding(
    where: str, binding: object, roles: Mapping[str, Grant]
) -> tuple[str, str, tuple[str, ...]]:
    if not isinstance(binding, Mapping) or ("user" in binding) == ("group" in binding):
        raise ConfigError(f"{where}: give exactly one of user or group, and roles")
    bound = binding.get("roles")
    if not isinstance(bound, list) or not bound:
        raise ConfigError(f"{where}: roles must be a non-empty list")
    for role in bound:
        if role not in roles:
            raise ConfigError(f"{where}: unknown role {role!r}; known: {', '.join(roles)}")
    target = "user" if "user" in binding else "group"
    who = binding.get(target)
    if not isinstance(who, str) or not who.strip():
        raise ConfigError(f"{where}: {target} must be a non-empty string")
    return target, who.strip(), tuple(str(r) for r in bound)


def _role(where: str, name: str, body: object) -> Grant:
    where = f"{where}: roles.{name}"
    if not isinstance(body, Mapping):
        raise ConfigError(
            f"{where}: expected a mapping with actions (and projects, apps, clusters)"
        )
    unknown = sorted(set(body) - {"actions", "projects", "apps", "clusters"})
    if unknown:
        raise ConfigError(
            f"{where}: unknown field(s) {', '.join(map(str, unknown))}; "
            "use actions, projects, apps, clusters"
        )
    actions = body.get("actions")
    if not isinstance(actions, list) or not actions:
        raise ConfigError(f"{where}.actions: a non-empty list of {', '.join(PERMISSIONS)}")
    wrong = [a for a in actions if a not in PERMISSIONS]
    if wrong:
        raise ConfigError(f"{where}.actions: unknown {wrong}; use {', '.join(PERMISSIONS)}")
    scopes = [_globs(where, key, body.get(key, ["*"])) for key in ("projects", "apps", "clusters")]
    return Grant(name, frozenset(actions), *scopes)


def _globs(where: str, key: str, value: object) -> frozenset[str]:
    if not isinstance(value, list) or not value or not all(isinstance(p, str) and p for p in value):
        raise ConfigError(f"{where}.{key}: a non-empty list of names or globs, or ['*']")
    return frozenset(value)


def is_role_policy(document: Mapping[str, object]) -> bool:
    return (
        document.get("kind") == ROLE_POLICY_KIND
        and document.get("apiVersion") == ROLE_POLICY_API_VERSION
    )


def read_role_documents(found: list[tuple[str, Mapping[str, object]]]) -> RolesFound | None:
    """The revision's one ``RolePolicy`` (None: there is none), or why it cannot be used.

    Never raises: a broken policy must not stop the apps of the revision from deploying.
    """
    if not found:
        return None
    origin, document = found[0]
    if len(found) > 1:
        where = " and ".join(o for o, _ in found)
        return RolesFound(
            origin, error=f"RolePolicy is declared {len(found)} times: in {where}; keep one"
        )
    try:
        return RolesFound(origin, parse_role_policy(document.get("spec"), f"{origin}: spec"))
    except ConfigError as e:
        return RolesFound(origin, error=e.message)
