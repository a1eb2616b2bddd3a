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


# Runs "$@" in the background with its output appended to $1, prints its PID and exits:
# the component is reparented away from us, as a daemon should be, and outlives the CLI.
_LAUNCHER = 'log=$1; shift; "$@" >>"$log" 2>&1 </dev/null & echo $!'


def start(
    component: str, argv: Sequence[str], log: Path, env: Mapping[str, str] | None = None
) -> ProcessRecord:
    """Start ``argv`` as a daemon in its own session, output appended to ``log``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    launched = subprocess.run(
        ["/bin/sh", "-c", _LAUNCHER, "gitward-launch", str(log), *argv],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=30,
        start_new_session=True,
        env=dict(env) if env is not None else None,
        check=False,
    )
    if launched.returncode != 0 or not launched.stdout.strip().isdigit():
        raise OSError(f"could not launch {component}: {launched.stderr.strip()}")
    pid = int(launched.stdout.strip())
    ticks = _start_ticks(pid)
    return ProcessRecord(component, pid, ticks if ticks is not None else -1, tuple(argv), str(log))


def is_running(record: ProcessRecord) -> bool:
    """True while the very process we started is alive (not a reused PID)."""
    return record.start_ticks >= 0 and _start_ticks(record.pid) == record.start_ticks


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
