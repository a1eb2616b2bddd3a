"""Bad fleet input under ``gitward serve``, on real control planes: each mistake is an
error on the app or set that made it, and nothing else stops.

An app naming a cluster nobody declared, an ApplicationSet element doing the same, and a
clusters generator whose selector matches no cluster sit in one config revision beside
good apps. What a user relies on: the revision loads, the good apps sync, the bad app
says which cluster is missing (API and ``gitward app get``), the set says its selector
matched nothing, and declaring the cluster later makes the app converge without a
restart.
"""

from __future__ import annotations

import pytest

from gitward.kube.client import KubeClient
from tests.engine.conftest import GitRepo
from tests.fleet.conftest import FleetServe, Planes, app_doc, cluster_doc, live_value
from tests.serve.test_app_cli import env_for, gitward
from tests.serve.test_controller import synced

pytestmark = pytest.mark.cluster


def appset_doc(name: str, generators: str, app_name: str, cluster: str, repo: GitRepo) -> str:
    """An Argo CD ApplicationSet (default template syntax) deploying ``app/``."""
    return (
        "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\n"
        f"metadata: {{name: {name}}}\nspec:\n  generators:\n{generators}"
        "  template:\n"
        f"    metadata: {{name: '{app_name}'}}\n"
        "    spec:\n"
        f"      source: {{repoURL: '{repo.path}', targetRevision: main, path: app}}\n"
        f"      destination: {{name: '{cluster}', namespace: '{{{{ns}}}}'}}\n"
        "      syncPolicy:\n        automated: {prune: true}\n"
        "        syncOptions: [CreateNamespace=true]\n---\n"
    )


def configmap(value: str) -> str:
    return (
        f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: settings}}\ndata: {{value: {value}}}\n"
    )


async def test_unknown_clusters_and_empty_selectors_are_errors_of_their_app_or_set(
    fleet_serve: FleetServe,
    planes: Planes,
    clients: dict[str, KubeClient],
    repo: GitRepo,
    namespace: str,
) -> None:
    repo.write({"app/cm.yaml": configmap("v1")})
    repo.commit()
    ns = namespace
    declarations = {
        "clusters.yaml": cluster_doc("east", planes["east"].kubeconfig, {"env": "prod"}),
        "apps.yaml": app_doc(f"good-{ns}", repo.path, "app", ns, cluster="east")
        + app_doc(f"lost-{ns}", repo.path, "app", f"{ns}-lost", cluster="nowhere"),
        "sets.yaml": appset_doc(
            "listed",
            f"  - list: {{elements: [{{c: east, ns: {ns}-set}}, {{c: far, ns: {ns}-far}}]}}\n",
            f"set-{{{{c}}}}-{ns}",
            "{{c}}",
            repo,
        )
        + appset_doc(
            "qa",
            "  - clusters: {selector: {matchLabels: {env: qa}}}\n",
            f"qa-{{{{name}}}}-{ns}",
            "{{name}}",
            repo,
        ),
    }
    running = await fleet_serve(declarations)  # the revision loads: serve is up

    await running.wait_app(f"good-{ns}", synced, timeout=180)
    await running.wait_app(f"set-east-{ns}", synced, timeout=180)  # the set's good element deploys
    assert await live_value(clients["east"], ns) == "v1"
    for app, cluster in ((f"lost-{ns}", "nowhere"), (f"set-far-{ns}", "far")):
        failed = await running.wait_app(
            app, lambda a: "not declared" in str(a["conditions"]), timeout=180
        )
        condition = failed["conditions"][0]
        assert condition["type"] == "ReconcileError"
        assert f"destination cluster {cluster!r} is not declared" in condition["message"]
    shown = await gitward("app", "get", f"lost-{ns}", env=env_for(running))
    assert shown.code == 0, shown.err
    assert "destination cluster 'nowhere' is not declared" in shown.out

    status, readyz = await running.api("GET", "/readyz")
    assert status == 200  # still ready: the problems are the apps' and the set's
    assert (
        "ApplicationSet qa (sets.yaml): spec.generators[0]: clusters selector env=qa "
        "matches no cluster, so it generates no application"
    ) in str(readyz)
    assert "ApplicationSet listed" not in str(readyz)  # one bad element does not fail its set

    (running.config / "clusters.yaml").write_text(
        declarations["clusters.yaml"] + cluster_doc("nowhere", planes["west"].kubeconfig)
    )
    await running.service.reload()  # as the next config commit would
    await running.wait_app(f"lost-{ns}", synced, timeout=180)  # no restart of serve
    assert await live_value(clients["west"], f"{ns}-lost") == "v1"
