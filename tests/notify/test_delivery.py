"""Delivery against real HTTP receivers on 127.0.0.1: signatures, retries, give-up, bounds."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from gitward.model.events import EventKind, SyncEvent
from gitward.notify import Delivery, Notifier, NotifyConfig, Outcome, load_config
from gitward.notify.config import Receiver as ReceiverConfig
from tests.notify.receiver import Receiver
from tests.support.waiting import eventually

SECRET = "hmac-secret-for-tests-5d1"
TOKEN = "forge-token-never-logged-88a"
EVENT = SyncEvent(
    "payments",
    EventKind.SUCCEEDED,
    "https://gitea.example.com/team/deploy.git",
    "a" * 40,
    "synced 3 objects",
    "Healthy",
    7,
    1_767_225_600.0,
)


@pytest.fixture
async def receivers() -> AsyncIterator[Callable[..., Receiver]]:
    started: list[Receiver] = []

    def make(**kwargs: object) -> Receiver:
        receiver = Receiver(**kwargs)  # type: ignore[arg-type]
        started.append(receiver)
        return receiver

    yield make
    for receiver in started:
        await receiver.stop()


class Waits:
    """An injected backoff sleep that records the waits instead of taking them."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """What a receiver does (docs/notifications.md): recompute, compare in constant time."""
    timestamp = headers["x-gitward-timestamp"]
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return hmac.compare_digest("sha256=" + mac.hexdigest(), headers["x-gitward-signature"])


async def finished(notifier: Notifier, count: int) -> list[Outcome]:
    return await eventually(
        lambda: list(notifier.outcomes), lambda o: len(o) >= count, what="deliveries", timeout=60
    )


async def test_a_webhook_is_signed_and_a_receiver_can_verify_it(
    receivers: Callable[..., Receiver],
) -> None:
    receiver = await receivers().start()
    config = NotifyConfig((ReceiverConfig("ops", "webhook", receiver.url, SECRET),))
    notifier = Notifier(config)
    await notifier.start()
    try:
        notifier(EVENT)
        [outcome] = await finished(notifier, 1)
    finally:
        await notifier.stop()
    assert outcome == Outcome("ops", "payments", "succeeded", True, 1)
    [request] = receiver.requests
    assert verify(SECRET, request.headers, request.body)
    assert not verify("another-secret", request.headers, request.body)
    tampered = request.body.replace(b"succeeded", b"failed000")
    assert not verify(SECRET, request.headers, tampered)
    assert request.headers["x-gitward-event"] == "succeeded"
    assert json.loads(request.body) == {
        "app": "payments",
        "event": "succeeded",
        "repoURL": "https://gitea.example.com/team/deploy.git",
        "revision": "a" * 40,
        "message": "synced 3 objects",
        "health": "Healthy",
        "syncId": 7,
        "timestamp": 1_767_225_600.0,
    }


async def test_a_failing_receiver_is_retried_with_exponential_backoff(
    receivers: Callable[..., Receiver],
) -> None:
    receiver = await receivers(statuses=[500, 503, 200]).start()
    waits = Waits()
    delivery = Delivery(timeout=10, attempts=5, backoff=0.5, max_backoff=60)
    config = NotifyConfig((ReceiverConfig("ops", "slack", receiver.url),), delivery)
    notifier = Notifier(config, sleep=waits)
    await notifier.start()
    try:
        notifier(EVENT)
        [outcome] = await finished(notifier, 1)
    finally:
        await notifier.stop()
    assert outcome == Outcome("ops", "payments", "succeeded", True, 3)
    assert waits.seconds == [0.5, 1.0]
    assert len(receiver.requests) == 3
    text = json.loads(receiver.requests[-1].body)["text"]
    assert text == ":white_check_mark: *payments* synced: synced 3 objects (`aaaaaaaaaaaa`)"


async def test_a_hanging_receiver_is_retried_then_given_up_and_logged_without_secrets(
    receivers: Callable[..., Receiver], caplog: pytest.LogCaptureFixture
) -> None:
    receiver = await receivers(hang=True).start()
    waits = Waits()
    delivery = Delivery(timeout=0.5, attempts=3, backoff=2, max_backoff=3)
    forge = ReceiverConfig("gitea-status", "gitea", receiver.url, TOKEN)
    notifier = Notifier(NotifyConfig((forge,), delivery), sleep=waits)
    await notifier.start()
    caplog.set_level(logging.INFO, logger="gitward.notify")
    try:
        notifier(EVENT)
        [outcome] = await finished(notifier, 1)
    finally:
        await notifier.stop()
    assert outcome == Outcome(
        "gitea-status", "payments", "succeeded", False, 3, "timed out after 0.5s"
    )
    assert waits.seconds == [2, 3]  # doubled, then capped
    assert len(receiver.requests) == 3
    assert receiver.requests[0].headers["authorization"] == f"token {TOKEN}"
    assert "gave up notifying gitea-status of payments (succeeded) after 3 attempt(s)" in (
        caplog.text
    )
    assert TOKEN not in caplog.text
    assert receiver.url not in caplog.text


async def test_the_queue_is_bounded_and_drops_what_does_not_fit() -> None:
    delivery = Delivery(queue_size=2)
    config = NotifyConfig((ReceiverConfig("ops", "webhook", "http://127.0.0.1:9"),), delivery)
    notifier = Notifier(config, workers=1)  # not started: nothing drains the queue
    for _ in range(5):
        notifier(EVENT)
    assert notifier.dropped == 3


async def test_apps_and_events_select_what_a_receiver_gets(tmp_path: Path) -> None:
    (tmp_path / "token").write_text(TOKEN + "\n")
    (tmp_path / "n.yaml").write_text(
        "receivers:\n"
        "  - {name: pay, type: github, url: 'https://api.github.com', "
        f"tokenFile: '{tmp_path / 'token'}', apps: ['pay*'], events: [failed, drift]}}\n"
    )
    [receiver] = load_config(tmp_path / "n.yaml").receivers
    assert receiver.secret == TOKEN
    assert TOKEN not in repr(receiver)
    assert receiver.wants("payments", EventKind.FAILED)
    assert not receiver.wants("payments", EventKind.SUCCEEDED)
    assert not receiver.wants("web", EventKind.FAILED)
