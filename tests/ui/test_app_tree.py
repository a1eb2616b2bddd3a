"""The Resources tree in Chromium: a Deployment, the ReplicaSet it made, and its Pods.

Two apps on the dev cluster (kube-controller-manager makes the ReplicaSet and Pods,
kwok runs them): ``web`` holds a Deployment of two replicas and a ConfigMap; ``many``
holds 55 ConfigMaps. Git never names a ReplicaSet or a Pod, yet the tree shows both
under the Deployment, with their state; ``many``'s 55 objects sit in one collapsed group
that opens to show them all.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from lightkube import Client
from lightkube.resources.apps_v1 import ReplicaSet
from lightkube.resources.core_v1 import Pod
from playwright.sync_api import Page, expect

from gitward.devcluster import ClusterState
from tests.engine.conftest import GitRepo
from tests.ui.conftest import Ui, start_ui
from tests.ui.test_pages import app, config_map

pytestmark = pytest.mark.cluster
WAIT = 60_000  # ms: a look dry-runs every object, slow on a loaded machine

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: tree-web}}
  template:
    metadata: {labels: {app: tree-web}}
    spec:
      containers: [{name: web, image: "registry.invalid/web:1"}]
"""


@pytest.fixture(scope="module")
def ui(
    tmp_path_factory: pytest.TempPathFactory, control_plane: ClusterState, module_namespace: str
) -> Iterator[Ui]:
    tmp = tmp_path_factory.mktemp("ui-tree")
    repo = GitRepo(tmp / "repo")
    ns = module_namespace
    repo.write({"web/deploy.yaml": DEPLOYMENT, "web/cm.yaml": config_map("web-conf", "1")})
    repo.write({f"many/cm{i:02}.yaml": config_map(f"many-{i:02}", "1") for i in range(55)})
    repo.commit("web and many")
    declarations = {
        "web.yaml": app("web", repo, "web", ns, automated=True, labels="{}"),
        "many.yaml": app("many", repo, "many", ns, automated=True, labels="{}"),
    }
    running = start_ui(tmp, control_plane, repo, ns, declarations=declarations)
    try:
        running.serve.wait(
            "/api/v1/applications",
            lambda body: (
                all(
                    (a["syncState"], a["health"]["status"]) == ("Synced", "Healthy")
                    for a in body["items"]
                )
                and len(body["items"]) == 2
            ),
            timeout=180,
        )
        yield running
    finally:
        running.serve.stop()


def test_the_tree_shows_the_replicaset_and_pods_the_deployment_made(
    ui: Ui, page: Page, kube: Client
) -> None:
    ns = ui.namespace
    [replicaset] = [
        r
        for r in kube.list(ReplicaSet, namespace=ns)
        if r.metadata and r.metadata.name and r.metadata.name.startswith("web-")
    ]
    assert replicaset.metadata is not None
    assert replicaset.metadata.name is not None
    pods = sorted(
        p.metadata.name
        for p in kube.list(Pod, namespace=ns, labels={"app": "tree-web"})
        if p.metadata and p.metadata.name
    )
    assert len(pods) == 2

    ui.login(page, target="/apps/web?tab=resources")
    tree = page.get_by_test_id("tree")
    deployment = tree.locator("li", has=page.get_by_test_id(f"open-Deployment.apps {ns}/web")).first
    made = deployment.get_by_test_id(f"made-ReplicaSet-{replicaset.metadata.name}")
    expect(made).to_contain_text("2/2 ready", timeout=WAIT)
    for name in pods:
        expect(made.get_by_test_id(f"made-Pod-{name}")).to_contain_text(
            "Running, 1/1 ready", timeout=WAIT
        )
    conf = tree.get_by_test_id(f"open-ConfigMap {ns}/web-conf")
    expect(conf).to_be_visible()
    assert tree.locator("li.made").count() == 3  # the ConfigMap made nothing
    ui.shot(page, "app-tree")

    deployment.get_by_test_id(f"open-Deployment.apps {ns}/web").click()  # still opens the drawer
    expect(page.locator("#drawer")).to_contain_text("Deployment", timeout=WAIT)


def test_a_level_of_more_than_fifty_objects_is_one_group_that_opens(ui: Ui, page: Page) -> None:
    ui.login(page, target="/apps/many?tab=resources")
    group = page.get_by_test_id("tree").get_by_test_id("group-ConfigMap")
    expect(group.locator("summary")).to_have_text("ConfigMap \u00d7 55", timeout=WAIT)
    first = group.get_by_test_id(f"open-ConfigMap {ui.namespace}/many-00")
    expect(first).to_be_hidden()
    group.locator("summary").click()
    expect(first).to_be_visible()
    expect(group.locator("li")).to_have_count(55)
