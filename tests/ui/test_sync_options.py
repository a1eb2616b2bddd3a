"""The sync dialog's options in Chromium: prune off and one object only, for one run.

A real ``gitward serve`` (poll of an hour, so no sync happens but the ones asked for)
on the dev cluster; the app is automated with prune on. Git drops one object and
changes two; the dialog syncs one of them with pruning off. The cluster then holds the
new value of that one object only, the dropped object is still there, and the app's
History tab says which options that sync ran with.

A second app, synced by hand only: once Git drops an object and the app has looked at
that commit, the dialog still offers the dropped object, and a sync of it alone with
prune ticked deletes it and touches nothing else.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from lightkube import Client
from lightkube.core.exceptions import ApiError
from lightkube.resources.core_v1 import ConfigMap
from playwright.sync_api import Page, expect

from gitward.devcluster import ClusterState
from tests.engine.conftest import GitRepo
from tests.ui.conftest import Ui, start_ui
from tests.ui.test_pages import app, config_map

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def ui(
    tmp_path_factory: pytest.TempPathFactory, control_plane: ClusterState, module_namespace: str
) -> Iterator[Ui]:
    tmp = tmp_path_factory.mktemp("ui-sync-options")
    repo = GitRepo(tmp / "repo")
    repo.write({f"opts/{n}.yaml": config_map(f"opt-{n}", "1") for n in ("a", "b", "gone")})
    repo.write({f"hand/{n}.yaml": config_map(f"hand-{n}", "1") for n in ("kept", "dropped")})
    repo.commit("first")
    ns = module_namespace
    declarations = {
        "opts.yaml": app("opts", repo, "opts", ns, automated=True, labels="{}"),
        "hand.yaml": app("hand", repo, "hand", ns, automated=False, labels="{}"),
    }
    running = start_ui(tmp, control_plane, repo, ns, declarations=declarations)
    running.serve.wait(
        "/api/v1/applications/opts",
        lambda a: a["syncState"] == "Synced" and a["health"]["status"] == "Healthy",
        timeout=120,
    )
    yield running
    running.serve.stop()


def live_value(kube: Client, namespace: str, name: str) -> str | None:
    try:
        found = kube.get(ConfigMap, name, namespace=namespace)
    except ApiError as e:
        if e.status.code == 404:
            return None
        raise
    return (found.data or {}).get("value")


def test_the_dialog_syncs_one_object_without_pruning_and_history_says_so(
    ui: Ui, page: Page, kube: Client
) -> None:
    ns = ui.namespace
    ui.repo.remove("opts/gone.yaml")
    ui.repo.write({f"opts/{n}.yaml": config_map(f"opt-{n}", "2") for n in ("a", "b")})
    ui.repo.commit("second")
    before = ui.serve.wait("/api/v1/applications/opts/history", lambda h: bool(h["items"]))
    last = before["items"][0]["id"]

    ui.login(page, target="/apps/opts/sync")
    prune = page.get_by_test_id("opt-prune")
    expect(prune).to_be_checked()  # the app's policy prunes
    prune.uncheck()
    expect(page.get_by_test_id("opt-force")).to_be_checked()
    page.get_by_test_id("opt-objects").locator("summary").click()
    page.get_by_label(f"ConfigMap {ns}/opt-a").check()
    page.get_by_test_id("confirm-sync").click()
    expect(page.get_by_role("status")).to_have_text("Sync requested.")

    done = ui.serve.wait(
        "/api/v1/applications/opts/history",
        lambda h: h["items"][0]["id"] > last and h["items"][0]["result"] == "Succeeded",
        timeout=90,
    )
    record = done["items"][0]
    assert record["options"] == {"prune": False, "resources": [f"ConfigMap {ns}/opt-a"]}
    assert (record["trigger"], record["actor"]) == ("manual", "admin")
    assert [o["object"] for o in record["objects"]] == [f"ConfigMap {ns}/opt-a"]
    values = {n: live_value(kube, ns, f"opt-{n}") for n in ("a", "b", "gone")}
    assert values == {"a": "2", "b": "1", "gone": "1"}

    page.goto(f"{ui.base}/apps/opts?tab=history")
    expect(page.get_by_test_id(f"options-{record['id']}")).to_have_text(
        f"prune off, only ConfigMap {ns}/opt-a"
    )
    # The app is not as Git says, and its page says so (the sync left things out).
    expect(page.get_by_test_id("sync")).to_have_text("OutOfSync")


def test_an_object_git_dropped_can_be_picked_and_pruned_alone(
    ui: Ui, page: Page, kube: Client
) -> None:
    ns = ui.namespace
    assert ui.serve.request("POST", "/api/v1/applications/hand/sync").status_code == 202
    ui.serve.wait("/api/v1/applications/hand", lambda a: a["syncState"] == "Synced", timeout=120)
    ui.repo.remove("hand/dropped.yaml")
    ui.repo.write({"hand/kept.yaml": config_map("hand-kept", "2")})
    sha = ui.repo.commit("hand: drop one, change one")
    assert ui.serve.request("POST", "/api/v1/applications/hand/refresh").status_code == 202
    ui.serve.wait(  # looked at the new commit: Git no longer holds hand-dropped
        "/api/v1/applications/hand",
        lambda a: a["syncState"] == "OutOfSync" and a["revision"]["wanted"] == sha,
        timeout=120,
    )
    last = ui.serve.get("/api/v1/applications/hand/history")["items"][0]["id"]

    ui.login(page, target="/apps/hand/sync")
    prune = page.get_by_test_id("opt-prune")
    expect(prune).not_to_be_checked()  # the app's policy does not prune
    prune.check()
    page.get_by_test_id("opt-objects").locator("summary").click()
    page.get_by_label(f"ConfigMap {ns}/hand-dropped").check()
    page.get_by_test_id("confirm-sync").click()
    expect(page.get_by_role("status")).to_have_text("Sync requested.")

    done = ui.serve.wait(
        "/api/v1/applications/hand/history",
        lambda h: h["items"][0]["id"] > last and h["items"][0]["result"] == "Succeeded",
        timeout=90,
    )
    record = done["items"][0]
    assert record["options"] == {"prune": True, "resources": [f"ConfigMap {ns}/hand-dropped"]}
    assert [o["object"] for o in record["objects"]] == [f"ConfigMap {ns}/hand-dropped"]
    values = {n: live_value(kube, ns, f"hand-{n}") for n in ("kept", "dropped")}
    assert values == {"kept": "1", "dropped": None}
