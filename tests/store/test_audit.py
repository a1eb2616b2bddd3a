"""The audit log: append, list newest first, filter by app, JSON details."""

from __future__ import annotations

import pytest

from gitward.model.history import AuditEntry, AuditOutcome
from gitward.store import Store, StoreError
from tests.store.conftest import FakeClock


async def test_append_returns_the_stored_entry(store: Store, clock: FakeClock) -> None:
    details = {"revision": "v1.2.0", "prune": True, "objects": [1, 2], "nested": {"a": None}}

    entry = await store.audit(
        "alice", "rollback", "web", app="web", details=details, outcome=AuditOutcome.SUCCEEDED
    )

    assert entry == AuditEntry(
        id=entry.id,
        at=clock.now,
        actor="alice",
        action="rollback",
        target="web",
        outcome=AuditOutcome.SUCCEEDED,
        app="web",
        details=details,
    )
    assert await store.list_audit() == [entry]


async def test_list_is_newest_first_and_limited(store: Store, clock: FakeClock) -> None:
    for n in range(5):
        await store.audit("alice", "sync", f"app-{n}")
        clock.advance(1)

    entries = await store.list_audit(limit=3)

    assert [e.target for e in entries] == ["app-4", "app-3", "app-2"]
    assert entries[0].id > entries[1].id > entries[2].id


async def test_list_by_app(store: Store) -> None:
    await store.audit("bob", "login", "session", outcome=AuditOutcome.DENIED)
    await store.audit("alice", "suspend", "web", app="web")
    await store.audit("github", "webhook", "git.example/apps.git")
    await store.audit("alice", "sync", "web", app="web", outcome=AuditOutcome.FAILED)

    web = await store.list_audit(app="web")

    assert [(e.action, e.outcome) for e in web] == [
        ("sync", AuditOutcome.FAILED),
        ("suspend", AuditOutcome.SUCCEEDED),
    ]
    assert len(await store.list_audit()) == 4


async def test_details_must_be_json(store: Store) -> None:
    with pytest.raises(StoreError, match="details of audit action sync: it is not JSON"):
        await store.audit("alice", "sync", "web", details={"when": object()})
    assert await store.list_audit() == []
