"""Process records stop exactly the process they started, never a reused PID."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

from gitward.devcluster import processes
from gitward.ports import SystemClock


def sleeper(tmp_path: Path) -> processes.ProcessRecord:
    return processes.start(
        "sleeper",
        [sys.executable, "-c", "import time; print('up', flush=True); time.sleep(60)"],
        tmp_path / "logs" / "sleeper.log",
    )


def test_start_records_a_running_process_and_stop_ends_it(tmp_path: Path) -> None:
    record = sleeper(tmp_path)
    assert processes.is_running(record)

    assert processes.stop(record, SystemClock(), grace=5)

    assert not processes.is_running(record)
    assert not processes.stop(record, SystemClock())  # a second stop is a no-op


def test_a_record_with_another_start_time_is_not_ours(tmp_path: Path) -> None:
    record = sleeper(tmp_path)
    try:
        impostor = dataclasses.replace(record, start_ticks=record.start_ticks + 1)
        assert not processes.is_running(impostor)
        assert not processes.stop(impostor, SystemClock())
        assert processes.is_running(record)  # the real process was not touched
    finally:
        processes.stop(record, SystemClock())


def test_stop_kills_a_process_that_ignores_sigterm(tmp_path: Path) -> None:
    code = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"
    record = processes.start("stubborn", [sys.executable, "-c", code], tmp_path / "s.log")
    processes.stop(record, SystemClock(), grace=0.5)
    assert not processes.is_running(record)


def test_records_round_trip_through_json(tmp_path: Path) -> None:
    record = sleeper(tmp_path)
    try:
        assert processes.ProcessRecord.from_json(record.to_json()) == record
    finally:
        processes.stop(record, SystemClock())


def test_log_tail_returns_the_last_lines(tmp_path: Path) -> None:
    log = tmp_path / "x.log"
    log.write_text("".join(f"line {i}\n" for i in range(100)))
    assert processes.log_tail(log, lines=2) == "line 98\nline 99"
    assert processes.log_tail(tmp_path / "missing.log") == ""
