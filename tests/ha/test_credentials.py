"""A replica whose API server credentials stop working (its token expired or was revoked).

r2 runs on a ServiceAccount token bound to a Secret; deleting that Secret revokes the
token at once, as an expired token is refused: HTTP 401 on every request. Expiry itself
cannot be waited for here (a TokenRequest lasts ten minutes at least). r2 must say why
it stops, sync nothing more, and leave its apps to the others when its Lease expires;
no sync record may be lost or left Running.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from operator import not_
from pathlib import Path

import pytest
from lightkube import Client
from lightkube.models.authentication_v1 import BoundObjectReference, TokenRequestSpec
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.models.rbac_v1 import RoleRef, Subject
from lightkube.resources.core_v1 import Secret, ServiceAccount, ServiceAccountToken
from lightkube.resources.rbac_authorization_v1 import ClusterRoleBinding

from gitward.devcluster import ClusterState
from tests.ha.conftest import DURATION
from tests.ha.replicas import Replicas, overlapping, timed

pytestmark = pytest.mark.cluster

IDS = ["r1", "r2", "r3"]


@pytest.fixture
def revocable(
    kube: Client, control_plane: ClusterState, replicas: Replicas, tmp_path: Path
) -> Iterator[str]:
    """A kubeconfig for a cluster-admin ServiceAccount whose token dies with Secret
    ``anchor``; returns the anchor's name."""
    ns, name = replicas.namespace, f"gw-{secrets.token_hex(3)}"
    kube.create(ServiceAccount(metadata=ObjectMeta(name=name, namespace=ns)))
    anchor = kube.create(Secret(metadata=ObjectMeta(name=f"{name}-anchor", namespace=ns)))
    assert anchor.metadata is not None
    request = ServiceAccountToken(
        metadata=ObjectMeta(),
        spec=TokenRequestSpec(
            audiences=[],
            expirationSeconds=3600,
            boundObjectRef=BoundObjectReference(
                apiVersion="v1", kind="Secret", name=anchor.metadata.name, uid=anchor.metadata.uid
            ),
        ),
    )
    token = kube.create(request, name, namespace=ns)
    assert token.status is not None
    kubeconfig = tmp_path / "r2.kubeconfig"
    user = {"name": name, "user": {"token": token.status.token}}
    cluster = {"server": control_plane.server, "certificate-authority": control_plane.ca_file}
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "dev", "cluster": cluster}],
        "users": [user],
        "contexts": [{"name": "dev", "context": {"cluster": "dev", "user": name}}],
        "current-context": "dev",
    }
    kubeconfig.write_text(json.dumps(config))
    kubeconfig.chmod(0o600)
    replicas.kubeconfigs["r2"] = str(kubeconfig)
    binding = ClusterRoleBinding(
        metadata=ObjectMeta(name=f"{ns}-{name}"),
        roleRef=RoleRef(
            apiGroup="rbac.authorization.k8s.io", kind="ClusterRole", name="cluster-admin"
        ),
        subjects=[Subject(kind="ServiceAccount", name=name, namespace=ns)],
    )
    kube.create(binding)
    try:
        yield f"{name}-anchor"
    finally:
        kube.delete(ClusterRoleBinding, f"{ns}-{name}")


@pytest.mark.parametrize("replicas", [12], indirect=True)
def test_a_replica_whose_token_is_revoked_says_so_and_its_apps_move(
    replicas: Replicas, revocable: str, kube: Client
) -> None:
    one = replicas.write_revision("one")
    replicas.start(*IDS)
    replicas.wait_synced(one)
    replicas.wait_owned(IDS)
    before = {r[0] for r in replicas.syncs()}

    kube.delete(Secret, revocable, namespace=replicas.namespace)  # r2's token is refused
    revoked = time.monotonic()
    wanted = replicas.expected_owners(["r1", "r3"])
    moved = timed("r1 and r3 to own r2's apps", lambda: replicas.misowned(wanted), not_, 180)

    print(f"\nrevoked token: apps moved after {moved:.1f}s (Lease duration {DURATION:g}s)")
    log = replicas.procs["r2"].log_text()
    assert "the API server refuses replica r2's credentials" in log
    assert "HTTP 401: the token expired or was revoked" in log
    assert "replica r2 stops syncing" in log
    assert replicas.procs["r2"].proc is not None
    assert replicas.procs["r2"].proc.poll() is None  # it waits for new credentials
    two = replicas.write_revision("two")
    replicas.push("r2")  # any replica takes webhooks: r2 queues them in the store
    rows = replicas.wait_synced(two, timeout=180)
    assert {r[1]: r[3] for r in rows} == wanted
    everything = replicas.syncs()
    assert before <= {r[0] for r in everything}  # no history lost
    assert [r for r in everything if r[4] == "Running"] == []
    assert overlapping(everything) == []
    refusals = replicas.procs["r2"].log_text().count("LIST was refused")
    assert refusals <= (time.monotonic() - revoked) / (DURATION / 3) + 3  # no busy retry loop
