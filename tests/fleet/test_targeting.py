"""Targets across three real clusters: by label, customised per target, moved by labels.

The session's control plane is declared too (``home``), beside ``east`` and ``west``
(see ``conftest.py``), so a selector chooses among three. What a user relies on: a
label-selected app reaches exactly the matching clusters, each with its target's Helm
values and namespace; each (app, cluster) instance is its own app in the API; editing a
cluster's labels moves the app (a new instance is synced, the old one pruned); a target
naming an unknown cluster or matching nothing is reported on the app and in ``/readyz``.
"""

from __future__ import annotations

import pytest

from gitward.devcluster import ClusterState
from gitward.kube.client import KubeClient
from tests.engine.conftest import GitRepo
from tests.fleet.conftest import FleetServe, Planes, argo_secret_doc, cluster_doc, live_value
from tests.serve.test_controller import synced
from tests.support.waiting import eventually

pytestmark = pytest.mark.cluster

CHART = {
    "chart/Chart.yaml": "apiVersion: v2\nname: settings\nversion: 0.1.0\n",
    "chart/values.yaml": "value: base\n",
    "chart/templates/cm.yaml": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\n"
        "data: {value: {{ .Values.value | quote }}}\n"
    ),
}


def web(repo: GitRepo, namespace: str) -> str:
    name = f"web-{namespace}"
    return f"""\
apiVersion: gitward.dev/v1alpha1
kind: Application
metadata: {{name: {name}}}
spec:
  source: {{repoURL: '{repo.path}', path: chart, targetRevision: main, helm: {{}}}}
  destination: {{namespace: {namespace}}}
  syncPolicy:
    automated: {{prune: true, selfHeal: true}}
    syncOptions: [CreateNamespace=true]
  targets:
    - name: canary
      clusterSelector: {{matchLabels: {{stage: canary}}}}
      helm: {{values: {{value: canary}}}}
      namespace: {namespace}-canary
    - name: prod
      clusterSelector:
        matchExpressions: [{{key: env, operator: In, values: [prod]}}]
      helm: {{values: {{value: prod}}}}
---
apiVersion: gitward.dev/v1alpha1
kind: Application
metadata: {{name: lost-{namespace}}}
spec:
  source: {{repoURL: '{repo.path}', path: chart, targetRevision: main}}
  destination: {{namespace: {namespace}}}
  targets:
    - {{clusterName: mars}}
    - {{clusterSelector: {{matchLabels: {{env: qa}}}}}}
"""


def clusters(planes: Planes, home: ClusterState, labels: dict[str, dict[str, str]]) -> str:
    token = planes["west"].state.admin_token()
    return (
        cluster_doc("east", planes["east"].kubeconfig, labels["east"])
        + argo_secret_doc("west", planes["west"], token, labels["west"])
        + cluster_doc("home", home.kubeconfig, labels["home"])
    )


async def test_a_label_selected_app_reaches_exactly_the_matching_clusters_and_moves(  # noqa: PLR0917
    fleet_serve: FleetServe,
    planes: Planes,
    control_plane: ClusterState,
    clients: dict[str, KubeClient],
    repo: GitRepo,
    namespace: str,
) -> None:
    repo.write(CHART)
    repo.commit()
    labels = {
        "east": {"env": "prod", "stage": "canary"},
        "west": {"env": "prod"},
        "home": {"env": "dev"},
    }
    running = await fleet_serve(
        {
            "clusters.yaml": clusters(planes, control_plane, labels),
            "apps.yaml": web(repo, namespace),
        }
    )

    web_app, lost_app = f"web-{namespace}", f"lost-{namespace}"
    await running.wait_app(f"{web_app}.east", synced)
    await running.wait_app(f"{web_app}.west", synced)
    assert await live_value(clients["east"], f"{namespace}-canary") == "canary"
    assert await live_value(clients["west"], namespace) == "prod"
    assert await live_value(clients["home"], namespace) is None
    _, listing = await running.api("GET", "/api/v1/applications")
    names = {a["name"] for a in listing["items"]}
    assert {f"{web_app}.east", f"{web_app}.west"} <= names
    assert not {web_app, f"{web_app}.home", lost_app} & names
    east = await running.app(f"{web_app}.east")
    assert east["destination"] == {"name": "east", "namespace": f"{namespace}-canary"}
    _, history = await running.api("GET", f"/api/v1/applications/{web_app}.west/history")
    assert history["items"][0]["result"] == "Succeeded"

    _, lost = await running.api("GET", f"/api/v1/fleet/{lost_app}")
    assert lost["instances"] == []
    assert "targets[0] clusterName 'mars': no such cluster is declared" in lost["problems"][0]
    assert "targets[1] clusterSelector env=qa: matches no cluster" in lost["problems"][1]
    status, ready = await running.api("GET", "/readyz")
    assert status == 200
    assert f"Application '{lost_app}': targets[0] clusterName 'mars'" in ready

    labels["west"], labels["home"] = {"env": "dev"}, {"env": "prod"}
    (running.config / "clusters.yaml").write_text(clusters(planes, control_plane, labels))
    await running.service.reload()

    await running.wait_app(f"{web_app}.home", synced)
    assert await live_value(clients["home"], namespace) == "prod"
    await eventually(
        lambda: live_value(clients["west"], namespace),
        lambda v: v is None,
        what="the instance on west pruned once west is relabelled",
    )
    status, _ = await running.api("GET", f"/api/v1/applications/{web_app}.west")
    assert status == 404
    _, web_view = await running.api("GET", f"/api/v1/fleet/{web_app}")
    assert sorted(i["cluster"] for i in web_view["instances"]) == ["east", "home"]
