"""The UI's pure parts: list filtering and paging, roles per project, sessions, coalescing.

No browser and no cluster: these are the rules the browser tests rely on, checked over
tables of cases.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from pathlib import Path

import pytest

from gitward.api.auth import Principal, Role, authorize
from gitward.api.errors import ForbiddenError
from gitward.api.roles import load_role_policy, with_grants
from gitward.errors import ConfigError
from gitward.model import AppSpec, Destination, SourceSpec
from gitward.model.history import AppStatus, SyncState
from gitward.ui import listing
from gitward.ui.live import Changes, Subscriber, coalesce
from gitward.ui.sessions import Sessions, check_csrf, safe_next


def spec(name: str, project: str = "default", **labels: str) -> AppSpec:
    return AppSpec(
        name=name,
        source=SourceSpec(repo_url=f"https://git.example/{name}.git", path="deploy"),
        destination=Destination(namespace=f"ns-{name}"),
        project=project,
        labels=tuple(sorted(labels.items())),
    )


ROWS = [
    listing.row(spec("web", "team-a", team="a", tier="web"), AppStatus("web", SyncState.SYNCED)),
    listing.row(spec("api", "team-a", team="a"), AppStatus("api", SyncState.OUT_OF_SYNC)),
    listing.row(spec("db", "team-b", team="b"), AppStatus("db", SyncState.SYNCED)),
]


@pytest.mark.parametrize(
    ("params", "names"),
    [
        ({}, ["api", "db", "web"]),
        ({"q": "team-a"}, ["api", "web"]),
        ({"q": "TEAM-A web"}, ["web"]),  # every word must match, case-insensitive
        ({"sync": "OutOfSync"}, ["api"]),
        ({"project": "team-b"}, ["db"]),
        ({"labels": "team=a,tier=web"}, ["web"]),
        ({"labels": "team=a"}, ["api", "web"]),
        ({"namespace": "ns-db"}, ["db"]),
        ({"q": "example/db.git"}, ["db"]),  # the repository is searched too
        ({"sort": "project", "desc": "1"}, ["db", "api", "web"]),
        ({"size": "25", "page": "2"}, []),
        ({"page": "nonsense", "sort": "no-such-column"}, ["api", "db", "web"]),
    ],
)
def test_the_server_filters_searches_and_sorts(params: dict[str, str], names: list[str]) -> None:
    page = listing.select(ROWS, listing.Query.parse(params))
    assert [r.name for r in page.rows] == names


def test_pages_hold_only_their_rows_and_links_keep_the_query() -> None:
    rows = [listing.row(spec(f"app-{i:03}"), AppStatus(f"app-{i:03}")) for i in range(120)]
    query = listing.Query.parse({"q": "app", "size": "50", "page": "3"})
    page = listing.select(rows, query)
    assert [r.name for r in page.rows] == [f"app-{i:03}" for i in range(100, 120)]
    assert (page.total, page.pages) == (120, 3)
    assert query.params(page=2) == "q=app&page=2"


def test_row_ids_are_safe_for_any_name() -> None:
    row = listing.row(spec('x"><script>'), AppStatus("x"))
    assert row.anchor.startswith("app-")
    assert row.anchor[4:].isalnum()


POLICY = """
roles:
  deployer: {actions: [view, sync], projects: [team-a]}
bindings:
  - {group: devs, roles: [deployer]}
  - {user: carol@example.com, roles: [viewer]}
"""


@pytest.mark.parametrize(
    ("who", "action", "project", "allowed"),
    [
        (("alice", "devs"), "sync", "team-a", True),
        (("alice", "devs"), "sync", "team-b", False),  # the role covers team-a only
        (("alice", "devs"), "rollback", "team-a", False),
        (("alice", "devs"), "get", "team-a", True),
        (("carol@example.com",), "get", "team-b", True),
        (("carol@example.com",), "refresh", "team-b", False),
        (("mallory", "others"), "get", "team-a", False),  # bound to nothing: nothing
    ],
)
def test_roles_per_project_from_groups_and_users(
    tmp_path: Path, who: tuple[str, ...], action: str, project: str, allowed: bool
) -> None:
    (tmp_path / "roles.yaml").write_text(POLICY)
    policy = load_role_policy(tmp_path / "roles.yaml")
    user, *groups = who
    principal = with_grants(policy, Principal(user, frozenset()), groups)
    if allowed:
        authorize(principal, action, project)
    else:
        with pytest.raises(ForbiddenError, match=f"may not {action}"):
            authorize(principal, action, project)


def test_a_token_keeps_its_own_role_under_a_policy(tmp_path: Path) -> None:
    (tmp_path / "roles.yaml").write_text(POLICY)
    policy = load_role_policy(tmp_path / "roles.yaml")
    admin = with_grants(policy, Principal("admin", frozenset({Role.ADMIN})))
    authorize(admin, "rollback", "anything")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("roles: {x: {actions: [deploy]}}", "unknown"),
        ("bindings: [{group: g, roles: [nope]}]", "unknown role 'nope'"),
        ("bindings: [{user: u, group: g, roles: [admin]}]", "exactly one of user or group"),
        ("- a list", "expected a mapping"),
    ],
)
def test_a_bad_policy_names_what_is_wrong(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "roles.yaml").write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_role_policy(tmp_path / "roles.yaml")


def test_sessions_expire_and_are_dropped() -> None:
    now = [1000.0]
    sessions = Sessions(lambda: now[0], ttl=60)
    cookie, session = sessions.create(Principal("a", frozenset({Role.VIEWER})))
    assert sessions.get(cookie) == session
    assert sessions.get(cookie + "x") is None
    now[0] += 61
    assert sessions.get(cookie) is None
    assert len(sessions) == 0


@pytest.mark.parametrize(
    ("target", "safe"),
    [
        ("/apps/web?tab=diff", "/apps/web?tab=diff"),
        ("//evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        (None, "/"),
    ],
)
def test_login_only_returns_to_this_server(target: str | None, safe: str) -> None:
    assert safe_next(target) == safe


def test_csrf_tokens_must_match_exactly() -> None:
    assert check_csrf("abc", "abc")
    assert not check_csrf("abc", "abd")
    assert not check_csrf("abc", None)
    assert not check_csrf("abc", "")


async def test_a_burst_of_changes_reaches_a_tab_as_few_coalesced_messages() -> None:
    subscriber = Subscriber()
    interval = 0.1
    batches = coalesce(subscriber, min_interval=interval, keepalive=5, clock=time.monotonic)

    async def burst() -> None:
        for i in range(1000):
            subscriber.pending.add(f"app-{i}")
            subscriber.wake.set()
            if i % 100 == 0:
                await asyncio.sleep(0)  # let the stream run between parts of the burst

    producer = asyncio.create_task(burst())
    seen: set[str] = set()
    times: list[float] = []
    while len(seen) < 1000:
        batch = await anext(batches)
        assert batch is not None
        seen |= batch[0]
        times.append(time.monotonic())
    await producer
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert len(times) <= 3  # 1,000 changes: a handful of messages, not 1,000
    assert all(gap >= interval * 0.9 for gap in gaps)


class FakeApps:
    """Just what :class:`Changes` reads of the controller (pure logic under test)."""

    def __init__(self) -> None:
        self.specs = {"a": spec("a"), "b": spec("b")}
        self.statuses = {"a": AppStatus("a"), "b": AppStatus("b")}

    def names(self) -> list[str]:
        return sorted(self.specs)

    def declared(self, app: str) -> AppSpec:
        return self.specs[app]

    def observed_all(self) -> list[AppStatus]:
        return list(self.statuses.values())


def test_changes_reach_subscribers_by_identity_of_the_new_status() -> None:
    apps = FakeApps()
    changes = Changes(apps)  # type: ignore[arg-type]
    changes.scan()
    with changes.subscribe() as tab:
        changes.publish(*changes.scan())
        assert tab.take() == (set(), False)  # nothing changed: nothing pending
        apps.statuses["a"] = AppStatus("a", SyncState.SYNCED)
        changes.publish(*changes.scan())
        assert tab.take() == ({"a"}, False)
        apps.specs["c"] = spec("c")
        changes.publish(*changes.scan())
        assert tab.take() == ({"c"}, True)  # an app appeared: the page is recomputed
