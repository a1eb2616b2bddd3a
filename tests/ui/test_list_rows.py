"""The Applications list's rows in Chromium: one row per app x cluster, and the commit.

A fleet app (``spec.targets``) deployed to two clusters (the dev control plane, and the
same control plane declared again as cluster ``east``) shows one row per cluster, each
naming its app and cluster, and a link to every cluster of that app; every row shows
the live commit's short SHA and subject (markup in it shown as text), the text search
finds a commit subject, the app page shows the subject of its live commit and of each
sync in its history, and a new commit changes the subject live.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Dialog, Page, expect

from gitward.devcluster import ClusterState
from tests.engine.conftest import GitRepo
from tests.fleet.conftest import cluster_doc
from tests.ui.conftest import Ui, start_ui
from tests.ui.test_pages import config_map

pytestmark = pytest.mark.cluster
WAIT = 30_000  # ms: a loaded machine; expect() returns as soon as the page shows it

SUBJECT = 'release <b>one</b> & <img src=x onerror="window.__pwned=1"> more'


def fleet_app(repo: GitRepo, namespace: str) -> str:
    return f"""apiVersion: gitward.dev/v1alpha1
kind: Application
metadata: {{name: web}}
spec:
  source: {{repoURL: '{repo.path}', path: web, targetRevision: main}}
  destination: {{namespace: {namespace}}}
  syncPolicy: {{automated: {{prune: true}}}}
  targets:
    - {{clusterName: in-cluster, kustomize: {{dir: home}}}}
    - {{clusterName: east, kustomize: {{dir: east}}}}
"""


def plain_app(repo: GitRepo, namespace: str) -> str:
    return f"""apiVersion: gitward.dev/v1alpha1
kind: Application
metadata: {{name: solo}}
spec:
  source: {{repoURL: '{repo.path}', path: solo, targetRevision: main}}
  destination: {{namespace: {namespace}}}
  syncPolicy: {{automated: {{prune: true}}}}
"""


@pytest.fixture(scope="module")
def ui(
    tmp_path_factory: pytest.TempPathFactory, control_plane: ClusterState, module_namespace: str
) -> Iterator[Ui]:
    tmp = tmp_path_factory.mktemp("ui-rows")
    repo = GitRepo(tmp / "repo")
    repo.write(
        {
            "web/home/cm.yaml": config_map("web-home", "1"),
            "web/east/cm.yaml": config_map("web-east", "1"),
            "solo/cm.yaml": config_map("solo", "1"),
        }
    )
    repo.commit(f"{SUBJECT}\n\nthe body is not shown")
    declarations = {
        "clusters.yaml": cluster_doc("east", str(control_plane.kubeconfig)),
        "web.yaml": fleet_app(repo, module_namespace),
        "solo.yaml": plain_app(repo, module_namespace),
    }
    running = start_ui(tmp, control_plane, repo, module_namespace, declarations=declarations)
    try:
        running.serve.wait(
            "/api/v1/applications",
            lambda body: (
                {a["name"]: a["syncState"] for a in body["items"]}
                == {"web.in-cluster": "Synced", "web.east": "Synced", "solo": "Synced"}
            ),
            timeout=300,
        )
        yield running
    finally:  # also when the apps never get there: no serve left running
        running.serve.stop()


def test_an_app_on_two_clusters_has_one_row_per_cluster(ui: Ui, page: Page) -> None:
    ui.login(page)
    rows = page.locator("table.apps tbody tr")
    expect(rows).to_have_count(3, timeout=WAIT)
    home, east = rows.filter(has_text="web.in-cluster"), rows.filter(has_text="web.east")
    expect(home.get_by_test_id("of-app")).to_have_text("web on in-cluster", timeout=WAIT)
    expect(east.get_by_test_id("of-app")).to_have_text("web on east", timeout=WAIT)
    expect(east.locator("td").nth(5)).to_have_text("east", timeout=WAIT)  # the Cluster column
    expect(rows.filter(has_text="solo").get_by_test_id("of-app")).to_have_count(0, timeout=WAIT)

    east.get_by_test_id("of-app").click()  # every cluster of web, and nothing else
    expect(page).to_have_url(f"{ui.base}/?app=web", timeout=WAIT)
    expect(rows).to_have_count(2, timeout=WAIT)
    assert sorted(rows.evaluate_all("rows => rows.map(r => r.dataset.app)")) == [
        "web.east",
        "web.in-cluster",
    ]
    page.get_by_role("link", name="Show every app").click()
    expect(rows).to_have_count(3, timeout=WAIT)


def test_each_row_shows_its_commit_and_the_search_finds_it(ui: Ui, page: Page) -> None:
    sha = ui.repo.git("rev-parse", "HEAD")
    ui.login(page)
    solo = page.locator('tr[data-app="solo"]')
    expect(solo.get_by_test_id("revision")).to_have_text(sha[:12], timeout=WAIT)
    expect(solo.get_by_test_id("commit")).to_have_text(
        SUBJECT, timeout=WAIT
    )  # markup shown as text
    assert page.locator("td.rev b").count() == 0

    page.get_by_role("searchbox").fill("one</b> & <img")
    expect(page.locator("table.apps tbody tr")).to_have_count(3, timeout=WAIT)
    page.get_by_role("searchbox").fill("no-commit-says-this")
    expect(page.locator("table.apps tbody tr")).to_have_count(0, timeout=WAIT)


def test_the_app_page_and_each_history_row_show_the_commit_subject_as_text(
    ui: Ui, page: Page
) -> None:
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    history = ui.serve.wait("/api/v1/applications/solo/history", lambda h: bool(h["items"]))
    first = history["items"][-1]["id"]
    ui.login(page, target="/apps/solo?tab=history")
    expect(page.get_by_test_id("commit")).to_have_text(SUBJECT, timeout=WAIT)  # the summary
    expect(page.get_by_test_id(f"commit-{first}")).to_have_text(SUBJECT, timeout=WAIT)
    assert page.locator("main img, main b").count() == 0  # text, not elements
    assert page.evaluate("() => window.__pwned") is None
    assert dialogs == []


def test_a_new_commit_changes_the_subject_live(ui: Ui, page: Page) -> None:
    ui.login(page)
    solo = page.locator('tr[data-app="solo"]')
    expect(solo.get_by_test_id("commit")).to_have_text(SUBJECT, timeout=WAIT)
    page.evaluate("() => { window.__sameDocument = true; }")
    ui.repo.write({"solo/cm.yaml": config_map("solo", "2")})
    sha = ui.repo.commit("solo: value 2")
    assert ui.serve.request("POST", "/api/v1/applications/solo/refresh").status_code == 202
    expect(solo.get_by_test_id("commit")).to_have_text("solo: value 2", timeout=120_000)
    expect(solo.get_by_test_id("revision")).to_have_text(sha[:12], timeout=WAIT)
    assert page.evaluate("() => window.__sameDocument === true")  # no reload
