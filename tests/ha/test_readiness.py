"""``/readyz`` of a replica that syncs nothing, with real processes and the real API server.

A replica whose Lease names another holder (edited by hand) syncs none of its apps: its
readiness must fail with the reason, so that Kubernetes takes it out of the Service, and
come back once it holds its Lease again (here: the edited Lease is deleted, the replica
creates it anew and takes its share of the apps back).
"""

from __future__ import annotations

import time

import httpx2 as httpx
import pytest
from lightkube import Client
from lightkube.resources.coordination_v1 import Lease

from gitward.ha.lease import lease_name, micro_time
from tests.ha.replicas import Replicas
from tests.support.waiting import eventually_sync

pytestmark = pytest.mark.cluster

IDS = ["r1", "r2"]


def readyz(replicas: Replicas, rid: str) -> tuple[int, str]:
    """Status and first line (the reason) of the replica's ``/readyz``."""
    response = httpx.get(f"{replicas.procs[rid].base}/readyz", timeout=10)
    return response.status_code, response.text.splitlines()[0]


@pytest.mark.parametrize("replicas", [6], indirect=True)
def test_a_replica_without_its_lease_is_unready_until_it_holds_it_again(
    replicas: Replicas, kube: Client
) -> None:
    one = replicas.write_revision("one")
    replicas.start(*IDS)
    replicas.wait_synced(one)
    replicas.wait_owned(IDS)
    name = lease_name("r2")
    spec = {
        "holderIdentity": "mallory",
        "renewTime": micro_time(time.time()),
        "leaseDurationSeconds": 3600,
    }
    kube.patch(Lease, name, {"spec": spec}, namespace=replicas.namespace)

    status, reason = eventually_sync(
        lambda: readyz(replicas, "r2"),
        lambda seen: seen[0] != 200,
        what="r2 to be unready once its Lease names another holder",
        timeout=120,
    )
    assert status == 503
    assert f"Lease {name} is" in reason
    assert "held by 'mallory'" in reason
    assert readyz(replicas, "r1") == (200, "ok")
    replicas.wait_owned(["r1"])  # r2 is no member now: r1 syncs every app

    kube.delete(Lease, name, namespace=replicas.namespace)
    eventually_sync(
        lambda: readyz(replicas, "r2"),
        lambda seen: seen == (200, "ok"),
        what="r2 ready again once it holds a Lease of its own",
        timeout=120,
    )
    replicas.wait_owned(IDS)
    two = replicas.write_revision("two")
    replicas.push("r1")
    rows = replicas.wait_synced(two)
    assert {r[1]: r[3] for r in rows} == replicas.expected_owners(IDS)
