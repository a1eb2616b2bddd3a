"""App-of-apps under ``gitward serve``: Argo CD's ``apps`` example chart renders
Applications; gitward manages them as children of the parent (no Argo CD CRD in the
cluster), and removes a child its parent stops rendering."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gitward.kube.client import KubeClient
from gitward.model import ResourceKey
from gitward.reconcile.pipeline import SyncOptions
from tests.engine.conftest import GitRepo
from tests.serve.conftest import Running, Serve
from tests.support.waiting import eventually

from .conftest import EXAMPLES

pytestmark = pytest.mark.cluster

CHILDREN = ("guestbook", "helm-guestbook", "kustomize-guestbook")


def _values(repo: GitRepo, namespace: str, children: tuple[str, ...]) -> str:
    """The chart's configuration, as a user of the example writes it: their repository,
    and the applications they want (each in a namespace of this test)."""
    releases = {"helm-guestbook": {"helm": {"releaseName": "helm-guestbook"}}}
    values = {
        "config": {
            "spec": {
                "destination": {"server": "https://kubernetes.default.svc"},
                "source": {"repoURL": str(repo.path), "targetRevision": "main"},
            }
        },
        "applications": [
            {"name": name, "namespace": f"{namespace}-{name}"[:63]}
            | ({"tool": releases[name]} if name in releases else {})
            for name in children
        ],
    }
    return json.dumps(values)


def _parent(name: str, repo: GitRepo, namespace: str) -> str:
    return (
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\n"
        f"metadata: {{name: {name}, namespace: argocd}}\n"
        "spec:\n"
        f"  source: {{repoURL: '{repo.path}', path: apps, targetRevision: main}}\n"
        f"  destination: {{server: 'https://kubernetes.default.svc', namespace: {namespace}}}\n"
        "  syncPolicy: {automated: {prune: true, selfHeal: true}}\n"
    )


async def _wait(running: Running, name: str, check: Any, timeout: float = 120) -> dict[str, Any]:
    """The app once ``check`` holds; a child is unknown (404) until its parent rendered."""
    result: dict[str, Any] = await eventually(
        lambda: running.app(name),
        check,
        what=f"application {name}",
        timeout=timeout,
        ignoring=(AssertionError,),
    )
    return result


def _failed(app: dict[str, Any]) -> bool:
    return any(c["type"] == "ReconcileError" for c in app["conditions"])


def _synced(app: dict[str, Any]) -> bool:
    return bool(app["syncState"] == "Synced" and app["health"]["status"] == "Healthy")


async def _in_sync(running: Running, name: str) -> bool:
    spec = running.controller.apps[name]
    look = await running.service.engine_for(spec).look(spec, SyncOptions())
    return bool(look.in_sync)


@pytest.fixture
def example(repo: GitRepo, namespace: str) -> GitRepo:
    for name in ("apps", *CHILDREN):
        repo.copy(EXAMPLES / "argocd-example-apps" / name, name)
    repo.write({"apps/values.yaml": _values(repo, namespace, CHILDREN)})
    repo.commit()
    return repo


async def test_argo_cd_apps_example_children_are_synced_healthy_then_one_is_removed(
    serve: Serve, example: GitRepo, cluster: KubeClient, namespace: str
) -> None:
    parent = f"apps-{namespace}"
    running = await serve({"apps.yaml": _parent(parent, example, namespace)})

    children = [f"example.{name}" for name in CHILDREN]
    for child in children:
        await _wait(running, child, _synced, timeout=180)
        assert running.controller.apps[child].owner == f"Application/{parent}"
        assert await _in_sync(running, child)
    parent_status = await running.wait_app(
        parent, lambda a: a["syncState"] == "Synced" and a["health"]["status"] != "Progressing"
    )
    assert parent_status["revision"]["live"] == example.git("rev-parse", "HEAD")
    # Argo CD's rule: a parent deploying only Applications is Healthy, not Missing.
    assert parent_status["health"]["status"] == "Healthy", parent_status["health"]
    assert await _in_sync(running, parent)
    deploy = ResourceKey("apps", "Deployment", f"{namespace}-kustomize-guestbook", "")
    gone = ResourceKey(deploy.group, deploy.kind, deploy.namespace, "kustomize-guestbook-ui")
    assert await cluster.get(gone) is not None
    # Nothing of kind Application was applied: the cluster has no such CRD at all.
    assert "argoproj.io/v1alpha1" not in await cluster.api_versions()

    example.write({"apps/values.yaml": _values(example, namespace, CHILDREN[:2])})
    example.commit("drop kustomize-guestbook")
    status, _ = await running.push(example)
    assert status == 200
    await eventually(
        lambda: "example.kustomize-guestbook" not in running.controller.apps,
        what="the dropped child to be removed",
        timeout=120,
    )
    await eventually(
        lambda: cluster.get(gone), lambda live: live is None, what="its Deployment pruned"
    )
    assert set(children[:2]) <= set(running.controller.apps)


async def test_a_child_named_like_a_declared_app_is_an_error_on_the_parent_naming_both(
    serve: Serve, example: GitRepo, namespace: str
) -> None:
    parent = f"apps-{namespace}"
    declared = (
        "apiVersion: gitward.dev/v1alpha1\nkind: Application\n"
        "metadata: {name: example.guestbook}\n"
        f"spec:\n  source: {{repoURL: '{example.path}', path: guestbook}}\n"
        f"  destination: {{namespace: {namespace}}}\n"
    )
    running = await serve(
        {"apps.yaml": _parent(parent, example, namespace), "guestbook.yaml": declared}
    )
    app = await running.wait_app(parent, _failed, timeout=120)
    [message] = [c["message"] for c in app["conditions"] if c["type"] == "ReconcileError"]
    assert message.startswith(f"{parent}: renders the Application 'example.guestbook'")
    assert "taken by the declared app 'example.guestbook'" in message
    assert running.controller.apps["example.guestbook"].owner is None
    assert "example.helm-guestbook" not in running.controller.apps


def _set(repo: GitRepo, namespace: str, elements: tuple[str, ...]) -> str:
    """An ApplicationSet (list generator) whose apps each deploy the ``site`` folder."""
    items = ", ".join(f"{{env: {e}}}" for e in elements)
    return (
        "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\n"
        "metadata: {name: sites}\n"
        "spec:\n"
        f"  generators: [{{list: {{elements: [{items}]}}}}]\n"
        "  template:\n"
        f"    metadata: {{name: 'site-{{{{env}}}}-{namespace}'}}\n"
        "    spec:\n"
        f"      source: {{repoURL: '{repo.path}', path: site, targetRevision: main}}\n"
        f"      destination: {{namespace: '{namespace}-{{{{env}}}}'}}\n"
        "      syncPolicy: {automated: {prune: true}, syncOptions: [CreateNamespace=true]}\n"
    )


async def test_an_application_set_rendered_by_a_parent_generates_apps_and_prunes_with_it(
    serve: Serve, repo: GitRepo, cluster: KubeClient, namespace: str
) -> None:
    site = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: site}\ndata: {up: 'yes'}\n"
    repo.write({"root/set.yaml": _set(repo, namespace, ("dev", "prod")), "site/cm.yaml": site})
    repo.commit()
    parent = f"root-{namespace}"
    running = await serve({"root.yaml": _parent(parent, repo, namespace).replace("apps", "root")})
    for env in ("dev", "prod"):
        app = await _wait(running, f"site-{env}-{namespace}", _synced, timeout=180)
        assert app["syncState"] == "Synced"
        assert running.controller.apps[f"site-{env}-{namespace}"].owner == "ApplicationSet/sites"
    prod = ResourceKey("", "ConfigMap", f"{namespace}-prod", "site")
    assert await cluster.get(prod) is not None
    await running.wait_app(parent, _synced)  # renders only the set: Healthy, not Missing

    repo.write({"root/set.yaml": _set(repo, namespace, ("dev",))})
    repo.commit("drop prod")
    status, _ = await running.push(repo)
    assert status == 200
    await eventually(
        lambda: f"site-prod-{namespace}" not in running.controller.apps,
        what="the app of the dropped element to be removed",
        timeout=120,
    )
    await eventually(
        lambda: cluster.get(prod), lambda live: live is None, what="its objects pruned"
    )
    assert f"site-dev-{namespace}" in running.controller.apps


async def test_an_application_set_the_parent_renders_wrongly_is_an_error_on_the_parent(
    serve: Serve, repo: GitRepo, namespace: str
) -> None:
    repo.write(
        {
            "root/set.yaml": "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\n"
            "metadata: {name: web}\nspec: {generators: [{bogus: {}}], template: {}}\n"
        }
    )
    repo.commit()
    parent = f"root-{namespace}"
    running = await serve({"root.yaml": _parent(parent, repo, namespace).replace("apps", "root")})
    app = await running.wait_app(parent, _failed, timeout=120)
    assert "renders an ApplicationSet that gitward cannot read" in json.dumps(app)


@pytest.mark.parametrize(
    "case",
    [
        (
            "{parameters: [{name: 'replica count', value: '2'}]}",
            "parameters[0].name 'replica count' is not a Helm value path",
        ),
        ("{valueFiles: [$config/prod.yaml]}", "names ref 'config', but no source has that ref"),
    ],
)
async def test_a_child_with_bad_helm_options_is_an_error_on_the_parent_and_nothing_is_applied(
    serve: Serve, repo: GitRepo, cluster: KubeClient, namespace: str, case: tuple[str, str]
) -> None:
    helm, message = case
    child = (
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\n"
        f"metadata: {{name: bad-{namespace}}}\n"
        f"spec:\n  source: {{repoURL: '{repo.path}', path: chart, helm: {helm}}}\n"
        f"  destination: {{namespace: {namespace}}}\n"
    )
    plain = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: beside}\n"
    repo.write({"root/child.yaml": child, "root/cm.yaml": plain})
    repo.commit()
    parent = f"root-{namespace}"
    running = await serve({"root.yaml": _parent(parent, repo, namespace).replace("apps", "root")})
    app = await running.wait_app(parent, _failed, timeout=120)
    [error] = [c["message"] for c in app["conditions"] if c["type"] == "ReconcileError"]
    assert "renders an Application that gitward cannot read" in error
    assert message in error
    assert f"bad-{namespace}" not in running.controller.apps
    assert await cluster.get(ResourceKey("", "ConfigMap", namespace, "beside")) is None


async def test_a_push_to_the_ref_source_of_a_multi_source_app_syncs_it(
    serve: Serve, repo: GitRepo, other_repo: GitRepo, cluster: KubeClient, namespace: str
) -> None:
    repo.copy(EXAMPLES / "argocd-example-apps" / "helm-guestbook", "helm-guestbook")
    repo.commit()
    other_repo.write({"prod.yaml": "replicaCount: 2\n"})
    other_repo.commit()
    name = f"multi-{namespace}"
    app = (
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\n"
        f"metadata: {{name: {name}}}\nspec:\n"
        f"  destination: {{namespace: {namespace}}}\n"
        "  syncPolicy: {automated: {prune: true}}\n  sources:\n"
        f"  - {{repoURL: '{repo.path}', path: helm-guestbook, targetRevision: main,\n"
        "     helm: {valueFiles: [values.yaml, $env/prod.yaml]}}\n"
        f"  - {{repoURL: '{other_repo.path}', targetRevision: main, ref: env}}\n"
    )
    running = await serve({"app.yaml": app})
    await running.wait_app(name, _synced, timeout=120)
    key = ResourceKey("apps", "Deployment", namespace, f"{name}-helm-guestbook")
    live = await cluster.get(key)
    assert live is not None
    assert live["spec"]["replicas"] == 2

    other_repo.write({"prod.yaml": "replicaCount: 3\n"})
    other_repo.commit("three")
    status, pushed = await running.push(other_repo)
    assert (status, pushed["apps"]) == (200, [name])
    await eventually(
        lambda: cluster.get(key),
        lambda d: d is not None and d["spec"]["replicas"] == 3,
        what="the Deployment scaled by the values pushed to the ref source",
    )
