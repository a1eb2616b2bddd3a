"""A staged rollout across three real clusters: canary first, the rest after, one by one.

The ConfigMap's health is a rule of the app: Healthy once a person marks it ready
(annotation ``ready`` equal to its value), Progressing before, Degraded when its value is
``bad``. So the test decides when each cluster becomes Healthy and sees what waits for
it. What a user relies on: a new commit lands on the canary only; the rest wait, with
the reason shown, until the canary is Healthy at that commit; then one at a time
(``maxUnavailable: 1``); a Degraded canary stops the rollout with its reason in the API,
and the next good commit goes through.
"""

from __future__ import annotations

from typing import Any

import pytest

from gitward.devcluster import ClusterState
from gitward.kube.client import KubeClient
from tests.engine.conftest import GitRepo
from tests.fleet.conftest import FleetServe, Planes, argo_secret_doc, cluster_doc, live_value
from tests.serve.conftest import Running
from tests.support.waiting import eventually

pytestmark = pytest.mark.cluster

HEALTH = """\
  healthChecks:
    - kind: ConfigMap
      degraded: "object.data.value == 'bad'"
      healthy: >-
        has(object.metadata.annotations) && 'ready' in object.metadata.annotations
        && object.metadata.annotations['ready'] == object.data.value
      progressing: "true"
      message: "'value ' + object.data.value"
"""


def staged(name: str, repo: GitRepo, namespace: str) -> str:
    return f"""\
apiVersion: gitward.dev/v1alpha1
kind: Application
metadata: {{name: {name}}}
spec:
  source: {{repoURL: '{repo.path}', path: app, targetRevision: main}}
  destination: {{namespace: {namespace}}}
  syncPolicy:
    automated: {{prune: true, selfHeal: true}}
    syncOptions: [CreateNamespace=true]
  targets: [{{clusterSelector: {{}}}}]
  rollout:
    maxUnavailable: 1
    stages:
      - {{name: canary, clusterSelector: {{matchLabels: {{stage: canary}}}}}}
      - {{name: rest, clusterSelector: {{}}}}
{HEALTH}"""


def settings(value: str) -> str:
    return (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\n"
        f"data: {{value: '{value}'}}\n"
    )


async def mark_ready(client: KubeClient, namespace: str, value: str) -> None:
    """What a person (or a smoke test) does once the new version works there."""
    body = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": namespace, "annotations": {"ready": value}},
    }
    await client.apply(body, field_manager="smoke-test", force=True)


async def one_at_a_time(  # noqa: PLR0917
    running: Running,
    clients: dict[str, KubeClient],
    rest: dict[str, str],
    namespace: str,
    sha: str,
    value: str,
) -> None:
    """The ``rest`` stage (instance -> cluster) takes ``sha`` one instance at a time:
    while one is not Healthy yet, the other waits for a slot; marking the first ready
    lets the second go."""

    async def both() -> list[dict[str, Any]]:
        return [await running.app(i) for i in rest]

    def one_taking(apps: list[dict[str, Any]]) -> bool:
        live = [a for a in apps if a["revision"]["live"] == sha]
        held = [a for a in apps if "maxUnavailable 1" in str(a["conditions"])]
        return len(live) == 1 and len(held) == 1 and live[0] is not held[0]

    apps = await eventually(both, one_taking, what=f"one instance of stage rest taking {sha[:7]}")
    taking = next(a["name"] for a in apps if a["revision"]["live"] == sha)
    other = next(i for i in rest if i != taking)
    await mark_ready(clients[rest[taking]], namespace, value)
    await at(running, taking, sha, "Healthy")
    await at(running, other, sha, "Progressing")
    await mark_ready(clients[rest[other]], namespace, value)
    await at(running, other, sha, "Healthy")


async def at(running: Running, instance: str, sha: str, health: str) -> dict[str, Any]:
    return await running.wait_app(
        instance,
        lambda a: a["revision"]["live"] == sha and a["health"]["status"] == health,
        timeout=90,
    )


async def test_a_commit_lands_stage_by_stage_and_a_degraded_canary_stops_it(  # noqa: PLR0917
    fleet_serve: FleetServe,
    planes: Planes,
    control_plane: ClusterState,
    clients: dict[str, KubeClient],
    repo: GitRepo,
    namespace: str,
) -> None:
    name = f"staged-{namespace}"
    canary = f"{name}.east"
    token = planes["west"].state.admin_token()
    repo.write({"app/cm.yaml": settings("v1")})
    v1 = repo.commit()
    running = await fleet_serve(
        {
            "clusters.yaml": cluster_doc("east", planes["east"].kubeconfig, {"stage": "canary"})
            + argo_secret_doc("west", planes["west"], token, {"env": "prod"})
            + cluster_doc("home", control_plane.kubeconfig, {"env": "prod"}),
            "apps.yaml": staged(name, repo, namespace),
        }
    )
    # The first deployment follows the stages too.
    await at(running, canary, v1, "Progressing")
    await mark_ready(clients["east"], namespace, "v1")
    rest = {f"{name}.home": "home", f"{name}.west": "west"}
    await one_at_a_time(running, clients, rest, namespace, v1, "v1")

    repo.write({"app/cm.yaml": settings("v2")})
    v2 = repo.commit()
    await running.push(repo)
    await at(running, canary, v2, "Progressing")
    for instance in rest:
        held = await running.wait_app(
            instance, lambda a: "waiting for stage 'canary'" in str(a["conditions"])
        )
        assert held["revision"]["live"] == v1
    assert await live_value(clients["home"], namespace) == "v1"
    assert await live_value(clients["west"], namespace) == "v1"

    await mark_ready(clients["east"], namespace, "v2")
    await one_at_a_time(running, clients, rest, namespace, v2, "v2")

    repo.write({"app/cm.yaml": settings("bad")})
    v3 = repo.commit()
    await running.push(repo)
    await at(running, canary, v3, "Degraded")
    _, fleet = await eventually(
        lambda: running.api("GET", f"/api/v1/fleet/{name}"),
        lambda r: r[1]["rollout"]["state"] == "Stopped",
        what="the rollout to stop on the Degraded canary",
    )
    reason = fleet["rollout"]["reason"]
    assert f"rollout stopped: stage 'canary' is Degraded at {v3[:7]}" in reason
    assert "value bad" in reason
    assert await live_value(clients["home"], namespace) == "v2"
    assert await live_value(clients["west"], namespace) == "v2"

    repo.write({"app/cm.yaml": settings("v4")})
    v4 = repo.commit()
    await running.push(repo)
    await at(running, canary, v4, "Progressing")
    await mark_ready(clients["east"], namespace, "v4")
    await one_at_a_time(running, clients, rest, namespace, v4, "v4")  # never took the bad one
