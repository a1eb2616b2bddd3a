"""Webhook bodies are bounded before they are read, and a replayed delivery is ignored.

These drive the real Starlette application of ``gitward serve`` through the ASGI
protocol, in process: the body arrives in chunks the test counts, so it can show that
an oversized body is refused without being read to the end. The controller, store and
authenticator are never reached by these requests (a ping is not a push), so the
context holds placeholders that fail loudly if they ever are.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, cast

import orjson
import pytest

from gitward.api.bodies import MAX_WEBHOOK_BYTES
from gitward.api.replay import DeliveryLog
from gitward.api.server import ApiContext, create_app

SECRET = b"bodies-test-secret"
Message = MutableMapping[str, Any]


class _Unreachable:
    """Stands for a collaborator these requests must never reach."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the request reached {name!r}, which it must not")


class AuditLog:
    """Keeps the audit records a refused webhook writes (the only store call it makes)."""

    def __init__(self) -> None:
        self.records: list[tuple[Any, ...]] = []

    async def audit(self, *args: Any, **kwargs: Any) -> None:
        self.records.append((*args, kwargs))


def context(deliveries: DeliveryLog | None = None, audit: AuditLog | None = None) -> ApiContext:
    never = cast(Any, _Unreachable())
    return ApiContext(
        apps=never,
        store=cast(Any, audit or AuditLog()),
        authenticator=never,
        metrics=never,
        rollbacks=never,
        webhook_secret=SECRET,
        ready=lambda: "",
        deliveries=deliveries or DeliveryLog(),
    )


class Chunks:
    """An ASGI ``receive`` that hands out a body in chunks and counts what was taken."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.taken = 0

    async def __call__(self) -> Message:
        if self.taken < len(self.chunks):
            self.taken += 1
            more = self.taken < len(self.chunks)
            return {"type": "http.request", "body": self.chunks[self.taken - 1], "more_body": more}
        return {"type": "http.disconnect"}


async def post(
    ctx: ApiContext, path: str, headers: dict[str, str], receive: Chunks
) -> tuple[int, Any]:
    app = create_app(ctx)
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8080),
    }
    call = cast(Callable[[Message, Any, Any], Awaitable[None]], app)
    await call(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return int(start["status"]), orjson.loads(body)


def ping(body: bytes, delivery: str = "d-1") -> dict[str, str]:
    return {
        "X-GitHub-Event": "ping",
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest(),
        "Content-Type": "application/json",
    }


async def test_a_declared_oversized_body_is_refused_without_reading_it() -> None:
    receive = Chunks([b"x" * 1024] * 8)
    headers = {**ping(b"{}"), "Content-Length": str(MAX_WEBHOOK_BYTES + 1)}
    status, answer = await post(context(), "/api/v1/webhooks/github", headers, receive)
    assert status == 413
    assert "too large" in answer["error"]
    assert receive.taken == 0


async def test_a_chunked_body_stops_being_read_past_the_limit() -> None:
    chunk = b"x" * (1024 * 1024)
    receive = Chunks([chunk] * 50)  # 50 MiB announced by nobody
    status, answer = await post(context(), "/api/v1/webhooks/github", ping(b"{}"), receive)
    assert status == 413
    assert "too large" in answer["error"]
    assert receive.taken <= MAX_WEBHOOK_BYTES // len(chunk) + 1


async def test_a_replayed_delivery_is_ignored_and_a_new_one_is_not() -> None:
    ctx = context()
    body = orjson.dumps({"zen": "Design for failure.", "hook_id": 1})
    first = await post(ctx, "/api/v1/webhooks/github", ping(body), Chunks([body]))
    again = await post(ctx, "/api/v1/webhooks/github", ping(body), Chunks([body]))
    new_id_same_body = await post(
        ctx, "/api/v1/webhooks/github", ping(body, delivery="d-2"), Chunks([body])
    )
    other = orjson.dumps({"zen": "Keep it simple.", "hook_id": 1})
    fresh = await post(ctx, "/api/v1/webhooks/github", ping(other, "d-3"), Chunks([other]))
    assert first == (200, {"ignored": "not a push event (github)"})
    assert again[0] == 200
    assert "replay" in again[1]["ignored"]
    assert "replay" in new_id_same_body[1]["ignored"]  # the delivery id is not signed
    assert fresh == (200, {"ignored": "not a push event (github)"})


async def test_an_unverified_delivery_is_not_remembered() -> None:
    audit = AuditLog()
    ctx = context(audit=audit)
    body = orjson.dumps({"zen": "Practicality beats purity.", "hook_id": 2})
    forged = {**ping(body), "X-Hub-Signature-256": "sha256=" + "0" * 64}
    refused = await post(ctx, "/api/v1/webhooks/github", forged, Chunks([body]))
    genuine = await post(ctx, "/api/v1/webhooks/github", ping(body), Chunks([body]))
    assert refused[0] == 401
    assert [r[1] for r in audit.records] == ["webhook"]  # the refusal is audited
    assert genuine == (200, {"ignored": "not a push event (github)"})


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(("elapsed", "replayed"), [(599.0, True), (600.0, False)])
def test_the_replay_window_is_bounded_in_time(elapsed: float, replayed: bool) -> None:
    clock = Clock()
    log = DeliveryLog(window=600.0, clock=clock)
    assert not log.replayed("github", {"X-GitHub-Delivery": "a"}, b"{}")
    clock.now += elapsed
    assert log.replayed("github", {"X-GitHub-Delivery": "a"}, b"{}") is replayed


def test_the_replay_log_is_bounded_in_size() -> None:
    log = DeliveryLog(capacity=100)
    for n in range(1000):
        assert not log.replayed("gitlab", {}, str(n).encode())
    assert not log.replayed("gitlab", {}, b"0")  # the oldest were forgotten
    assert log.replayed("gitlab", {}, b"999")
