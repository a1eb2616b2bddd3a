"""A clock tests drive, and a wait for the controller's next finished step.

The controller's queue and its step take time only from the injected clock, so a test
advances the clock instead of sleeping, then releases what became due.
"""

from __future__ import annotations

import asyncio
import time

from gitward.reconcile.controller import Controller


class DrivenClock:
    """A :class:`gitward.ports.Clock` that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    def wall(self) -> float:
        return 1_800_000_000.0 + self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


async def stepped(controller: Controller, app: str, count: int, deadline: float = 60.0) -> float:
    """Wait until the controller has finished its ``count``-th reconcile of ``app`` and
    queued it again; return the delay it asked for (driven-clock seconds).

    Reconciles run in real time (Git, the API server); only the queue's clock is driven.
    """
    give_up = time.monotonic() + deadline
    while True:
        due = controller.queue.due_in(app)
        if controller.reconciles >= count and due is not None:
            return due
        if time.monotonic() > give_up:
            raise AssertionError(
                f"reconcile {count} of {app} did not finish; {controller.reconciles} ran"
            )
        await asyncio.sleep(0.01)


def release(controller: Controller, clock: DrivenClock, seconds: float) -> None:
    """Let ``seconds`` pass on the queue's clock and hand out what became due."""
    clock.advance(seconds)
    controller.queue.release_due()
