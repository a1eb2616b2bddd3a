"""An open page while the world changes under it: a dropped live stream, a deleted app.

Chromium talks to the UI through a TCP proxy of the test (tests/ui/proxy.py) that can
cut every connection and refuse new ones, as a network drop does. While the list's
event stream is down, a commit lands and is synced; when the network is back, the page
must reconnect by itself and show the new revision without a reload. An app removed
from the config repository while its page and its row are open: the row leaves the
list live, and the next action on the app's page gets a clear "not found", not an
error. A markup name in a URL (app names are DNS labels, so a link is the one way in)
is shown as text.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import httpx2 as httpx
import pytest
from playwright.sync_api import Dialog, Page, expect

from gitward.devcluster import ClusterState
from tests.engine.conftest import GitRepo
from tests.support.waiting import eventually_sync
from tests.ui.configrepo import WithConfig, start_with_config_repo
from tests.ui.conftest import Ui
from tests.ui.proxy import Proxy
from tests.ui.test_pages import EVIL, app, config_map

pytestmark = pytest.mark.cluster
EVIL_NAME = "<img src=x onerror=window.__pwned=1><b>web"  # no "/": it stays one path segment


@pytest.fixture(scope="module")
def setup(
    tmp_path_factory: pytest.TempPathFactory, control_plane: ClusterState, module_namespace: str
) -> Iterator[WithConfig]:
    tmp = tmp_path_factory.mktemp("ui-live")
    repo = GitRepo(tmp / "repo")
    repo.write(
        {"stream/cm.yaml": config_map("stream", "1"), "doomed/cm.yaml": config_map("doomed", "1")}
    )
    repo.commit("first")
    ns = module_namespace
    declarations = {
        "stream.yaml": app("stream", repo, "stream", ns, automated=True, labels="{}"),
        "doomed.yaml": app("doomed", repo, "doomed", ns, automated=True, labels="{}"),
    }
    running = start_with_config_repo(tmp, control_plane, repo, ns, declarations)
    running.ui.serve.wait(
        "/api/v1/applications",
        lambda body: (
            {a["name"]: a["syncState"] for a in body["items"]}
            == {"stream": "Synced", "doomed": "Synced"}
        ),
        timeout=120,
    )
    yield running
    running.ui.serve.stop()


def login(page: Page, base: str, token: str, target: str) -> None:
    page.goto(f"{base}/login?next={target}")
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/**")


def events_requests(proxy: Proxy) -> int:
    return sum(1 for line in list(proxy.requests) if line.startswith("GET /events"))


def test_a_dropped_live_stream_reconnects_and_catches_up(setup: WithConfig, page: Page) -> None:
    ui = setup.ui
    with Proxy(ui.port) as proxy:
        base = f"http://127.0.0.1:{proxy.port}"
        login(page, base, ui.admin_token, "/?q=stream")
        row = page.locator("tr[data-app=stream]")
        expect(row).to_have_count(1)
        eventually_sync(lambda: events_requests(proxy), what="the page's event stream to open")
        page.evaluate("window.__stillHere = true")

        proxy.pause()  # the network is down: the stream is cut, reconnects are refused
        proxy.cut()
        ui.repo.write({"stream/cm.yaml": config_map("stream", "2")})
        sha = ui.repo.commit("stream: 2")
        refresh(ui, "stream")
        ui.serve.wait(
            "/api/v1/applications/stream",
            lambda a: a["revision"]["live"] == sha and a["syncState"] == "Synced",
            timeout=120,
        )
        opened = events_requests(proxy)
        proxy.resume()

        expect(row.get_by_test_id("revision")).to_have_text(sha[:12], timeout=60_000)
        assert events_requests(proxy) > opened  # it reconnected by itself
        assert page.evaluate("window.__stillHere") is True  # and was not reloaded


def refresh(ui: Ui, name: str) -> None:
    response = httpx.post(
        f"{ui.serve.base}/api/v1/applications/{name}/refresh",
        headers={"Authorization": f"Bearer {ui.admin_token}"},
        timeout=30,
    )
    assert response.status_code == 202, response.text


def test_an_app_deleted_while_its_page_is_open(setup: WithConfig, page: Page) -> None:
    ui = setup.ui
    ui.login(page, target="/?q=doomed")
    listed = page.locator("tr[data-app=doomed]")
    expect(listed).to_have_count(1)
    details = page.context.new_page()
    details.goto(f"{ui.base}/apps/doomed")
    expect(details.get_by_test_id("app-name")).to_have_text("doomed")

    setup.push("remove doomed", remove="doomed.yaml")

    expect(listed).to_have_count(0, timeout=60_000)  # the open list drops the row live
    details.get_by_role("button", name="Refresh").click()  # the page rendered before
    expect(details.locator("main")).to_contain_text(
        "There is no application named doomed (it may have been removed from Git)"
    )
    expect(details.get_by_role("link", name="Back to the list")).to_be_visible()
    gone = httpx.get(
        f"{ui.serve.base}/api/v1/applications/doomed",
        headers={"Authorization": f"Bearer {ui.admin_token}"},
        timeout=30,
    )
    assert gone.status_code == 404


def test_markup_in_an_app_name_of_a_link_is_shown_as_text(setup: WithConfig, page: Page) -> None:
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    ui = setup.ui
    ui.login(page)
    response = page.goto(f"{ui.base}/apps/{quote(EVIL_NAME)}")
    assert response is not None
    assert response.status == 404
    expect(page.locator("main code")).to_have_text(EVIL_NAME)
    expect(page.locator("img[src=x]")).to_have_count(0)
    page.goto(f"{ui.base}/?q={quote(EVIL)}")  # the search box and the empty list echo it
    expect(page.get_by_role("searchbox")).to_have_value(EVIL)
    expect(page.locator("img[src=x]")).to_have_count(0)
    assert page.evaluate("window.__pwned") is None
    assert dialogs == []
