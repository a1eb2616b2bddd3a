"""Role policies from the config repository: parsing, scopes, reloads and precedence.

Pure logic, no browser (tests/ui/test_roles_revoked.py drives the same through Git,
serve and Chromium): a ``RolePolicy`` document among the declarations, grants narrowed by
app and cluster globs, a broken policy that keeps the last good one, a removed one that
is removed, and ``--roles`` whose grants add to the repository's.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from gitward.api.auth import Principal, Role, authorize
from gitward.api.errors import ForbiddenError
from gitward.api.roles import RoleSource, load_role_policy, scope, with_grants
from gitward.errors import ConfigError
from gitward.model import AppSpec, Destination, SourceSpec
from gitward.spec.declarations import parse_declarations
from gitward.spec.roles import RolePolicy, RolesFound, parse_role_policy

HEAD = "apiVersion: gitward.dev/v1alpha1\nkind: RolePolicy\nmetadata: {name: roles}\n"


def document(body: str) -> dict[str, object]:
    parsed = yaml.safe_load(HEAD + "spec:\n" + body)
    assert isinstance(parsed, dict)
    return parsed


def found(body: str, origin: str = "roles.yaml") -> RolesFound | None:
    return parse_declarations([(origin, document(body))]).roles


def app(name: str, project: str = "default", cluster: str | None = None) -> AppSpec:
    return AppSpec(
        name=name,
        source=SourceSpec(repo_url="https://git.example/a.git", path="."),
        destination=Destination(namespace="ns", name=cluster),
        project=project,
    )


def may(
    source: RoleSource | RolePolicy, who: str, groups: tuple[str, ...], verb: str, on: AppSpec
) -> bool:
    principal = with_grants(source, Principal(who, frozenset()), groups)
    try:
        authorize(principal, verb, **scope(on))
    except ForbiddenError:
        return False
    return True


SCOPED = """
  roles:
    web-deployer: {actions: [view, sync], apps: ["web-*"], clusters: ["prod-*", in-cluster]}
    team-a: {actions: [view, sync, rollback, suspend], projects: [team-a]}
  bindings:
    - {group: web, roles: [web-deployer]}
    - {group: a, roles: [team-a]}
"""


@pytest.mark.parametrize(
    ("groups", "verb", "on", "allowed"),
    [
        (("web",), "sync", app("web-front", cluster="prod-eu"), True),
        (("web",), "sync", app("web-front"), True),  # in-cluster is named
        (("web",), "sync", app("web-front", cluster="staging"), False),  # not its cluster
        (("web",), "sync", app("api", cluster="prod-eu"), False),  # not its app
        (("web",), "rollback", app("web-front", cluster="prod-eu"), False),  # not its action
        (("a",), "suspend", app("anything", "team-a", "any"), True),
        (("a",), "get", app("anything", "team-b"), False),
        (("a", "web"), "sync", app("web-x", "team-b", "prod-us"), True),  # grants add up
        ((), "get", app("web-front"), False),  # bound to nothing: nothing
    ],
)
def test_grants_match_apps_projects_and_clusters_by_glob(
    groups: tuple[str, ...], verb: str, on: AppSpec, allowed: bool
) -> None:
    roles = found(SCOPED)
    assert roles is not None
    assert roles.policy is not None, roles.error
    assert may(roles.policy, "someone", groups, verb, on) is allowed


def test_a_grant_narrowed_to_apps_refuses_a_caller_that_names_no_app() -> None:
    policy = parse_role_policy(
        {
            "roles": {"r": {"actions": ["sync"], "apps": ["web"]}},
            "bindings": [{"user": "u", "roles": ["r"]}],
        },
        "x",
    )
    principal = with_grants(policy, Principal("u", frozenset()))
    with pytest.raises(ForbiddenError, match="may not sync in project p"):
        authorize(principal, "sync", "p")  # fail closed, not "any app"
    authorize(principal, "sync", "p", app="web")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "  roles: {r: {actions: [sync], clusters: prod}}\n",
            r"spec: roles.r.clusters: a non-empty list",
        ),
        (
            "  roles: {r: {actions: [sync], namespaces: [x]}}\n",
            r"roles.r: unknown field\(s\) namespaces",
        ),
        ("  roles: {admin: {actions: [view]}}\n", "roles.admin redefines a built-in role"),
        ("  bindings: [{group: g, roles: [nope]}]\n", r"bindings\[1\]: unknown role 'nope'"),
        ("  bindings: {group: g}\n", "bindings must be a list"),
        ("  rules: []\n", r"unknown field\(s\) rules"),
    ],
)
def test_a_broken_policy_in_the_repository_names_file_and_field_and_fails_nothing_else(
    body: str, message: str
) -> None:
    declarations = parse_declarations(
        [
            ("roles.yaml", document(body)),
            (
                "web.yaml",
                {
                    "apiVersion": "gitward.dev/v1alpha1",
                    "kind": "Application",
                    "metadata": {"name": "web"},
                    "spec": {
                        "source": {"repoURL": "https://git.example/a.git", "path": "."},
                        "destination": {"namespace": "ns"},
                    },
                },
            ),
        ]
    )
    assert list(declarations.apps) == ["web"]  # the apps of the revision still load
    assert declarations.roles is not None
    assert declarations.roles.policy is None
    assert declarations.roles.error.startswith("roles.yaml: spec")
    assert re.search(message, declarations.roles.error), declarations.roles.error


def test_two_role_policies_in_one_revision_name_both_files() -> None:
    roles = parse_declarations(
        [("a.yaml", document("  bindings: []\n")), ("b/c.yaml", document("  bindings: []\n"))]
    ).roles
    assert roles is not None
    assert roles.policy is None
    assert "declared 2 times: in a.yaml and b/c.yaml" in roles.error


GOOD = "  bindings: [{user: alice, roles: [admin]}]\n"
REVOKED = "  bindings: [{user: alice, roles: [viewer]}]\n"
BROKEN = "  bindings: [{user: alice, roles: [root]}]\n"


def test_each_revision_replaces_the_policy_and_a_broken_one_keeps_the_last_good() -> None:
    source, web = RoleSource(), app("web")
    source.use(found(GOOD), "a" * 40)
    assert may(source, "alice", (), "sync", web)
    source.use(found(REVOKED), "b" * 40)
    assert not may(source, "alice", (), "sync", web)  # revoked by a commit
    assert may(source, "alice", (), "get", web)
    source.use(found(BROKEN), "c" * 40)
    assert not may(source, "alice", (), "sync", web)  # still revision b's policy
    assert may(source, "alice", (), "get", web)
    [warning] = source.warnings()
    assert "at config revision cccccccccccc" in warning
    assert "unknown role 'root'" in warning
    assert "keeping the policy of bbbbbbbbbbbb" in warning
    source.use(found(GOOD), "d" * 40)
    assert source.warnings() == []
    assert may(source, "alice", (), "sync", web)
    source.use(None, "e" * 40)  # the RolePolicy file was deleted: its grants go with it
    assert not source.loaded
    assert not may(source, "alice", (), "get", web)


def test_a_policy_broken_from_the_first_revision_grants_nothing_but_tokens_keep_their_role() -> (
    None
):
    source = RoleSource()
    source.use(found(BROKEN), "a" * 40)
    assert source.loaded
    assert not may(source, "alice", (), "get", app("web"))
    admin = with_grants(source, Principal("admin", frozenset({Role.ADMIN})))
    authorize(admin, "rollback", **scope(app("web")))
    assert "grants nothing" in source.describe()
    assert "no one is granted anything" in source.warnings()[0]


def test_serve_roles_adds_to_the_repository_policy_and_no_commit_removes_it(tmp_path: Path) -> None:
    (tmp_path / "roles.yaml").write_text("bindings: [{group: platform, roles: [admin]}]\n")
    source = RoleSource(load_role_policy(tmp_path / "roles.yaml"))
    source.use(found(REVOKED), "a" * 40)
    assert may(source, "bob", ("platform",), "rollback", app("web"))  # from --roles
    assert may(source, "alice", (), "get", app("web"))  # from the repository
    assert not may(source, "alice", (), "sync", app("web"))
    source.use(found("  bindings: []\n"), "b" * 40)
    assert may(source, "bob", ("platform",), "rollback", app("web"))


def test_serve_roles_accepts_a_whole_role_policy_document(tmp_path: Path) -> None:
    (tmp_path / "roles.yaml").write_text(HEAD + "spec:\n" + GOOD)
    assert may(load_role_policy(tmp_path / "roles.yaml"), "alice", (), "sync", app("web"))
    (tmp_path / "roles.yaml").write_text(HEAD + "spec:\n" + BROKEN)
    with pytest.raises(ConfigError, match=r"roles.yaml: spec: bindings\[1\]: unknown role"):
        load_role_policy(tmp_path / "roles.yaml")
