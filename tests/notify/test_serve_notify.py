"""`gitward serve --notifications`: a receiver that hangs never delays a sync.

The proof is causal, not a stopwatch: the sync record is finished while the hanging
receiver still holds gitward's first request unanswered (its delivery has no outcome
yet), and the record's own timings are far below the delivery timeout. The delivery is
then retried, given up and logged; the sync record and the app status are intact.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from datetime import datetime
from pathlib import Path

import pytest

from gitward.notify import Notifier
from tests.notify.receiver import Receiver
from tests.serve.conftest import GitRepo, Serve, application
from tests.support.waiting import eventually

pytestmark = pytest.mark.cluster

SECRET = "hook-secret-e3b"
TIMEOUT = 15.0  # per attempt; the sync must finish long before one attempt times out


def configmap(value: str) -> str:
    return (
        f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: settings}}\ndata: {{v: '{value}'}}\n"
    )


async def test_a_hanging_receiver_never_delays_a_sync(
    serve: Serve, repo: GitRepo, namespace: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="gitward.notify")
    hanging, recording = await Receiver(hang=True).start(), await Receiver().start()
    (tmp_path / "secret").write_text(SECRET)
    notifications = tmp_path / "notifications.yaml"
    notifications.write_text(
        f"""\
receivers:
  - {{name: stuck, type: webhook, url: '{hanging.url}/hook'}}
  - {{name: ops, type: webhook, url: '{recording.url}/hook', secretFile: '{tmp_path / "secret"}'}}
delivery: {{timeout: {TIMEOUT}, attempts: 2, backoff: 0.1}}
"""
    )
    repo.write({"app/cm.yaml": configmap("one")})
    sha = repo.commit()
    name = f"web-{namespace}"
    try:
        running = await serve(
            {"app.yaml": application(name, repo, "app", namespace)}, notifications=notifications
        )
        notifier: Notifier = running.service.notifier

        async def record() -> dict[str, object]:
            _, history = await running.api("GET", f"/api/v1/applications/{name}/history")
            return history["items"][0] if history["items"] else {}

        done = await eventually(record, lambda r: r.get("finishedAt") is not None, what="sync")
        stuck_outcomes = [o for o in notifier.outcomes if o.receiver == "stuck"]
        assert done["result"] == "Succeeded"
        assert done["sha"] == sha
        assert len(hanging.requests) >= 1  # gitward asked the stuck receiver...
        assert stuck_outcomes == []  # ...and the sync finished while it still waited
        started = datetime.fromisoformat(str(done["startedAt"]))
        finished = datetime.fromisoformat(str(done["finishedAt"]))
        assert (finished - started).total_seconds() < TIMEOUT

        # The stuck deliveries (started, succeeded) are retried once each, then given up.
        given_up = await eventually(
            lambda: [o for o in notifier.outcomes if o.receiver == "stuck"],
            lambda found: len(found) == 2,
            what="the stuck receiver's deliveries to be given up",
            timeout=4 * TIMEOUT + 60,
        )
        assert {(o.event, o.delivered, o.attempts) for o in given_up} == {
            ("started", False, 2),
            ("succeeded", False, 2),
        }
        assert "gave up notifying stuck of" in caplog.text
        assert (await running.app(name))["syncState"] == "Synced"
        _, history = await running.api("GET", f"/api/v1/applications/{name}/history")
        assert [item["result"] for item in history["items"]] == ["Succeeded"]

        # The healthy receiver got both events, signed, in order.
        await eventually(
            lambda: [o for o in notifier.outcomes if o.receiver == "ops" and o.delivered],
            lambda found: len(found) == 2,
            what="both events delivered to the healthy receiver",
        )
        bodies = [json.loads(r.body) for r in recording.requests]
        assert [(b["event"], b["revision"], b["syncId"]) for b in bodies] == [
            ("started", sha, done["id"]),
            ("succeeded", sha, done["id"]),
        ]
        for request in recording.requests:
            stamp = request.headers["x-gitward-timestamp"].encode()
            mac = hmac.new(SECRET.encode(), stamp + b"." + request.body, hashlib.sha256)
            assert request.headers["x-gitward-signature"] == "sha256=" + mac.hexdigest()
        assert SECRET not in caplog.text
    finally:
        await hanging.stop()
        await recording.stop()
