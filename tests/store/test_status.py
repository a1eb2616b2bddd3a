"""Application status: upsert, list, delete, and people's pins and suspensions."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from gitward.model.health import Health, HealthStatus
from gitward.model.history import AppStatus, Condition, SyncState, SyncTrigger
from gitward.model.revision import Revision
from gitward.store import Store
from tests.store.conftest import FakeClock

WANTED = Revision("https://git.example/apps.git", "main", "a" * 40)


def observed(app: str, **changes: Any) -> AppStatus:
    status = AppStatus(
        app,
        sync_state=SyncState.OUT_OF_SYNC,
        health=Health(HealthStatus.PROGRESSING, "Deployment web: 1 of 3 replicas ready"),
        live_sha="b" * 40,
        wanted=WANTED,
        conditions=(
            Condition("ComparisonError", "False"),
            Condition("SyncError", "True", "hook db-migrate failed"),
        ),
    )
    return replace(status, **changes)


async def test_put_then_get_round_trips_every_field(store: Store, clock: FakeClock) -> None:
    stored = await store.put_status(observed("web"))

    assert stored == observed("web", updated_at=clock.now)
    assert await store.get_status("web") == stored


async def test_get_unknown_app_is_none(store: Store) -> None:
    assert await store.get_status("nothing") is None


async def test_put_replaces_the_whole_observation(store: Store, clock: FakeClock) -> None:
    await store.put_status(observed("web"))
    clock.advance(30)
    healthy = AppStatus("web", SyncState.SYNCED, Health(HealthStatus.HEALTHY), live_sha="c" * 40)

    stored = await store.put_status(healthy)

    assert stored == replace(healthy, updated_at=clock.now)
    assert stored.wanted is None
    assert stored.conditions == ()


async def test_list_is_sorted_by_app_name(store: Store) -> None:
    for app in ("web", "api", "db"):
        await store.put_status(observed(app))

    assert [s.app for s in await store.list_status()] == ["api", "db", "web"]


async def test_delete_forgets_status_and_controls(store: Store) -> None:
    await store.put_status(observed("web"))
    await store.pin("web", "d" * 40, actor="alice")

    assert await store.delete_status("web") is True
    assert await store.get_status("web") is None
    assert await store.delete_status("web") is False
    assert (await store.put_status(observed("web"))).pin is None


async def test_pin_records_who_and_when(store: Store, clock: FakeClock) -> None:
    await store.put_status(observed("web"))
    clock.advance(5)

    pinned = await store.pin("web", "d" * 40, actor="alice", reason="bad release")

    assert pinned.pin is not None
    assert (pinned.pin.sha, pinned.pin.by, pinned.pin.reason) == ("d" * 40, "alice", "bad release")
    assert pinned.pin.at == clock.now
    assert pinned.sync_state is SyncState.OUT_OF_SYNC  # the observation is untouched


async def test_a_status_write_never_undoes_a_pin(store: Store) -> None:
    before = await store.put_status(observed("web"))  # read by the loop before the pin
    await store.pin("web", "d" * 40, actor="alice")

    after = await store.put_status(replace(before, sync_state=SyncState.SYNCED, pin=None))

    assert after.pin is not None
    assert after.pin.sha == "d" * 40


async def test_unpin_returns_the_released_pin(store: Store) -> None:
    pinned = await store.pin("web", "d" * 40, actor="alice")

    assert await store.unpin("web") == pinned.pin
    assert await store.unpin("web") is None
    assert await store.unpin("never-seen") is None
    status = await store.get_status("web")
    assert status is not None
    assert status.pin is None


async def test_pin_of_an_unobserved_app_creates_an_unknown_status(store: Store) -> None:
    pinned = await store.pin("new", "e" * 40, actor="bob")

    assert pinned.sync_state is SyncState.UNKNOWN
    assert pinned.health.status is HealthStatus.UNKNOWN
    assert pinned.pin is not None


async def test_suspend_and_resume_survive_status_writes(store: Store) -> None:
    await store.put_status(observed("web"))
    assert (await store.set_suspended("web", True)).suspended

    assert (await store.put_status(observed("web", suspended=False))).suspended
    assert not (await store.set_suspended("web", False)).suspended


async def test_last_sync_id_follows_history(store: Store) -> None:
    await store.put_status(observed("web"))
    first = await store.start_sync("web", requested="main", sha=None, trigger=SyncTrigger.POLL)
    await store.start_sync("api", requested="main", sha=None, trigger=SyncTrigger.POLL)
    assert (await store.put_status(observed("web", last_sync_id=999))).last_sync_id == first

    second = await store.start_sync("web", requested="v2", sha=None, trigger=SyncTrigger.MANUAL)

    status = await store.get_status("web")
    assert status is not None
    assert status.last_sync_id == second
