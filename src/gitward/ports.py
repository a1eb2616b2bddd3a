"""Protocols for the I/O seams of gitward.

Stages depend on these, never on concrete adapters; ``compose`` wires the real ones and
tests pass fakes for pure logic. Only the seams in use so far are declared here; the
Git, Renderer, Cluster and Store ports join as their stages land.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """Time, injected so that waits have deadlines tests can control."""

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin; never goes backwards."""
        ...

    def sleep(self, seconds: float) -> None:
        """Block for ``seconds`` (a fake clock advances instead)."""
        ...

    def wall(self) -> float:
        """Seconds since the Unix epoch, for records a person reads."""
        ...


class SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def wall(self) -> float:
        return time.time()


class Progress(Protocol):
    """Where long-running work reports what it is doing, for a person to read.

    The CLI renders these as status lines; libraries and tests may ignore them.
    """

    def step(self, message: str) -> None:
        """A new step started."""
        ...

    def done(self, message: str) -> None:
        """The current step finished."""
        ...


class SilentProgress:
    """A :class:`Progress` that discards everything."""

    def step(self, message: str) -> None:
        pass

    def done(self, message: str) -> None:
        pass
