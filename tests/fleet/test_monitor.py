"""A cluster's health, from probes and requests: pure transitions and the gate."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from gitward.errors import KubeError, UnreachableError
from gitward.fleet.monitor import (
    ClusterMonitor,
    MonitorSettings,
    classify,
    observe_failure,
    observe_success,
    probe_delay,
)
from gitward.model.cluster import ClusterHealth, ClusterState

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
T1 = datetime(2026, 11, 30, 12, 1, tzinfo=UTC)


class FakeClock:
    def __init__(self) -> None:
        self.now = T0.timestamp()

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    def wall(self) -> float:
        return self.now


def test_a_failure_keeps_the_last_contact_and_counts_and_a_success_resets() -> None:
    up = observe_success(ClusterHealth("c"), T0, "v1.36.0")
    down = observe_failure(up, T1, ClusterState.UNREACHABLE, "connection refused")
    again = observe_failure(down, T1, ClusterState.UNREACHABLE, "connection refused")
    assert (down.last_contact, down.since, down.failures) == (T0, T1, 1)
    assert (again.since, again.failures) == (T1, 2)
    back = observe_success(again, T1)
    assert (back.state, back.version, back.failures, back.since) == (
        ClusterState.READY,
        "v1.36.0",
        0,
        T1,
    )
    assert back.last_error == "connection refused"  # kept for people, until the next error


@pytest.mark.parametrize(
    ("error", "state"),
    [
        (UnreachableError("connect failed"), ClusterState.UNREACHABLE),
        (KubeError("Unauthorized", status=401), ClusterState.UNAUTHORIZED),
        (KubeError("forbidden", status=403), ClusterState.READY),
        (KubeError("not found", status=404), ClusterState.READY),
        (KubeError("etcd timeout", status=500, transient=True), ClusterState.UNREACHABLE),
    ],
)
def test_a_failed_probe_is_classified_by_whether_the_server_answered(
    error: KubeError, state: ClusterState
) -> None:
    assert classify(error) is state


@pytest.mark.parametrize(
    ("state", "failures", "delay"),
    [
        (ClusterState.READY, 0, 15.0),
        (ClusterState.UNREACHABLE, 1, 0.5),
        (ClusterState.UNREACHABLE, 3, 2.0),
        (ClusterState.UNREACHABLE, 50, 5.0),
        (ClusterState.UNAUTHORIZED, 2, 1.0),
    ],
)
def test_a_down_cluster_is_probed_with_a_capped_backoff(
    state: ClusterState, failures: int, delay: float
) -> None:
    health = ClusterHealth("c", state=state, failures=failures)
    assert probe_delay(health, MonitorSettings()) == delay


async def test_the_gate_closes_when_the_cluster_is_down_and_recovery_is_announced() -> None:
    recovered: list[str] = []
    monitor = ClusterMonitor(ClusterHealth("eu"), FakeClock(), on_recovered=recovered.append)
    assert monitor.gate() is None  # never contacted: find out
    monitor.observe_request(200)
    assert monitor.health.state is ClusterState.READY
    assert recovered == ["eu"]  # the first answer counts as a recovery too
    monitor.observe_request(0)
    monitor.failed(ClusterState.UNREACHABLE, "ConnectError: connection refused")
    assert monitor.gate() is None  # one failure may be a slow moment: not yet
    monitor.failed(ClusterState.UNREACHABLE, "ConnectError: connection refused")
    reason = monitor.gate()
    assert reason is not None
    assert "cluster 'eu' is Unreachable since 12:00:00 UTC" in reason
    assert "connection refused" in reason
    monitor.observe_request(404)  # any answer: it is back
    assert monitor.gate() is None
    assert recovered == ["eu", "eu"]


async def test_watches_sleeping_on_a_down_cluster_wake_when_it_is_back() -> None:
    monitor = ClusterMonitor(ClusterHealth("eu"), FakeClock())
    monitor.failed(ClusterState.UNREACHABLE, "refused")
    sleeper = asyncio.create_task(monitor.sleep(3600))
    await asyncio.sleep(0)  # one loop turn: the task runs up to its wait (deterministic)
    assert not sleeper.done()  # it sleeps while the cluster is down
    monitor.succeeded("v1")
    await asyncio.wait_for(sleeper, timeout=5)  # woke long before its hour


async def test_an_unauthorized_answer_closes_the_gate_with_the_reason() -> None:
    monitor = ClusterMonitor(ClusterHealth("eu"), FakeClock())
    monitor.observe_request(401)
    assert monitor.health.state is ClusterState.UNAUTHORIZED
    assert "refused gitward's credentials" in (monitor.gate() or "")


async def test_a_lost_request_makes_the_probe_ask_at_once_and_the_probe_decides() -> None:
    answers: list[str | Exception] = [
        "v1.36.3",
        UnreachableError("GET /version failed: ConnectError: connection refused"),
        UnreachableError("GET /version failed: ConnectError: connection refused"),
        "v1.36.3",
    ]
    asked: asyncio.Queue[None] = asyncio.Queue()

    async def probe() -> str:
        answer = answers.pop(0)
        asked.put_nowait(None)
        if isinstance(answer, Exception):
            raise answer
        return answer

    hour = MonitorSettings(interval=3600, retry_initial=3600, retry_max=3600)
    monitor = ClusterMonitor(ClusterHealth("eu"), FakeClock(), settings=hour)
    task = asyncio.create_task(monitor.run(probe))
    try:
        await asyncio.wait_for(asked.get(), 5)
        await settled(lambda: monitor.health.state is ClusterState.READY)
        monitor.suspect("a watch was cut")
        assert monitor.gate() is None  # not down on a hunch
        await asyncio.wait_for(asked.get(), 5)  # probed at once, not in an hour
        await settled(lambda: monitor.health.state is ClusterState.UNREACHABLE)
        monitor.suspect()  # the next request fails too
        await asyncio.wait_for(asked.get(), 5)
        await settled(lambda: monitor.health.failures == 2)
        assert "connection refused" in (monitor.gate() or "")
        monitor.suspect()
        await asyncio.wait_for(asked.get(), 5)
        await settled(lambda: monitor.health.state is ClusterState.READY)
    finally:
        task.cancel()


async def settled(condition: Callable[[], bool]) -> None:
    """Let the probe task run until ``condition`` holds (a few event-loop turns)."""
    for _ in range(100):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("the monitor did not reach the expected state")


@pytest.mark.parametrize("turns", range(6))
async def test_the_probe_loop_stops_when_cancelled_as_a_probe_answers(turns: int) -> None:
    """Closing a connection cancels its probe loop; the loop must end even when the
    cancel lands in the loop turn where the probe's answer arrives (a service stop
    otherwise waits on the loop for ever, probing a cluster nobody uses any more).
    ``turns``: how many loop turns pass between the answer and the cancel."""
    monitor = ClusterMonitor(ClusterHealth("c"), FakeClock())
    answer: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    asked = asyncio.Event()

    async def probe() -> str:
        asked.set()
        return await answer

    loop_task = asyncio.create_task(monitor.run(probe))
    await asked.wait()
    answer.set_result("v1.36.0")
    for _ in range(turns):
        await asyncio.sleep(0)
    loop_task.cancel()
    await asyncio.wait({loop_task}, timeout=10)
    stopped = loop_task.cancelled()
    if not stopped:
        loop_task.cancel()
        await asyncio.gather(loop_task, return_exceptions=True)
    assert stopped, "the probe loop swallowed the cancel and kept probing"
