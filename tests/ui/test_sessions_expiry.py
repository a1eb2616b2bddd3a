"""A session that expires while pages are open: back to login, then back where one was.

serve runs with ``--ui-session-ttl 40``. Two tabs are open when the session expires: a
sync dialog showing its dry-run plan, and the list filtered by a search. The test waits
for the expiry itself (the server starts sending the browser to the login page), then:
the dialog's "Sync now" leads to the login page (nothing is synced: a form is never
replayed after a login) and, after signing in, back to the dialog with its preview; the
list's next live search leads to the login page and back to the list with its search.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect

from gitward.devcluster import ClusterState
from tests.engine.conftest import GitRepo
from tests.support.waiting import eventually_sync
from tests.ui.conftest import Ui, start_ui
from tests.ui.test_pages import app, config_map

pytestmark = pytest.mark.cluster

TTL = 40  # long enough to sign in and open two pages on a loaded machine


@pytest.fixture(scope="module")
def ui(
    tmp_path_factory: pytest.TempPathFactory, control_plane: ClusterState, module_namespace: str
) -> Iterator[Ui]:
    tmp = tmp_path_factory.mktemp("ui-expiry")
    repo = GitRepo(tmp / "repo")
    repo.write({"late/cm.yaml": config_map("late", "1")})
    repo.commit("first")
    declarations = {
        "late.yaml": app("late", repo, "late", module_namespace, automated=False, labels="{}")
    }
    running = start_ui(
        tmp,
        control_plane,
        repo,
        module_namespace,
        declarations=declarations,
        extra=("--ui-session-ttl", str(TTL)),
    )
    running.serve.wait(
        "/api/v1/applications/late", lambda a: a["syncState"] == "OutOfSync", timeout=120
    )
    yield running
    running.serve.stop()


def sign_in_again(page: Page, ui: Ui, back_to: str) -> None:
    page.get_by_label("API token").fill(ui.admin_token)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{ui.base}{back_to}")


def test_an_expired_session_returns_to_the_page_after_login_with_nothing_lost(
    ui: Ui, page: Page
) -> None:
    dialog_page = "/apps/late/sync?preview=1"
    ui.login(page, target=dialog_page)
    expect(page.get_by_test_id("plan")).to_be_visible()
    listing = page.context.new_page()
    listing.goto(f"{ui.base}/?q=lat")
    expect(listing.locator("tr[data-app=late]")).to_have_count(1)
    before = ui.serve.get("/api/v1/applications/late/history")["items"]

    eventually_sync(  # the expiry itself, seen from the server's side
        lambda: listing.context.request.get(f"{ui.base}/settings", max_redirects=0).status,
        lambda status: status == 303,
        what="the session to expire",
        timeout=TTL * 4,
    )

    # Both tabs act on the expired session before either signs in again (they share it).
    page.get_by_test_id("confirm-sync").click()  # the dialog rendered before the expiry
    expect(page).to_have_url(f"{ui.base}/login?next={quote(dialog_page, safe='')}")
    listing.get_by_role("searchbox").fill("late")  # an htmx request on the expired session
    expect(listing).to_have_url(f"{ui.base}/login?next={quote('/?q=lat', safe='')}")

    sign_in_again(page, ui, dialog_page)
    expect(page.get_by_test_id("plan")).to_be_visible()  # the preview is back
    assert ui.serve.get("/api/v1/applications/late/history")["items"] == before  # not replayed
    sign_in_again(listing, ui, "/?q=lat")
    expect(listing.get_by_role("searchbox")).to_have_value("lat")
    expect(listing.locator("tr[data-app=late]")).to_have_count(1)
