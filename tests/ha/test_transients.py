"""Moments when replicas disagree, replayed step by step: two in-process replicas on a
real PostgreSQL, in-memory Leases and one fake clock, each loop step called by hand."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gitward.ha.assign import assignment
from gitward.ha.replica import HaSettings, Hooks, Replica
from gitward.store import Store
from tests.ha.test_replica import MemoryLeases, ignore
from tests.store.conftest import FakeClock
from tests.store.postgres import PostgresServer

APPS = [f"app-{i}" for i in range(12)]
DURATION = 15.0


@pytest.fixture
async def stores(postgres: PostgresServer) -> AsyncIterator[tuple[Store, Store, FakeClock]]:
    url, clock = postgres.create_database(), FakeClock()
    one = await Store.open(url, clock, owner="r1")
    two = await Store.open(url, clock, owner="r2")
    try:
        yield one, two, clock
    finally:
        await one.close()
        await two.close()


def replica(me: str, store: Store, leases: MemoryLeases, clock: FakeClock) -> Replica:
    hooks = Hooks(lambda: APPS, ignore, ignore)
    return Replica(HaSettings(me, "ns", DURATION), lambda: leases, store.ownership(), clock, hooks)


async def test_apps_taken_while_a_lease_looked_expired_come_back_to_their_owner(
    stores: tuple[Store, Store, FakeClock],
) -> None:
    one, two, clock = stores
    leases = MemoryLeases()
    r1, r2 = replica("r1", one, leases, clock), replica("r2", two, leases, clock)
    for r in (r1, r2, r1, r2):
        await r.lease.renew(leases)
        await r._refresh()
    wanted = dict(assignment(APPS, ["r1", "r2"]))
    assert await one.ownership().owners() == wanted

    # r1's renewal comes late: r2 sees its Lease expire and takes its apps ...
    clock.advance(DURATION + 1)
    await r2.lease.renew(leases)
    await r2._refresh()
    assert set((await one.ownership().owners()).values()) == {"r2"}
    # ... then r1 renews, and r2 lets them go, before r1 has looked at all
    await r1.lease.renew(leases)
    await r2._refresh()

    await r1._refresh()

    assert await one.ownership().owners() == wanted
    assert {a for a in APPS if r1.owns(a)} == {a for a, o in wanted.items() if o == "r1"}
