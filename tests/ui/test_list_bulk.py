"""Bulk actions and keyboard shortcuts on the Applications list, in Chromium.

Rows ticked on the list are synced, refreshed, suspended or resumed by ONE request;
each app is authorised on its own (a person who may act in project team-a only gets
team-a's apps done and team-b's refused, each named), audited on its own with the
signed-in user, and the outcome per app is shown. The selection survives live row
updates. The keyboard moves through rows, selects them and syncs the selection.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Dialog, Page, Request, expect

from gitward.devcluster import ClusterState
from tests.engine.conftest import GitRepo
from tests.ui.conftest import Ui, start_ui
from tests.ui.test_pages import app, config_map

pytestmark = pytest.mark.cluster
WAIT = 30_000  # ms: a loaded machine; expect() returns as soon as the page shows it

ROLES = """
roles:
  deployer: {actions: [view, sync, suspend], projects: [team-a]}
bindings:
  - {user: viewer-bot, roles: [deployer]}
"""
CURSOR = re.compile(r"\bcursor\b")
APPS = {"a1": "team-a", "a2": "team-a", "b1": "team-b", "k1": "team-b", "k2": "team-b"}


@pytest.fixture(scope="module")
def ui(
    tmp_path_factory: pytest.TempPathFactory, control_plane: ClusterState, module_namespace: str
) -> Iterator[Ui]:
    tmp = tmp_path_factory.mktemp("ui-bulk")
    repo = GitRepo(tmp / "repo")
    repo.write({f"{name}/cm.yaml": config_map(f"bulk-{name}", "1") for name in APPS})
    repo.commit("first")
    roles = tmp / "roles.yaml"
    roles.write_text(ROLES)
    declarations = {
        f"{name}.yaml": app(
            name, repo, name, module_namespace, automated=False, labels="{}", project=project
        )
        for name, project in APPS.items()
    }
    running = start_ui(
        tmp,
        control_plane,
        repo,
        module_namespace,
        declarations=declarations,
        extra=("--roles", str(roles)),
    )
    try:
        running.serve.wait(
            "/api/v1/applications",
            lambda body: (
                {a["name"]: a["syncState"] for a in body["items"]}
                == dict.fromkeys(APPS, "OutOfSync")
            ),
            timeout=300,
        )
        yield running
    finally:  # also when the apps never get there: no serve left running
        running.serve.stop()


def bulk_posts(page: Page) -> list[str]:
    posts: list[str] = []

    def on_request(request: Request) -> None:
        if request.method == "POST" and request.url.endswith("/bulk"):
            posts.append(request.post_data or "")

    page.on("request", on_request)
    return posts


def test_bulk_sync_is_one_request_authorised_and_audited_per_app(ui: Ui, page: Page) -> None:
    ui.login(page, token=ui.viewer_token, target="/?q=1")  # a1, b1, k1
    posts = bulk_posts(page)
    a1, b1 = page.locator('tr[data-app="a1"]'), page.locator('tr[data-app="b1"]')
    a1.get_by_role("checkbox").check()
    b1.get_by_role("checkbox").check()
    expect(page.get_by_test_id("selected")).to_have_text("2 selected", timeout=WAIT)
    page.get_by_role("button", name="Sync selected").click()

    outcomes = page.get_by_test_id("bulk-outcome")
    expect(outcomes).to_have_count(2, timeout=WAIT)
    expect(page.get_by_test_id("bulk-summary")).to_contain_text(
        "1 of 2 done, 1 refused", timeout=WAIT
    )
    expect(outcomes.filter(has_text="a1")).to_contain_text("sync queued", timeout=WAIT)
    expect(outcomes.filter(has_text="b1")).to_contain_text("may not sync", timeout=WAIT)
    assert len(posts) == 1
    assert "app=a1" in posts[0]
    assert "app=b1" in posts[0]

    # a1 is synced (its row updates live, still ticked); b1 is not
    expect(a1.get_by_test_id("sync")).to_have_text("Synced", timeout=90_000)
    expect(a1.get_by_role("checkbox")).to_be_checked(timeout=WAIT)
    expect(b1.get_by_test_id("sync")).to_have_text("OutOfSync", timeout=WAIT)
    expect(page.get_by_test_id("selected")).to_have_text("2 selected", timeout=WAIT)

    # each app audited on its own, with the signed-in user
    page.goto(f"{ui.base}/activity?app=a1")
    expect(page.locator("section[aria-label=Actions] li")).to_contain_text(
        ["viewer-bot sync a1 succeeded"], timeout=WAIT
    )
    page.goto(f"{ui.base}/activity?app=b1")
    expect(page.locator("section[aria-label=Actions] li")).to_contain_text(
        ["viewer-bot sync b1 denied"], timeout=WAIT
    )


def test_bulk_suspend_and_resume_show_the_outcome_per_app(ui: Ui, page: Page) -> None:
    ui.login(page, target="/?project=team-b")
    asked: list[str] = []

    def accept(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    rows = page.locator("table.apps tbody tr")
    expect(rows).to_have_count(3, timeout=WAIT)
    page.get_by_label("Select every row of this page").check()
    expect(page.get_by_test_id("selected")).to_have_text("3 selected", timeout=WAIT)
    page.get_by_role("button", name="Suspend selected").click()
    expect(page.get_by_test_id("bulk-summary")).to_contain_text("3 of 3 done", timeout=WAIT)
    assert asked == ["Suspend the selected applications?"]  # confirmed first
    expect(rows.locator(".badge.suspended")).to_have_count(3, timeout=30_000)

    page.get_by_role("button", name="Resume selected").click()
    expect(page.get_by_test_id("bulk-outcome").filter(has_text="resumed")).to_have_count(
        3, timeout=WAIT
    )
    expect(rows.locator(".badge.suspended")).to_have_count(0, timeout=30_000)


def test_a_forged_bulk_request_acts_on_nothing(ui: Ui, page: Page) -> None:
    ui.login(page)
    response = page.context.request.post(
        f"{ui.base}/bulk", form={"csrf": "forged", "verb": "suspend", "app": "a2"}
    )
    assert response.status == 403
    page.goto(f"{ui.base}/?q=a2")
    expect(page.locator('tr[data-app="a2"] .badge.suspended')).to_have_count(0, timeout=WAIT)
    page.goto(f"{ui.base}/activity?app=a2")
    expect(page.locator("section[aria-label=Actions]")).not_to_contain_text(
        "suspend a2", timeout=WAIT
    )


def test_keyboard_moves_selects_and_syncs(ui: Ui, page: Page) -> None:
    ui.login(page, target="/?project=team-b")  # b1, k1, k2 in name order
    dialogs: list[str] = []

    def refuse(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", refuse)
    rows = page.locator("table.apps tbody tr")
    expect(rows).to_have_count(3, timeout=WAIT)
    page.locator("h1").click()  # focus on the page, not in a field
    page.keyboard.press("j")
    expect(rows.nth(0)).to_have_class(CURSOR, timeout=WAIT)
    page.keyboard.press("j")
    expect(rows.nth(1)).to_have_class(CURSOR, timeout=WAIT)
    page.keyboard.press("x")
    k1 = page.locator('tr[data-app="k1"]')
    expect(k1.get_by_role("checkbox")).to_be_checked(timeout=WAIT)
    expect(page.get_by_test_id("selected")).to_have_text("1 selected", timeout=WAIT)
    page.keyboard.press("s")
    expect(page.get_by_test_id("bulk-outcome")).to_have_text(["k1: sync queued"], timeout=WAIT)
    expect(k1.get_by_test_id("sync")).to_have_text("Synced", timeout=90_000)
    expect(k1).to_have_class(CURSOR, timeout=WAIT)  # the live update kept the cursor
    page.keyboard.press("k")
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{ui.base}/apps/b1", timeout=WAIT)
    page.go_back()
    page.keyboard.press("/")
    expect(page.get_by_role("searchbox")).to_be_focused(timeout=WAIT)
    assert dialogs == []  # sync asks no confirmation
