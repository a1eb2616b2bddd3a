"""The one way tests wait: poll an observation until it satisfies a condition, or fail.

A test on a loaded machine must never sleep and then assert; it waits for the event that
proves what it checks (a status, a sync record, a value in the cluster), with a deadline
generous enough for a slow runner. When the deadline passes, the failure shows what was
observed last, so a red test says what it saw instead of only "timed out".

``eventually`` is for async tests (the observation may be sync or async);
``eventually_sync`` is for blocking code.
"""

from __future__ import annotations

import asyncio
import inspect
import io
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, overload

import pytest

T = TypeVar("T")

FIRST_DELAY = 0.02
MAX_DELAY = 0.5
SHOWN = 3000  # characters of the last observation in a failure message


def _truthy(value: object) -> bool:
    return bool(value)


class _Poll:
    """Deadline, growing delay and the last thing seen: shared by both variants."""

    def __init__(self, what: str, timeout: float) -> None:
        self.what = what
        self.timeout = timeout
        self.deadline = time.monotonic() + timeout
        self.delay = FIRST_DELAY
        self.last: object = "(nothing observed yet)"

    def next_delay(self) -> float:
        if time.monotonic() > self.deadline:
            shown = repr(self.last)
            if len(shown) > SHOWN:
                shown = shown[:SHOWN] + " …"
            pytest.fail(
                f"timed out after {self.timeout:.0f}s waiting for {self.what}; "
                f"last observed: {shown}"
            )
        delay, self.delay = self.delay, min(self.delay * 1.5, MAX_DELAY)
        return delay


@overload
async def eventually(
    observe: Callable[[], Awaitable[T]],
    until: Callable[[T], bool] = ...,
    *,
    what: str,
    timeout: float = ...,
    ignoring: tuple[type[BaseException], ...] = ...,
) -> T: ...


@overload
async def eventually(
    observe: Callable[[], T],
    until: Callable[[T], bool] = ...,
    *,
    what: str,
    timeout: float = ...,
    ignoring: tuple[type[BaseException], ...] = ...,
) -> T: ...


async def eventually(
    observe: Callable[[], Any],
    until: Callable[[Any], bool] = _truthy,
    *,
    what: str,
    timeout: float = 60.0,
    ignoring: tuple[type[BaseException], ...] = (),
) -> Any:
    """Return the first value of ``observe()`` for which ``until(value)`` holds.

    Exceptions of the ``ignoring`` types count as "not yet" (and are shown as the last
    observation if the deadline passes), e.g. a server that is still restarting.
    """
    poll = _Poll(what, timeout)
    while True:
        try:
            raw = observe()
            value = await raw if inspect.isawaitable(raw) else raw
        except ignoring as e:
            poll.last = e
        else:
            poll.last = value
            if until(value):
                return value
        await asyncio.sleep(poll.next_delay())


def eventually_sync(
    observe: Callable[[], T],
    until: Callable[[T], bool] = _truthy,
    *,
    what: str,
    timeout: float = 60.0,
    ignoring: tuple[type[BaseException], ...] = (),
) -> T:
    """The blocking twin of :func:`eventually`."""
    poll = _Poll(what, timeout)
    while True:
        try:
            value = observe()
        except ignoring as e:
            poll.last = e
        else:
            poll.last = value
            if until(value):
                return value
        time.sleep(poll.next_delay())


async def stopped(service: Any, within: float = 120.0) -> None:
    """``await service.stop()``, bounded: a stop that hangs fails the test naming the
    tasks still running (a hang here once held CI until its deadline, with no output)."""
    task = asyncio.ensure_future(service.stop())
    done, _ = await asyncio.wait({task}, timeout=within)
    if task in done:
        task.result()
        return
    stacks = io.StringIO()
    for other in asyncio.all_tasks():
        if other is not asyncio.current_task():
            other.print_stack(limit=6, file=stacks)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    name = type(service).__name__
    raise AssertionError(f"{name}.stop() still ran after {within:g}s:\n{stacks.getvalue()}")
