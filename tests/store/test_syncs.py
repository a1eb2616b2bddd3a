"""Sync history: the lifecycle of one sync, ordering, limits and crash recovery."""

from __future__ import annotations

import pytest

from gitward.model.history import (
    SYSTEM_ACTOR,
    ObjectAction,
    SyncRecord,
    SyncResult,
    SyncTrigger,
    actions_of,
)
from gitward.model.plan import Change, ChangeSet, Outcome
from gitward.model.resource import ResourceKey
from gitward.store import INTERRUPTED_MESSAGE, Store, StoreError
from tests.store.conftest import FakeClock

REPO = "https://git.example/apps.git"
SHA = "0123456789abcdef0123456789abcdef01234567"
DEPLOY = ResourceKey("apps", "Deployment", "web", "frontend")
CONFIG = ResourceKey("", "ConfigMap", "web", "settings")
NAMESPACE = ResourceKey("", "Namespace", "", "web")
MASKED_DIFF = (
    "--- Secret web/db-credentials\n"
    "-  password: '++++++++'\n"
    "+  password: '++++++++ (changed)'\n"
    'ConfigMap web/settings: data.mode: "a" -> "b"\n'
    "unicode: ✓ naïve 日本\n"
)


async def start(store: Store, app: str = "web", trigger: SyncTrigger = SyncTrigger.POLL) -> int:
    return await store.start_sync(app, requested="main", sha=SHA, trigger=trigger, repo_url=REPO)


async def test_a_started_sync_is_running(store: Store, clock: FakeClock) -> None:
    sync_id = await store.start_sync(
        "web", requested="main", sha=SHA, trigger=SyncTrigger.WEBHOOK, repo_url=REPO
    )

    assert await store.get_sync(sync_id) == SyncRecord(
        id=sync_id,
        app="web",
        repo_url=REPO,
        requested="main",
        sha=SHA,
        trigger=SyncTrigger.WEBHOOK,
        actor=SYSTEM_ACTOR,
        owner="local",
        started_at=clock.now,
    )


async def test_finish_records_result_actions_and_diff(store: Store, clock: FakeClock) -> None:
    sync_id = await start(store)
    clock.advance(12.5)
    changes = ChangeSet(
        (
            Change(NAMESPACE, Outcome.UNCHANGED),
            Change(CONFIG, Outcome.CONFIGURED, "data.mode changed"),
            Change(DEPLOY, Outcome.HOOK_FAILED, "Job db-migrate: BackoffLimitExceeded"),
        )
    )

    done = await store.finish_sync(
        sync_id,
        SyncResult.FAILED,
        message="hook db-migrate failed",
        actions=actions_of(changes),
        diff_summary=MASKED_DIFF,
    )

    assert done.result is SyncResult.FAILED
    assert done.finished_at == clock.now
    assert done.message == "hook db-migrate failed"
    assert done.actions == (
        ObjectAction(NAMESPACE, Outcome.UNCHANGED),
        ObjectAction(CONFIG, Outcome.CONFIGURED, "data.mode changed"),
        ObjectAction(DEPLOY, Outcome.HOOK_FAILED, "Job db-migrate: BackoffLimitExceeded"),
    )
    assert await store.get_sync(sync_id) == done


async def test_a_masked_diff_round_trips_byte_for_byte(store: Store) -> None:
    sync_id = await start(store)
    await store.finish_sync(sync_id, SyncResult.SUCCEEDED, diff_summary=MASKED_DIFF)

    found = await store.get_sync(sync_id)

    assert found is not None
    assert found.diff_summary == MASKED_DIFF


async def test_finish_can_fill_in_a_late_sha(store: Store) -> None:
    sync_id = await store.start_sync(
        "web", requested="v1.2.*", sha=None, trigger=SyncTrigger.MANUAL, actor="alice"
    )
    assert (await store.get_sync(sync_id)).revision is None  # type: ignore[union-attr]

    done = await store.finish_sync(sync_id, SyncResult.SUCCEEDED, sha=SHA)

    assert done.sha == SHA
    assert done.actor == "alice"


async def test_a_sync_ends_only_once(store: Store) -> None:
    sync_id = await start(store)
    await store.finish_sync(sync_id, SyncResult.SUCCEEDED)

    with pytest.raises(StoreError, match=f"sync {sync_id} of web: it already ended as Succeeded"):
        await store.finish_sync(sync_id, SyncResult.FAILED)


async def test_finishing_an_unknown_sync_says_so(store: Store) -> None:
    with pytest.raises(StoreError, match="cannot finish sync 4242: there is no such sync"):
        await store.finish_sync(4242, SyncResult.SUCCEEDED)


async def test_finish_needs_a_final_result(store: Store) -> None:
    with pytest.raises(ValueError, match="not Running"):
        await store.finish_sync(await start(store), SyncResult.RUNNING)


async def test_unknown_sync_is_none(store: Store) -> None:
    assert await store.get_sync(99) is None


async def test_history_is_newest_first_per_app_and_limited(store: Store, clock: FakeClock) -> None:
    ids = []
    for n in range(6):
        ids.append(await start(store, "web" if n % 2 == 0 else "api"))
        clock.advance(1)

    web = await store.list_syncs("web")
    assert [s.id for s in web] == [ids[4], ids[2], ids[0]]
    assert [s.id for s in await store.list_syncs("web", limit=2)] == [ids[4], ids[2]]
    assert [s.id for s in await store.list_syncs(limit=4)] == ids[:1:-1]
    assert ids == sorted(ids)
    assert await store.list_syncs("nothing") == []


async def test_every_trigger_round_trips(store: Store) -> None:
    for trigger in SyncTrigger:
        await start(store, trigger=trigger)

    found = {s.trigger for s in await store.list_syncs("web")}

    assert found == set(SyncTrigger)


async def test_a_crash_leaves_running_rows_that_restart_interrupts(
    store_url: str, clock: FakeClock
) -> None:
    crashed = await Store.open(store_url, clock)
    done_id = await start(crashed)
    await crashed.finish_sync(done_id, SyncResult.SUCCEEDED)
    running_ids = [await start(crashed, "web"), await start(crashed, "api")]
    await crashed.close()  # like kill -9: finish_sync never runs
    clock.advance(60)

    restarted = await Store.open(store_url, clock)
    try:
        assert sorted(s.id for s in await restarted.running_syncs()) == running_ids
        marked = await restarted.mark_interrupted()

        assert sorted(s.id for s in marked) == running_ids
        for record in marked:
            assert record.result is SyncResult.INTERRUPTED
            assert record.finished_at == clock.now
            assert record.message == INTERRUPTED_MESSAGE
        assert await restarted.running_syncs() == []
        assert await restarted.mark_interrupted() == []
        done = await restarted.get_sync(done_id)
        assert done is not None
        assert done.result is SyncResult.SUCCEEDED
        with pytest.raises(StoreError, match="already ended as Interrupted"):
            await restarted.finish_sync(running_ids[0], SyncResult.SUCCEEDED)
    finally:
        await restarted.close()


async def test_recovery_leaves_other_replicas_syncs_alone(store_url: str, clock: FakeClock) -> None:
    one = await Store.open(store_url, clock, owner="replica-0")
    two = await Store.open(store_url, clock, owner="replica-1")
    try:
        mine = await start(one)
        theirs = await start(two)

        assert [s.id for s in await one.mark_interrupted()] == [mine]
        assert [s.id for s in await one.running_syncs()] == [theirs]
        assert [s.owner for s in await one.running_syncs("replica-1")] == ["replica-1"]
        assert await one.running_syncs("replica-0") == []
    finally:
        await one.close()
        await two.close()
