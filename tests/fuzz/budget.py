"""A time budget per input, so a fuzz test fails on a hang instead of hanging.

Hypothesis deadlines are off suite-wide (a loaded machine makes them lie), so "no
hang" is enforced here instead, with a budget far above what any input needs (inputs
take milliseconds; the budget is seconds): it detects runaway work (exponential
backtracking, an endless loop), not slowness. ``SIGALRM`` interrupts the test at the
next Python instruction; work stuck inside one C call (a regular expression) cannot be
interrupted that way, which is why gitward runs no user-controlled regex.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

BUDGET = 5.0  # seconds per input


class OverBudgetError(Exception):
    """An input took longer than its budget: a hang, reported with the input."""


@contextmanager
def within(seconds: float = BUDGET, what: str = "the input") -> Iterator[None]:
    """Raise :class:`OverBudgetError` if the body runs longer than ``seconds``."""
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError("the time budget needs the main thread (SIGALRM)")

    def expire(signum: int, frame: FrameType | None) -> None:
        raise OverBudgetError(f"{what} took more than {seconds} s: a hang")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
