"""The replica's decisions, with in-memory Leases and owners (the real ones are tested
against the API server and PostgreSQL in test_replicas.py and test_ownership.py)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable, Collection, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import pytest

from gitward.errors import NotOwnerError
from gitward.ha import lease
from gitward.ha.assign import owner
from gitward.ha.replica import HaSettings, Hooks, Replica
from gitward.store.errors import StoreError
from tests.store.conftest import FakeClock

APPS = [f"app-{i}" for i in range(12)]


class MemoryLeases:
    def __init__(self) -> None:
        self.items: dict[str, lease.LeaseRecord] = {}
        self.version = 0

    async def list(self) -> list[lease.LeaseRecord]:
        return list(self.items.values())

    async def get(self, name: str) -> lease.LeaseRecord | None:
        return self.items.get(name)

    async def write(self, body: dict[str, Any], *, create: bool) -> lease.LeaseRecord:
        self.version += 1
        body["metadata"]["resourceVersion"] = str(self.version)
        record = lease.parse(body)
        self.items[record.name] = record
        return record

    async def delete(self, name: str) -> None:
        self.items.pop(name, None)

    async def aclose(self) -> None:
        return None


@dataclasses.dataclass(frozen=True)
class Taken:
    epoch: int = 1
    interrupted: tuple[int, ...] = ()
    finish: bool = False


class MemoryOwners:
    def __init__(self) -> None:
        self.rows: dict[str, str] = {}
        self.held: list[str] = []
        self.queued: list[tuple[str, str, str, str]] = []
        self.schema = ""  # what schema_problem says

    async def adopt(self, app: str, members: frozenset[str], expires: float) -> Taken:
        return Taken()

    @asynccontextmanager
    async def hold(self, app: str, members: frozenset[str], expires: float) -> AsyncIterator[int]:
        self.held.append(app)
        yield 1

    async def release(self, keep: Collection[str] = ()) -> list[str]:
        return []

    async def owned(self) -> set[str]:
        return set(APPS)  # the store agrees with every replica here

    async def queue_triggers(self, triggers: Sequence[tuple[str, str, str, str]]) -> None:
        self.queued += triggers

    async def take_triggers(self, apps: Iterable[str]) -> list[tuple[str, str, str, str]]:
        return [t for t in self.queued if t[0] in set(apps)]

    async def announce(self) -> None:
        return None

    async def listen(self, on_notify: Callable[[str, str], None]) -> None:
        return None

    async def schema_problem(self) -> str:
        return self.schema


async def ignore(*_: object) -> None:
    return None


async def started(me: str, leases: MemoryLeases, owners: MemoryOwners) -> Replica:
    replica = Replica(
        HaSettings(me, "ns", 15.0),
        lambda: leases,
        owners,
        FakeClock(),
        Hooks(lambda: APPS, ignore, ignore),
    )
    await replica.lease.renew(leases)  # by hand: no Lease thread in these tests
    await replica._refresh()
    return replica


async def test_a_replica_owns_the_apps_hashing_gives_it_and_fences_only_those() -> None:
    leases, owners = MemoryLeases(), MemoryOwners()
    other = await started("r2", leases, owners)
    me = await started("r1", leases, owners)
    await other._refresh()

    mine = {a for a in APPS if owner(a, ["r1", "r2"]) == "r1"}
    assert {a for a in APPS if me.owns(a)} == mine
    assert {a for a in APPS if other.owns(a)} == set(APPS) - mine
    async with me.fence(sorted(mine)[0]):
        pass
    with pytest.raises(NotOwnerError, match="belongs to another replica"):
        async with me.fence(sorted(set(APPS) - mine)[0]):
            pytest.fail("synced another replica's app")


async def test_sharded_by_cluster_every_app_of_a_cluster_is_on_one_replica() -> None:
    """``--shard-by cluster``: the replicas share out clusters; a replica syncs every app
    of the clusters hashing gives it, and fences away the apps of the others."""
    leases, owners = MemoryLeases(), MemoryOwners()
    cluster = {app: f"cluster-{i % 4}" for i, app in enumerate(APPS)}

    def replica(me: str) -> Replica:
        hooks = Hooks(lambda: APPS, ignore, ignore, shard_key=cluster.__getitem__)
        return Replica(
            HaSettings(me, "ns", 15.0, shard_by="cluster"),
            lambda: leases,
            owners,
            FakeClock(),
            hooks,
        )

    one, two = replica("r1"), replica("r2")
    for r in (one, two, one):
        await r.lease.renew(leases)
        await r._refresh()

    by_cluster: dict[str, set[str]] = {}
    for app in APPS:
        [holder] = [r.me for r in (one, two) if r.owns(app)]
        assert holder == owner(cluster[app], ["r1", "r2"])
        by_cluster.setdefault(cluster[app], set()).add(holder)
    assert all(len(holders) == 1 for holders in by_cluster.values())
    assert len({h for holders in by_cluster.values() for h in holders}) == 2  # both work
    theirs = next(a for a in APPS if two.owns(a))
    with pytest.raises(NotOwnerError, match="belongs to another replica"):
        async with one.fence(theirs):
            pytest.fail("synced an app of another replica's cluster")


async def test_a_lease_taken_by_hand_stops_every_sync_at_once() -> None:
    leases, owners = MemoryLeases(), MemoryOwners()
    me = await started("r1", leases, owners)
    name = lease.lease_name("r1")
    leases.items[name] = dataclasses.replace(leases.items[name], holder="mallory")

    with pytest.raises(NotOwnerError, match="now held by 'mallory'"):
        async with me.fence(APPS[0]):
            pytest.fail("synced without its Lease")

    assert not any(me.owns(a) for a in APPS)
    assert owners.held == []


async def test_a_replica_without_its_lease_says_why_until_it_holds_it_again() -> None:
    leases, owners = MemoryLeases(), MemoryOwners()
    me = await started("r1", leases, owners)
    name = lease.lease_name("r1")
    assert me.problem == ""
    leases.items[name] = dataclasses.replace(leases.items[name], holder="mallory")
    with pytest.raises(NotOwnerError):
        async with me.fence(APPS[0]):
            pytest.fail("synced without its Lease")

    assert me.problem == f"Lease {name} is now held by 'mallory'"
    del leases.items[name]  # deleted by hand: the next renewal creates it again
    await me.lease.renew(leases)
    await me._refresh()
    assert me.problem == ""
    assert any(me.owns(a) for a in APPS)
    assert isinstance(me._clock, FakeClock)
    me._clock.advance(15.0)  # no renewal for a Lease duration
    assert me.problem == f"replica r1 has not renewed its Lease {name} in time"


async def test_a_store_migrated_by_a_newer_version_stops_the_replica_until_it_matches() -> None:
    leases, owners = MemoryLeases(), MemoryOwners()
    me = await started("r1", leases, owners)
    owners.schema = "the database is at schema revision '9999', which this version ..."
    await me._tick()

    assert me.problem == owners.schema
    assert not any(me.owns(a) for a in APPS)
    with pytest.raises(NotOwnerError, match="schema revision '9999'"):
        async with me.fence(APPS[0]):
            pytest.fail("synced on a store of another schema")
    await me.lease.renew(leases)  # the Lease thread renews nothing: it gave the Lease up
    assert me.problem == owners.schema
    assert lease.lease_name("r1") not in leases.items
    owners.schema = ""  # rolled back
    assert isinstance(me._clock, FakeClock)
    me._clock.advance(5.0)  # the next look at the schema
    await me._tick()
    assert me.problem == f"replica r1 has not renewed its Lease {lease.lease_name('r1')} in time"
    await me.lease.renew(leases)  # the Lease thread, woken by the tick
    await me._refresh()
    assert me.problem == ""
    assert any(me.owns(a) for a in APPS)


async def test_a_replica_behind_the_store_schema_gives_its_apps_to_the_others() -> None:
    """An upgrade rolling through the replicas migrates the store; a replica still on the
    old version must not keep its Lease (the others would leave its share unsynced for
    as long as the upgrade takes). It gives the Lease up, and takes its share back once
    the schema matches again."""
    leases = MemoryLeases()
    old, new = MemoryOwners(), MemoryOwners()
    me = await started("r1", leases, old)
    other = await started("r2", leases, new)
    await me._refresh()
    assert {a for a in APPS if other.owns(a)} != set(APPS)

    old.schema = "the database is at schema revision '9999', which this version ..."
    await me._tick()
    await me.lease.renew(leases)  # the Lease thread's next turn: it renews nothing
    await other._refresh()

    assert lease.lease_name("r1") not in leases.items
    assert {a for a in APPS if other.owns(a)} == set(APPS)
    assert me.problem == old.schema

    old.schema = ""  # this replica upgraded, or the store rolled back
    assert isinstance(me._clock, FakeClock)
    me._clock.advance(5.0)  # the next look at the schema
    await me._tick()
    await me.lease.renew(leases)
    await me._refresh()
    await other._refresh()
    mine = {a for a in APPS if owner(a, ["r1", "r2"]) == "r1"}
    assert {a for a in APPS if me.owns(a)} == mine
    assert {a for a in APPS if other.owns(a)} == set(APPS) - mine
    assert me.problem == ""


async def test_a_trigger_the_controller_could_not_take_is_delivered_at_the_next_tick() -> None:
    leases, owners = MemoryLeases(), MemoryOwners()
    heard: list[tuple[str, str, str, str]] = []
    failures = [StoreError("store: cannot read the status of app-0", transient=True)]

    async def triggered(app: str, trigger: str, actor: str, options: str) -> None:
        if failures:
            raise failures.pop()  # PostgreSQL restarting: the status cannot be read
        heard.append((app, trigger, actor, options))

    me = Replica(
        HaSettings("r1", "ns", 15.0),
        lambda: leases,
        owners,
        FakeClock(),
        Hooks(lambda: APPS, ignore, triggered),
    )
    await me.lease.renew(leases)
    await me._refresh()
    owners.queued = [
        ("app-0", "webhook", "webhook:github", ""),
        ("app-1", "manual", "alice", '{"prune": false}'),
    ]
    await me._tick()  # takes them from the store: their rows are gone

    with pytest.raises(StoreError):
        await me._deliver()
    await me._deliver()

    assert heard == owners.queued


async def test_a_lease_listed_with_another_holder_stops_the_replica_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    leases, owners = MemoryLeases(), MemoryOwners()
    me = await started("r1", leases, owners)
    name = lease.lease_name("r1")
    leases.items[name] = dataclasses.replace(leases.items[name], holder="mallory")

    await me._refresh()  # the loop lists the Leases before the Lease thread renews

    assert not any(me.owns(a) for a in APPS)
    assert me.problem == f"Lease {name} is now held by 'mallory'"
    assert f"replica r1 stops syncing: Lease {name} is now held by 'mallory'" in caplog.text


async def test_sigterm_gives_up_the_lease_while_a_sync_is_in_flight() -> None:
    leases, owners = MemoryLeases(), MemoryOwners()
    me = await started("r1", leases, owners)
    mine = sorted(a for a in APPS if me.owns(a))

    async with me.fence(mine[0]):  # a sync in flight when SIGTERM comes
        await me.leave()
        assert lease.lease_name("r1") not in leases.items  # the others take over now
        assert me.problem == "replica r1 is stopping"
        with pytest.raises(NotOwnerError, match="stopping"):
            async with me.fence(mine[1]):
                pytest.fail("a sync started after SIGTERM")
    await me.stop()
