"""A clock tests drive, and a wait for the controller's next finished step.

The controller's queue and its step take time only from the injected clock, so a test
advances the clock instead of sleeping, then releases what became due.
"""

from __future__ import annotations

from gitward.reconcile.controller import Controller
from tests.support.waiting import eventually


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


async def stepped(controller: Controller, app: str, count: int) -> float:
    """Wait until the controller has finished its ``count``-th reconcile of ``app`` and
    queued it again; return the delay it asked for (driven-clock seconds).

    Reconciles run in real time (Git, the API server); only the queue's clock is driven.
    """

    def observe() -> tuple[int, float | None]:
        return controller.reconciles, controller.queue.due_in(app)

    def done(seen: tuple[int, float | None]) -> bool:
        return seen[0] >= count and seen[1] is not None

    _, due = await eventually(observe, done, what=f"reconcile {count} of {app} to finish")
    assert due is not None
    return due


def release(controller: Controller, clock: DrivenClock, seconds: float) -> None:
    """Let ``seconds`` pass on the queue's clock and hand out what became due."""
    clock.advance(seconds)
    controller.queue.release_due()
