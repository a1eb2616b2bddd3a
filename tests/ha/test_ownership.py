"""App owners and queued triggers in a real PostgreSQL: the store half of "never two writers".

Two stores on one database stand for two replicas (each its own connection pool, as two
processes have). Time is a fake clock; the locks are PostgreSQL's own.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from gitward.errors import NotOwnerError
from gitward.ha.forward import Forwarder
from gitward.model.history import SyncResult, SyncTrigger
from gitward.model.syncrequest import SyncRequest
from gitward.store import Store, parse_store_url
from tests.store.conftest import FakeClock
from tests.store.postgres import PostgresServer

DURATION = 15.0


@pytest.fixture
async def pair(postgres: PostgresServer) -> AsyncIterator[tuple[Store, Store, FakeClock]]:
    url = postgres.create_database()
    clock = FakeClock()
    one = await Store.open(url, clock, owner="r1")
    two = await Store.open(url, clock, owner="r2")
    try:
        yield one, two, clock
    finally:
        await one.close()
        await two.close()


async def test_an_app_held_by_a_live_replica_is_not_taken(
    pair: tuple[Store, Store, FakeClock],
) -> None:
    one, two, clock = pair
    expires = clock.wall() + DURATION
    assert (await one.ownership().adopt("web", frozenset({"r1", "r2"}), expires)).epoch == 1

    with pytest.raises(NotOwnerError, match="still holds it and is live") as refused:
        await two.ownership().adopt("web", frozenset({"r1", "r2"}), expires)
    assert refused.value.retry_after is not None
    assert await one.ownership().owners() == {"web": "r1"}


async def test_a_dead_replicas_app_is_taken_once_its_lease_expired_and_its_sync_interrupted(
    pair: tuple[Store, Store, FakeClock],
) -> None:
    one, two, clock = pair
    await one.ownership().adopt("web", frozenset({"r1", "r2"}), clock.wall() + DURATION)
    running = await one.start_sync("web", requested="main", sha="a" * 40, trigger=SyncTrigger.POLL)

    with pytest.raises(NotOwnerError, match="valid for"):  # r1 gone from the Leases, not expired
        await two.ownership().adopt("web", frozenset({"r2"}), clock.wall() + DURATION)

    clock.advance(DURATION + 1)
    taken = await two.ownership().adopt("web", frozenset({"r2"}), clock.wall() + DURATION)

    assert (taken.epoch, taken.interrupted, taken.finish) == (2, (running,), True)
    record = await two.get_sync(running)
    assert record is not None
    assert record.result is SyncResult.INTERRUPTED
    assert "'r1' stopped before this sync finished; 'r2' took the app over" in record.message
    assert await two.ownership().owners() == {"web": "r2"}


async def test_a_sync_in_flight_keeps_every_other_writer_out(
    pair: tuple[Store, Store, FakeClock],
) -> None:
    one, two, clock = pair
    members, expires = frozenset({"r1"}), clock.wall() + DURATION
    await one.ownership().adopt("web", members, expires)
    async with one.ownership().hold("web", members, expires) as epoch:
        assert epoch == 1
        clock.advance(DURATION + 1)  # even when r1 looks dead to r2, its lock stands
        with pytest.raises(NotOwnerError, match="syncing it right now"):
            async with two.ownership().hold("web", frozenset({"r2"}), clock.wall() + DURATION):
                pytest.fail("two writers")
        assert await one.ownership().release() == []  # in a sync: not released yet
    assert await one.ownership().release(keep=["api"]) == ["web"]
    with pytest.raises(NotOwnerError, match="not taken over"):  # a sync never takes an app
        async with two.ownership().hold("web", frozenset({"r2"}), clock.wall() + DURATION):
            pytest.fail("synced an app nobody adopted")
    await two.ownership().adopt("web", frozenset({"r2"}), clock.wall() + DURATION)
    async with two.ownership().hold("web", frozenset({"r2"}), clock.wall() + DURATION) as epoch:
        assert epoch == 1  # a released app is new again


async def test_triggers_wait_for_the_owner_and_wake_it(
    pair: tuple[Store, Store, FakeClock],
) -> None:
    one, two, _ = pair
    heard: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
    listener = asyncio.create_task(one.ownership().listen(lambda c, p: heard.put_nowait((c, p))))
    try:
        await asyncio.sleep(0)  # the listener connects; notifications before it are polled
        for _ in range(100):
            await two.ownership().queue_triggers([("web", "webhook", "webhook:github", "")])
            try:
                note = await asyncio.wait_for(heard.get(), timeout=0.2)
                break
            except TimeoutError:
                continue
        else:
            pytest.fail("no notification reached the listener")
        assert note == ("gitward_triggers", "web")
        options = SyncRequest(prune=False, force=True).encode()  # a person's, for one sync
        await two.ownership().queue_triggers([("api", "manual", "alice", options)])

        taken = await one.ownership().take_triggers(["web", "api"])
        assert taken[-1] == ("api", "manual", "alice", options)
        assert SyncRequest.decode(taken[-1][3]) == SyncRequest(prune=False, force=True)
        assert {t[0] for t in taken} == {"web", "api"}
        assert await one.ownership().take_triggers(["web", "api"]) == []
    finally:
        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)


async def test_a_store_of_another_schema_is_named(pair: tuple[Store, Store, FakeClock]) -> None:
    one, _, _ = pair
    assert await one.ownership().schema_problem() == ""
    engine = create_async_engine(parse_store_url(str(one.location)).url)
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    await engine.dispose()

    problem = await one.ownership().schema_problem()

    assert "schema revision '9999'" in problem
    assert "run the same version on every replica" in problem


async def test_a_burst_of_forwarded_triggers_is_written_in_a_few_transactions(
    pair: tuple[Store, Store, FakeClock],
) -> None:
    """A cluster answering again refreshes every app on every replica: a thousand
    triggers for other replicas at once. Written one transaction each, they exhausted
    the connection pool; batched, they take two, each trigger once, none lost."""
    one, two, _ = pair
    owners = two.ownership()
    transactions: list[int] = []
    write = owners.queue_triggers

    async def counted(triggers: Sequence[tuple[str, str, str, str]]) -> None:
        transactions.append(len(triggers))
        await write(triggers)

    owners.queue_triggers = counted  # type: ignore[method-assign]
    forwarder = Forwarder(owners)
    apps = [f"app-{i}" for i in range(1000)]
    for app in apps:
        forwarder.add(app, "refresh", "gitward")
        forwarder.add(app, "refresh", "gitward")  # the same again: written once
    forwarder.add("app-7", "manual", "alice")  # another trigger for one of them: kept
    await forwarder.close()

    assert sum(transactions) == 1001
    assert len(transactions) <= 3
    taken = await one.ownership().take_triggers(apps)
    assert sorted(taken) == sorted(
        [(a, "refresh", "gitward", "") for a in apps] + [("app-7", "manual", "alice", "")]
    )
