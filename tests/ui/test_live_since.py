"""The list's live stream does not lose what changed before it first connected.

The page is rendered at some generation of changes; its event stream connects later
(and a stream htmx rebuilds after an error sends no Last-Event-ID). Here the stream's
requests fail (Playwright aborts them) while a commit lands and is synced, so the
change happens after the render and before any stream is open. Once the stream gets
through, the row must show the new commit without a reload: the stream's URL carries
``since=<generation at render>`` and the server, seeing changes since, refreshes the list.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx2 as httpx
import pytest
from playwright.sync_api import Page, Route, expect

from gitward.devcluster import ClusterState
from tests.engine.conftest import GitRepo
from tests.support.waiting import eventually_sync
from tests.ui.conftest import Ui, start_ui
from tests.ui.test_pages import app, config_map

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def ui(
    tmp_path_factory: pytest.TempPathFactory, control_plane: ClusterState, module_namespace: str
) -> Iterator[Ui]:
    tmp = tmp_path_factory.mktemp("ui-since")
    repo = GitRepo(tmp / "repo")
    repo.write({"gap/cm.yaml": config_map("gap", "1")})
    repo.commit("first")
    ns = module_namespace
    declarations = {"gap.yaml": app("gap", repo, "gap", ns, automated=True, labels="{}")}
    running = start_ui(tmp, control_plane, repo, ns, declarations=declarations)
    running.serve.wait(
        "/api/v1/applications/gap", lambda a: a["syncState"] == "Synced", timeout=120
    )
    yield running
    running.serve.stop()


def test_a_change_between_render_and_the_first_stream_connect_reaches_the_row(
    ui: Ui, page: Page
) -> None:
    refused: list[str] = []

    def refuse(route: Route) -> None:
        refused.append(route.request.url)
        route.abort()

    ui.login(page)
    page.route("**/events?*", refuse)
    page.goto(f"{ui.base}/?q=gap")  # rendered now; every stream attempt fails
    row = page.locator("tr[data-app=gap]")
    expect(row).to_have_count(1)
    eventually_sync(lambda: len(refused), what="the page to try its event stream")
    assert "since=" in refused[0]
    page.evaluate("window.__stillHere = true")

    ui.repo.write({"gap/cm.yaml": config_map("gap", "2")})
    sha = ui.repo.commit("gap: 2")
    answer = httpx.post(
        f"{ui.serve.base}/api/v1/applications/gap/refresh",
        headers={"Authorization": f"Bearer {ui.admin_token}"},
        timeout=30,
    )
    assert answer.status_code == 202, answer.text
    ui.serve.wait(
        "/api/v1/applications/gap",
        lambda a: a["revision"]["live"] == sha and a["syncState"] == "Synced",
        timeout=120,
    )
    expect(row.get_by_test_id("revision")).not_to_have_text(sha[:12])  # nothing got through
    page.unroute("**/events?*")

    expect(row.get_by_test_id("revision")).to_have_text(sha[:12], timeout=90_000)
    assert page.evaluate("window.__stillHere") is True  # caught up live, not reloaded
