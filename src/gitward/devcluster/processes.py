"""Start background processes and stop exactly those, by PID.

A PID alone can be reused by the kernel after its process exits, so each record also
keeps the process start time read from ``/proc/PID/stat``; ``stop`` signals a PID only
when both still match, and never anything else.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from gitward.ports import Clock


@dataclass(frozen=True)
class ProcessRecord:
    """What we need to find a started process again, even from another invocation."""

    component: str
    pid: int
    start_ticks: int
    argv: tuple[str, ...]
    log: str

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["argv"] = list(self.argv)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ProcessRecord:
        return cls(
            component=str(data["component"]),
            pid=int(data["pid"]),
            start_ticks=int(data["start_ticks"]),
            argv=tuple(str(a) for a in data["argv"]),
            log=str(data["log"]),
        )


def _start_ticks(pid: int) -> int | None:
    """Field 22 of /proc/PID/stat: when the process started, in clock ticks since boot."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may contain spaces and parentheses; split after it.
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] == "Z":  # a zombie has exited; it only waits to be reaped
        return None
    return int(fields[19])


def start(
    component: str, argv: Sequence[str], log: Path, env: Mapping[str, str] | None = None
) -> ProcessRecord:
    """Start ``argv`` detached in its own session, output appended to ``log``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=dict(env) if env is not None else None,
        )
    ticks = _start_ticks(proc.pid)
    return ProcessRecord(
        component, proc.pid, ticks if ticks is not None else -1, tuple(argv), str(log)
    )


def is_running(record: ProcessRecord) -> bool:
    """True while the very process we started is alive (not a reused PID)."""
    _reap(record.pid)
    return record.start_ticks >= 0 and _start_ticks(record.pid) == record.start_ticks


def _reap(pid: int) -> None:
    # Our own children become zombies until waited for; other processes' are not ours.
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def stop(record: ProcessRecord, clock: Clock, grace: float = 10.0) -> bool:
    """SIGTERM, then SIGKILL after ``grace`` seconds. Returns True if it was running."""
    if not is_running(record):
        return False
    _signal(record.pid, signal.SIGTERM)
    deadline = clock.monotonic() + grace
    while clock.monotonic() < deadline:
        if not is_running(record):
            return True
        clock.sleep(0.05)
    if is_running(record):
        _signal(record.pid, signal.SIGKILL)
        deadline = clock.monotonic() + 5.0
        while is_running(record) and clock.monotonic() < deadline:
            clock.sleep(0.05)
    return True


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def log_tail(path: str | Path, lines: int = 20) -> str:
    try:
        with Path(path).open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 16384))
            text = handle.read().decode(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])
