"""The Activity feed's logic without a browser: what a tab hears, catches up, and sees.

A real SQLite store (the one serve uses); the controller is a small fake holding specs
and statuses, as :class:`gitward.ui.live.Changes` reads them. The browser tests
(``test_activity_live.py``) show the same through a real serve.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gitward.api.auth import Principal
from gitward.api.roles import load_role_policy, with_grants
from gitward.model import AppSpec, Destination, SourceSpec, SyncPolicy
from gitward.model.history import (
    AppStatus,
    AuditEntry,
    AuditOutcome,
    Condition,
    SyncRecord,
    SyncResult,
    SyncState,
    SyncTrigger,
)
from gitward.model.revision import Revision
from gitward.store import Store
from gitward.ui.activity import ActivityQuery
from gitward.ui.activity_page import relevant, viewer
from gitward.ui.feed import DriftEntry, Entry, Feed, Watcher, catch_up, drift_of
from gitward.ui.live import Changes
from tests.store.conftest import FakeClock

AT = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
GIT = Revision("https://git.example/a.git", "main", "a" * 40)


def spec(
    name: str, project: str = "default", *, automated: bool = False, self_heal: bool = False
) -> AppSpec:
    return AppSpec(
        name=name,
        source=SourceSpec(repo_url=f"https://git.example/{name}.git", path="deploy"),
        destination=Destination(namespace=f"ns-{name}"),
        project=project,
        sync_policy=SyncPolicy(automated=automated, self_heal=self_heal),
    )


def drifted(app: str, objects: str = "ConfigMap/ns/web", live: str | None = GIT.sha) -> AppStatus:
    return AppStatus(
        app,
        SyncState.OUT_OF_SYNC,
        wanted=GIT,
        live_sha=live,
        conditions=(Condition("OutOfSync", "True", f"differs from Git: {objects}"),),
        updated_at=AT,
    )


class FakeApps:
    """What the feed and :class:`Changes` read of the controller."""

    def __init__(self) -> None:
        self.specs = {
            "a": spec("a", "team-a", automated=True),
            "b": spec("b", "team-b"),
        }
        self.statuses = {"a": AppStatus("a", SyncState.SYNCED), "b": AppStatus("b")}

    def names(self) -> list[str]:
        return sorted(self.specs)

    def declared(self, app: str) -> AppSpec:
        return self.specs[app]

    def observed(self, app: str) -> AppStatus:
        return self.statuses[app]

    def observed_all(self) -> list[AppStatus]:
        return list(self.statuses.values())


@pytest.mark.parametrize(
    ("seen", "missed"),
    [
        (3, ()),  # saw the latest
        (2, ("s3",)),
        (0, ("s1", "s2", "s3")),
        (4, None),  # a counter from another process (ahead): not known
        (-5, None),  # older than what is kept
    ],
)
def test_a_reconnect_gets_what_it_missed_or_is_told_it_cannot(
    seen: int, missed: tuple[str, ...] | None
) -> None:
    recent: list[tuple[int, tuple[Entry, ...] | None]] = [(n, (record(n, "a"),)) for n in (1, 2, 3)]
    got = catch_up(recent, 3, seen)
    assert (None if got is None else tuple(f"s{e.id}" for e in got)) == missed
    # a publication the feed could not name makes everything before it unknown
    assert catch_up([*recent, (4, None), (5, ())], 5, 3) is None
    assert catch_up([*recent, (4, None), (5, ())], 5, 4) == ()


def test_drift_is_a_look_that_found_differences_and_did_not_sync() -> None:
    healing_off, manual = spec("a", automated=True), spec("b")
    found = drift_of(AppStatus("a", SyncState.SYNCED), drifted("a"), healing_off, 7)
    assert found is not None
    assert (found.id, found.app, found.at) == (7, "a", AT)
    assert found.message == "differs from Git: ConfigMap/ns/web"
    assert found.in_cluster  # the wanted commit is live: changed in the cluster
    assert found.why == "self-heal is off"
    # seen again with the same words (every poll rewrites the status): not a new finding
    assert drift_of(drifted("a"), drifted("a"), healing_off, 8) is None
    # something else differs now: a new finding
    assert drift_of(drifted("a"), drifted("a", "Service/ns/web"), healing_off, 8) is not None
    # Git moved and nobody synced (not automated): out of sync, not "changed in the cluster"
    behind = drift_of(None, drifted("b", live="b" * 40), manual, 9)
    assert behind is not None
    assert not behind.in_cluster
    assert behind.why == "not automated: waits for a person to sync"
    failed = AppStatus("a", SyncState.OUT_OF_SYNC, conditions=(Condition("SyncFailed", "True"),))
    assert drift_of(None, failed, healing_off, 10) is None  # a failed sync is in the syncs


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(f"sqlite:///{tmp_path / 'gitward.db'}", FakeClock())
    try:
        yield opened
    finally:
        await opened.close()


async def test_the_feed_publishes_new_and_finished_syncs_audit_entries_and_drift(
    store: Store,
) -> None:
    apps = FakeApps()
    feed = Feed(apps, store, Changes(apps))  # type: ignore[arg-type]
    first = feed.mark
    with feed.watch() as tab:
        await feed.step(set())
        assert tab.take() == ([], True)  # its first read: what came before is not known
        sync = await store.start_sync("a", requested="main", sha=GIT.sha, trigger=SyncTrigger.POLL)
        await feed.step(set())
        assert kinds(tab) == [("sync", sync, "Running")]
        await store.finish_sync(sync, SyncResult.SUCCEEDED, message="synced 1 objects")
        await store.audit("alice", "refresh", "b", app="b")
        await feed.step(set())
        assert sorted(kinds(tab)) == [("audit", 1, "succeeded"), ("sync", sync, "Succeeded")]
        apps.statuses["a"] = drifted("a")
        await feed.step({"a"})
        assert kinds(tab) == [("drift", 1, "differs from Git: ConfigMap/ns/web")]
        await feed.step({"a"})  # nothing new
        assert not tab.wake.is_set()
        assert [d.app for d in feed.drift] == ["a"]  # kept for the page
    missed = feed.since(first)
    assert missed is None  # the first read could not name what it found
    assert feed.since(feed.mark) == ()
    assert feed.since("other-process.3") is None


def kinds(tab: Watcher) -> list[tuple[str, int, str]]:
    entries, unknown = tab.take()
    assert not unknown
    out = []
    for e in entries:
        if isinstance(e, SyncRecord):
            out.append(("sync", e.id, e.result.value))
        elif isinstance(e, AuditEntry):
            out.append(("audit", e.id, e.outcome.value))
        else:
            out.append(("drift", e.id, e.message))
    return out


def record(n: int, app: str, result: SyncResult = SyncResult.SUCCEEDED) -> SyncRecord:
    return SyncRecord(
        n, app, GIT.repo_url, "main", GIT.sha, SyncTrigger.MANUAL, "alice", "r", AT, AT, result
    )


def audit(n: int, app: str | None, outcome: AuditOutcome = AuditOutcome.SUCCEEDED) -> AuditEntry:
    return AuditEntry(n, AT, "bob", "sync" if app else "webhook", app or "github", outcome, app)


def finding(app: str) -> DriftEntry:
    return DriftEntry(1, app, AT, "differs from Git: ConfigMap/ns/x", "s", "s", "")


POLICY = """
roles:
  team-a-viewer: {actions: [view], projects: [team-a]}
bindings:
  - {user: carol@example.com, roles: [team-a-viewer]}
"""


@pytest.mark.parametrize(
    ("params", "entry", "shown"),
    [
        ({}, record(1, "a"), True),
        ({}, record(1, "b"), False),  # carol may not view team-b's app
        ({}, audit(1, "b"), False),
        ({}, audit(1, None), True),  # a webhook is about no app: shown to whoever may list
        ({}, finding("a"), True),
        ({}, finding("b"), False),
        ({}, finding("gone"), False),  # an app removed from Git: shown to no one
        ({"app": "a"}, audit(1, None), False),
        ({"show": "syncs"}, finding("a"), False),
        ({"show": "drift"}, finding("a"), True),
        ({"show": "drift"}, record(1, "a"), False),
        ({"actor": "bob"}, finding("a"), False),  # drift has no actor
        ({"actor": "bob"}, audit(1, "a"), True),
        ({"problems": "1"}, finding("a"), True),  # drift left alone is a problem
        ({"problems": "1"}, record(1, "a"), False),
        ({"problems": "1"}, record(1, "a", SyncResult.FAILED), True),
        ({"trigger": "manual"}, record(1, "a"), True),
        ({"trigger": "poll"}, record(1, "a"), False),
        ({"action": "sync"}, audit(1, "a", AuditOutcome.DENIED), True),
    ],
)
def test_a_tab_hears_of_entries_that_pass_its_filters_and_that_its_person_may_view(
    tmp_path: Path, params: dict[str, str], entry: Entry, shown: bool
) -> None:
    (tmp_path / "roles.yaml").write_text(POLICY)
    carol = with_grants(
        load_role_policy(tmp_path / "roles.yaml"), Principal("carol@example.com", frozenset())
    )
    may = viewer(carol.grants, FakeApps())  # type: ignore[arg-type]
    assert relevant(ActivityQuery.parse(params), may, [entry]) is shown


async def test_a_burst_of_entries_reaches_a_tab_as_few_messages() -> None:
    apps = FakeApps()
    feed = Feed(apps, None, Changes(apps))  # type: ignore[arg-type]
    interval = 0.1
    with feed.watch() as tab:
        batches = tab.batches(min_interval=interval, keepalive=5, clock=time.monotonic)

        async def burst() -> None:
            for i in range(1000):
                feed.publish([record(i, "a")])
                if i % 100 == 0:
                    await asyncio.sleep(0)  # the stream runs between parts of the burst

        producer = asyncio.create_task(burst())
        seen, unknown = 0, False
        times: list[float] = []
        while not (producer.done() and not tab.wake.is_set()):
            batch = await anext(batches)
            assert batch is not None
            seen += len(batch[0])
            unknown |= batch[1]  # more than a tab should hold: it re-renders instead
            times.append(time.monotonic())
        await producer
    assert seen == 1000 or unknown
    assert len(times) <= 3  # 1,000 entries: a handful of messages, not 1,000
    assert all(b - a >= interval * 0.9 for a, b in itertools.pairwise(times))
