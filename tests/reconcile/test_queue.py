"""The work queue: one run per app at a time, dedupe, delays kept, strongest trigger wins."""

from __future__ import annotations

import asyncio

import pytest

from gitward.model.history import Trigger
from gitward.reconcile.queue import WorkQueue


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    def wall(self) -> float:
        return self.now


async def next_ready(queue: WorkQueue) -> str | None:
    try:
        item = await asyncio.wait_for(queue.get(), timeout=0.05)
    except TimeoutError:
        return None
    return item.app


async def test_an_app_queued_twice_runs_once_with_the_stronger_trigger() -> None:
    queue = WorkQueue(FakeClock())
    queue.add("a", Trigger.POLL)
    queue.add("a", Trigger.MANUAL, actor="alice")
    item = await queue.get()
    assert (item.app, item.trigger, item.actor) == ("a", "manual", "alice")
    queue.done("a")
    assert await next_ready(queue) is None


async def test_a_running_app_is_not_handed_out_again_until_done() -> None:
    queue = WorkQueue(FakeClock())
    queue.add("a")
    first = await queue.get()
    queue.add("a", Trigger.WEBHOOK)
    assert await next_ready(queue) is None  # still running
    queue.done(first.app)
    again = await queue.get()
    assert again.trigger == "webhook"


async def test_a_delay_asked_while_running_is_kept_after_done() -> None:
    """The regression behind a reconcile storm: the next poll must not run at once."""
    clock = FakeClock()
    queue = WorkQueue(clock)
    timer = asyncio.create_task(queue.run_timer())
    try:
        queue.add("a")
        await queue.get()
        queue.add("a", Trigger.POLL, delay=180)  # the next poll, scheduled during the reconcile
        queue.done("a")
        assert await next_ready(queue) is None
        clock.now += 181
        queue.add("b", delay=0.0)  # any add wakes the timer up to re-check due times
        ready = {await next_ready(queue), await next_ready(queue)}
        assert ready == {"a", "b"}
    finally:
        timer.cancel()
        with pytest.raises(asyncio.CancelledError):
            await timer


async def test_an_earlier_due_time_wins_and_forget_drops_an_app() -> None:
    clock = FakeClock()
    queue = WorkQueue(clock)
    queue.add("a", delay=100)
    queue.add("a", Trigger.WEBHOOK)  # due now: no need to wait for the poll
    assert await next_ready(queue) == "a"
    queue.done("a")
    queue.add("b")
    queue.forget("b")
    assert await next_ready(queue) is None
    assert len(queue) == 0


async def test_a_driven_clock_releases_delayed_apps_without_a_timer() -> None:
    clock = FakeClock()
    queue = WorkQueue(clock)
    queue.add("a", Trigger.POLL, delay=180)
    queue.add("b", Trigger.SELFHEAL, delay=0.2)
    assert queue.release_due() == pytest.approx(0.2)
    assert await next_ready(queue) is None

    clock.now += 0.2
    assert queue.release_due() == pytest.approx(179.8)
    item = await queue.get()
    assert (item.app, item.trigger) == ("b", Trigger.SELFHEAL)
    assert queue.due_in("a") == pytest.approx(179.8)

    clock.now += 180
    assert queue.release_due() is None
    assert await next_ready(queue) == "a"
