"""Saved views of the Applications list and the Activity page's filters, in Chromium.

A saved view is a named filter set kept on the server per user: it comes back in a new
browser, is not shown to anyone else, and can be deleted. The Activity page filters
syncs and actions by actor, action, trigger and problems only, in the URL.
"""

from __future__ import annotations

import re
import stat
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from gitward.devcluster import ClusterState
from tests.engine.conftest import GitRepo
from tests.ui.conftest import Ui, start_ui
from tests.ui.test_pages import app, config_map

pytestmark = pytest.mark.cluster
WAIT = 30_000  # ms: a loaded machine; expect() returns as soon as the page shows it


@pytest.fixture(scope="module")
def ui(
    tmp_path_factory: pytest.TempPathFactory, control_plane: ClusterState, module_namespace: str
) -> Iterator[Ui]:
    tmp = tmp_path_factory.mktemp("ui-views")
    repo = GitRepo(tmp / "repo")
    repo.write({f"{n}/cm.yaml": config_map(f"views-{n}", "1") for n in ("alpha", "beta")})
    repo.commit("first")
    ns = module_namespace
    declarations = {
        "alpha.yaml": app("alpha", repo, "alpha", ns, automated=True, labels="{}", project="a"),
        "beta.yaml": app("beta", repo, "beta", ns, automated=False, labels="{}", project="b"),
    }
    running = start_ui(tmp, control_plane, repo, ns, declarations=declarations)
    try:
        running.serve.wait(
            "/api/v1/applications",
            lambda body: (
                {a["name"]: a["syncState"] for a in body["items"]}
                == {"alpha": "Synced", "beta": "OutOfSync"}
            ),
            timeout=300,
        )
        yield running
    finally:  # also when the apps never get there: no serve left running
        running.serve.stop()


def test_a_saved_view_is_kept_per_user_on_the_server(ui: Ui, page: Page, browser: Browser) -> None:
    ui.login(page)
    rows = page.locator("table.apps tbody tr")
    expect(rows).to_have_count(2, timeout=WAIT)
    page.get_by_label("Project").select_option("b")
    expect(rows).to_have_count(1, timeout=WAIT)
    page.get_by_label("View name").fill("team <b> apps")
    page.get_by_role("button", name="Save view").click()
    view = page.get_by_test_id("view")
    expect(view).to_have_text("team <b> apps", timeout=WAIT)  # markup shown as text
    expect(page).to_have_url(f"{ui.base}/?project=b", timeout=WAIT)
    stored = ui.serve.tmp / "state" / "ui-views.json"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600

    # another browser, same user: the view is there and gives the same rows
    other = browser.new_context()
    try:
        again = other.new_page()
        ui.login(again)
        again.get_by_role("link", name="All", exact=True).click()
        again.get_by_test_id("view").click()
        expect(again).to_have_url(f"{ui.base}/?project=b", timeout=WAIT)
        expect(again.locator("table.apps tbody tr")).to_have_count(1, timeout=WAIT)
        expect(again.locator('tr[data-app="beta"]')).to_have_count(1, timeout=WAIT)
    finally:
        other.close()

    # another user does not see it
    viewer = browser.new_context()
    try:
        theirs = viewer.new_page()
        ui.login(theirs, token=ui.viewer_token)
        expect(theirs.locator("table.apps tbody tr")).to_have_count(2, timeout=WAIT)
        expect(theirs.get_by_test_id("view")).to_have_count(0, timeout=WAIT)
    finally:
        viewer.close()

    page.get_by_role("button", name="Delete view team <b> apps").click()
    expect(page.get_by_test_id("view")).to_have_count(0, timeout=WAIT)


def test_a_view_without_a_name_is_refused_with_the_reason(ui: Ui, page: Page) -> None:
    ui.login(page)
    csrf = page.locator("input[name=csrf]").first.get_attribute("value") or ""
    response = page.context.request.post(
        f"{ui.base}/views", form={"csrf": csrf, "name": "  ", "params": "project=a"}
    )
    assert response.status == 422
    assert "the view needs a name" in response.text()
    forged = page.context.request.post(
        f"{ui.base}/views", form={"csrf": "forged", "name": "x", "params": "project=a"}
    )
    assert forged.status == 403
    page.reload()
    expect(page.get_by_test_id("view")).to_have_count(0, timeout=WAIT)


def test_activity_filters_by_actor_action_trigger_and_problems(ui: Ui, page: Page) -> None:
    # the viewer tries to sync beta (refused, audited); the admin syncs it (a manual sync)
    ui.login(page, token=ui.viewer_token, target="/apps/beta")
    csrf = page.locator("input[name=csrf]").first.get_attribute("value") or ""
    refused = page.context.request.post(f"{ui.base}/apps/beta/sync", form={"csrf": csrf})
    assert refused.status == 403
    page.context.clear_cookies()
    ui.login(page, target="/apps/beta/sync")
    page.get_by_test_id("confirm-sync").click()
    expect(page.get_by_test_id("app-name")).to_have_text("beta", timeout=WAIT)

    actions = page.locator("section[aria-label=Actions] li")
    syncs = page.locator("section[aria-label=Syncs] li")
    page.goto(f"{ui.base}/activity")
    page.get_by_label("Actor").fill("viewer")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"/activity\?.*actor=viewer"), timeout=WAIT)
    expect(actions.filter(has_text="viewer-bot sync beta denied")).to_have_count(1, timeout=WAIT)
    expect(actions.filter(has_text="admin")).to_have_count(0, timeout=WAIT)
    expect(syncs).to_have_text(["No sync yet."], timeout=WAIT)

    page.goto(f"{ui.base}/activity?action=sync")
    expect(actions.filter(has_text="admin sync beta succeeded")).to_have_count(1, timeout=WAIT)
    expect(actions.filter(has_text="viewer-bot sync beta denied")).to_have_count(1, timeout=WAIT)
    page.get_by_label("Problems only").check()
    page.get_by_role("button", name="Filter").click()
    expect(actions.filter(has_text="succeeded")).to_have_count(0, timeout=WAIT)
    expect(actions.filter(has_text="denied")).to_have_count(1, timeout=WAIT)

    page.goto(f"{ui.base}/activity?show=syncs&trigger=manual")
    expect(syncs.filter(has_text="beta")).not_to_have_count(0, timeout=90_000)
    expect(syncs.filter(has_text="alpha")).to_have_count(0, timeout=WAIT)
    expect(actions).to_have_text(["Nothing yet."], timeout=WAIT)
    expect(page.get_by_label("Trigger")).to_have_value("manual", timeout=WAIT)
