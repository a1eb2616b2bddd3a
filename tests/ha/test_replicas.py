"""Three ``gitward serve --ha`` replicas on one PostgreSQL and the dev cluster.

What a platform team relies on when it runs several replicas: every app has exactly one
owner, as rendezvous hashing over the live Leases says; a push reaching any replica is
synced once, by the owner; a replica killed with ``kill -9`` mid-sync is replaced
within its Lease duration, its interrupted sync recorded as such and completed by the
new owner; SIGTERM hands over at once; a Lease edited by hand stops its replica; and no
app is ever synced by two replicas at the same time (sync spans in the store, and the
apply times the API server keeps in managedFields).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx2 as httpx
import pytest
from lightkube import Client
from lightkube.resources.core_v1 import ConfigMap

from gitward.model.syncrequest import SyncRequest
from tests.ha.conftest import APPS
from tests.ha.replicas import Replicas, overlapping
from tests.support.waiting import eventually_sync

pytestmark = pytest.mark.cluster

IDS = ["r1", "r2", "r3"]


def apply_time(kube: Client, namespace: str, app: str) -> datetime:
    cm = kube.get(ConfigMap, app, namespace=namespace)
    fields = cm.metadata.managedFields if cm.metadata else None
    times = [f.time for f in fields or [] if f.manager == "gitward" and f.operation == "Apply"]
    assert times, f"{app}: no apply by gitward in managedFields"
    return max(t for t in times if t is not None)


def test_every_app_has_one_owner_and_each_change_is_synced_once(
    replicas: Replicas, kube: Client
) -> None:
    first = replicas.write_revision("one")
    replicas.start(*IDS)
    replicas.wait_synced(first)
    replicas.wait_owned(IDS)

    second = replicas.write_revision("two")
    pushed = replicas.push("r1")  # one replica hears the push; most apps are the others'
    assert len(pushed["apps"]) == APPS, pushed
    rows = replicas.wait_synced(second)

    expected = replicas.expected_owners(IDS)
    assert sorted(r[1] for r in rows) == sorted(replicas.apps)  # once per app, per change
    assert {r[1]: r[3] for r in rows} == expected  # and by its owner
    assert len(set(expected.values())) == 3
    everything = replicas.syncs()
    assert [r for r in everything if r[4] != "Succeeded"] == []
    assert len([r for r in everything if r[2] == first]) == APPS  # the first, also once
    assert overlapping(everything) == []
    for app in replicas.apps[:10]:  # the API server's record of the write: inside the sync
        sync = next(r for r in rows if r[1] == app)
        applied = apply_time(kube, replicas.namespace, app)  # to the second
        assert sync[5].replace(microsecond=0) <= applied <= sync[6]
    statuses = replicas.procs["r2"].get("/api/v1/applications")
    assert len(statuses["items"]) == APPS  # any replica answers for every app


@pytest.mark.parametrize("replicas", [6], indirect=True)
def test_a_sync_with_options_sent_to_a_replica_not_owning_the_app_runs_on_its_owner(
    replicas: Replicas,
) -> None:
    """Behind a Service, a person's sync with options (prune off, force) lands on any
    replica: the one that does not own the app hands the options on with the trigger,
    and the owner runs that sync with them."""
    first = replicas.write_revision("one")
    replicas.start("r1", "r2")
    replicas.wait_synced(first)
    owners = replicas.wait_owned(["r1", "r2"])
    app = next(a for a in replicas.apps if owners[a] == "r2")

    sent = replicas.procs["r1"]  # not the owner
    response = httpx.post(
        f"{sent.base}/api/v1/applications/{app}/sync",
        json={"prune": False, "force": True},
        headers={"Authorization": f"Bearer {sent.token()}"},
        timeout=30,
    )
    assert response.status_code == 202, response.text

    def manual() -> list[tuple[Any, ...]]:
        return replicas.query(
            "SELECT owner, actor, options, result FROM syncs WHERE app = %s AND trigger = %s",
            app,
            "manual",
        )

    rows = eventually_sync(
        manual,
        lambda found: [r[3] for r in found] == ["Succeeded"],
        what=f"the manual sync of {app} finished",
        timeout=120,
    )
    [(owner, actor, options, _)] = rows
    assert owner == "r2"
    assert actor == "admin"
    assert SyncRequest.decode(options) == SyncRequest(prune=False, force=True)
