"""The web UI in Chromium against a real serve, cluster and Git repository.

Sign-in by token, the list with its filters and search (computed by the server), an
app's diff with a Secret whose value never reaches the browser, a sync from the dialog,
a rollback that shows its diff before pinning, a row that updates live when a commit
lands, a viewer who cannot act, CSRF refused, the CSP header, and markup in labels and
object fields shown as text.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator

import httpx2 as httpx
import pytest
from playwright.sync_api import ConsoleMessage, Dialog, Page, expect

from gitward.devcluster import ClusterState
from tests.engine.conftest import GitRepo
from tests.ui.conftest import Ui, start_ui

pytestmark = pytest.mark.cluster

SECRET_VALUE = "hunter2-never-shown-9c1f"
EVIL = "<img src=x onerror=window.__pwned=1><script>window.__pwned=2</script>"


def config_map(name: str, value: str, note: str = "") -> str:
    annotations = f"\n  annotations: {{note: '{note}'}}" if note else ""
    return (
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}{annotations}\n"
        f"data: {{value: '{value}'}}\n"
    )


SECRET = f"""apiVersion: v1
kind: Secret
metadata: {{name: creds}}
stringData: {{password: {SECRET_VALUE}}}
"""


def app(
    name: str,
    repo: GitRepo,
    path: str,
    namespace: str,
    *,
    automated: bool,
    labels: str,
    project: str = "default",
) -> str:
    policy = "{automated: {prune: true, selfHeal: false}}" if automated else "{}"
    return f"""apiVersion: gitward.dev/v1alpha1
kind: Application
metadata:
  name: {name}
  labels: {labels}
spec:
  project: {project}
  source: {{repoURL: '{repo.path}', path: {path}, targetRevision: main}}
  destination: {{namespace: {namespace}}}
  syncPolicy: {policy}
"""


@pytest.fixture(scope="module")
def ui(
    tmp_path_factory: pytest.TempPathFactory, control_plane: ClusterState, module_namespace: str
) -> Iterator[Ui]:
    tmp = tmp_path_factory.mktemp("ui")
    repo = GitRepo(tmp / "repo")
    ns = module_namespace
    repo.write(
        {
            "web/cm.yaml": config_map("web", "1"),
            "diff/cm.yaml": config_map("diff", "1"),
            "diff/secret.yaml": SECRET,
            "sync/cm.yaml": config_map("sync", "1"),
            "rb/cm.yaml": config_map("rb", "first"),
            "live/cm.yaml": config_map("live", "1"),
            "evil/cm.yaml": config_map("evil", "1", note=EVIL),
        }
    )
    repo.commit("first")
    declarations = {
        "web.yaml": app(
            "web", repo, "web", ns, automated=True, labels="{team: a, tier: web}", project="team-a"
        ),
        "diff.yaml": app("diff", repo, "diff", ns, automated=False, labels="{team: b}"),
        "sync.yaml": app(
            "sync", repo, "sync", ns, automated=False, labels="{team: b}", project="team-a"
        ),
        "rb.yaml": app("rb", repo, "rb", ns, automated=True, labels="{team: c}"),
        "live.yaml": app("live", repo, "live", ns, automated=True, labels="{team: c}"),
        "evil.yaml": app("evil", repo, "evil", ns, automated=False, labels=f'{{note: "{EVIL}"}}'),
    }
    running = start_ui(tmp, control_plane, repo, ns, declarations=declarations)
    running.serve.wait(
        "/api/v1/applications",
        lambda body: (
            {a["name"]: a["syncState"] for a in body["items"]}
            == {"web": "Synced", "rb": "Synced", "live": "Synced"}
            | {"diff": "OutOfSync", "sync": "OutOfSync", "evil": "OutOfSync"}
        ),
        timeout=120,
    )
    yield running
    running.serve.stop()


def api(ui: Ui, method: str, path: str, token: str, body: str | None = None) -> httpx.Response:
    return httpx.request(
        method,
        f"{ui.serve.base}/api/v1{path}",
        headers={"Authorization": f"Bearer {token}"},
        content=body,
        timeout=30,
    )


def test_sign_in_by_token_lands_on_the_page_asked_for(ui: Ui, page: Page) -> None:
    page.goto(f"{ui.base}/apps/web")
    expect(page).to_have_url(f"{ui.base}/login?next=%2Fapps%2Fweb")
    assert page.get_by_label("API token").get_attribute("type") == "password"
    page.get_by_label("API token").fill("not-a-token")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("That token is not valid.")

    page.get_by_label("API token").fill(ui.admin_token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("app-name")).to_have_text("web")
    cookie = next(c for c in page.context.cookies() if c["name"] == "gitward_session")
    assert cookie["httpOnly"]
    assert cookie["sameSite"] == "Strict"


def test_every_response_carries_a_strict_csp_and_pages_break_none_of_it(ui: Ui, page: Page) -> None:
    violations: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            violations.append(message.text)

    page.on("console", on_console)
    ui.login(page)
    for path in ("/", "/apps/web?tab=diff", "/activity", "/settings", "/login"):
        response = page.goto(f"{ui.base}{path}")
        assert response is not None
        csp = response.headers["content-security-policy"]
        assert "default-src 'self'" in csp
        assert "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert "unsafe-eval" not in csp
    assert violations == []


def test_list_filters_and_search_are_done_by_the_server_and_kept_in_the_url(
    ui: Ui, page: Page
) -> None:
    ui.login(page)
    rows = page.locator("table.apps tbody tr")
    expect(rows).to_have_count(6)
    ui.shot(page, "applications")

    page.get_by_role("searchbox").fill("team=c")
    expect(rows).to_have_count(2)
    expect(page).to_have_url(f"{ui.base}/?q=team%3Dc")
    names = sorted(rows.evaluate_all("rows => rows.map(r => r.dataset.app)"))
    assert names == ["live", "rb"]

    page.get_by_role("searchbox").fill("")
    page.get_by_label("Project").select_option("team-a")
    expect(rows).to_have_count(2)
    page.get_by_label("Sync", exact=True).select_option("OutOfSync")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-app", "sync")

    # a deep link gives the same page; the HTML holds only the matching rows
    html = page.context.request.get(f"{ui.base}/?project=team-a&sync=OutOfSync").text()
    assert 'data-app="sync"' in html
    assert 'data-app="web"' not in html
    page.goto(f"{ui.base}/?labels=team%3Db")
    expect(rows).to_have_count(2)


def test_diff_of_an_app_with_a_secret_never_shows_its_value(ui: Ui, page: Page) -> None:
    ui.login(page, target="/apps/diff?tab=diff")
    diff = page.get_by_test_id("diff")
    expect(diff).to_contain_text("Secret")
    expect(diff).to_contain_text("ConfigMap")
    expect(diff).to_contain_text("password")
    ui.shot(page, "app-diff")
    content = page.content()
    encoded = base64.b64encode(SECRET_VALUE.encode()).decode()
    assert SECRET_VALUE not in content
    assert encoded not in content
    # the failing/out-of-sync objects come first on the Resources tab
    page.get_by_role("link", name="Resources").click()
    expect(page.get_by_test_id("resources")).to_contain_text("creds")


def test_sync_from_the_dialog_shows_the_plan_then_syncs_and_audits_the_user(
    ui: Ui, page: Page
) -> None:
    ui.login(page, target="/apps/sync")
    expect(page.get_by_test_id("sync")).to_have_text("OutOfSync")
    page.get_by_test_id("sync-button").click()
    page.get_by_test_id("preview").click()
    plan = page.get_by_test_id("plan")
    expect(plan).to_contain_text("Wave 0")
    expect(plan).to_contain_text("ConfigMap")
    ui.shot(page, "sync-dialog")
    page.get_by_test_id("confirm-sync").click()
    expect(page.get_by_role("status")).to_have_text("Sync requested.")

    synced = ui.serve.wait(
        "/api/v1/applications/sync/history",
        lambda h: bool(h["items"]) and h["items"][0]["result"] == "Succeeded",
    )
    record = synced["items"][0]
    assert record["trigger"] == "manual"
    assert record["actor"] == "admin"
    page.goto(f"{ui.base}/activity")
    expect(page.get_by_label("Actions")).to_contain_text("admin sync sync")


def test_rollback_shows_the_diff_before_confirming_then_the_pin(ui: Ui, page: Page) -> None:
    first = ui.serve.wait("/api/v1/applications/rb/history", lambda h: bool(h["items"]))
    first_id = first["items"][-1]["id"]
    ui.repo.write({"rb/cm.yaml": config_map("rb", "second")})
    second_sha = ui.repo.commit("rb: second")
    assert api(ui, "POST", "/applications/rb/refresh", ui.admin_token).status_code == 202
    ui.serve.wait("/api/v1/applications/rb", lambda a: a["revision"]["live"] == second_sha)

    ui.login(page, target="/apps/rb?tab=history")
    page.get_by_test_id(f"rollback-{first_id}").click()
    diff = page.get_by_test_id("rollback-diff")
    expect(diff).to_contain_text("-  value: second")
    expect(diff).to_contain_text("+  value: first")
    ui.shot(page, "rollback")
    page.get_by_test_id("confirm-rollback").click()
    expect(page.get_by_test_id("pin")).to_contain_text("by admin")
    pinned = api(ui, "GET", "/applications/rb", ui.admin_token).json()["pinned"]
    assert pinned["sha"] == first["items"][-1]["sha"]
    assert api(ui, "POST", "/applications/rb/unpin", ui.admin_token).status_code == 202


def test_a_row_updates_live_when_a_commit_lands(ui: Ui, page: Page) -> None:
    ui.login(page, target="/?q=live")
    row = page.locator("tr[data-app=live]")
    expect(row).to_have_count(1)
    page.evaluate("window.__stillHere = true")
    ui.repo.write({"live/cm.yaml": config_map("live", "2")})
    sha = ui.repo.commit("live: 2")
    assert api(ui, "POST", "/applications/live/refresh", ui.admin_token).status_code == 202
    expect(row.get_by_test_id("revision")).to_have_text(sha[:12], timeout=60_000)
    assert page.evaluate("window.__stillHere") is True  # the page was not reloaded


def test_a_viewer_sees_no_actions_and_gets_403_from_ui_and_api(ui: Ui, page: Page) -> None:
    ui.login(page, token=ui.viewer_token, target="/apps/sync")
    expect(page.get_by_test_id("app-name")).to_have_text("sync")
    expect(page.get_by_test_id("sync-button")).to_have_count(0)
    expect(page.get_by_role("button", name="Refresh")).to_have_count(0)
    csrf = page.locator("input[name=csrf]").first.get_attribute("value")
    response = page.context.request.post(f"{ui.base}/apps/sync/refresh", form={"csrf": csrf or ""})
    assert response.status == 403
    assert "may not refresh" in response.text()
    assert api(ui, "POST", "/applications/sync/sync", ui.viewer_token).status_code == 403
    assert api(ui, "GET", "/applications/sync", ui.viewer_token).status_code == 200


def test_an_action_without_the_csrf_token_is_refused(ui: Ui, page: Page) -> None:
    ui.login(page, target="/apps/diff")
    before = api(ui, "GET", "/applications/diff/history", ui.admin_token).json()["items"]
    forms: list[dict[str, str | float | bool]] = [{}, {"csrf": "forged"}]
    for form in forms:
        response = page.context.request.post(f"{ui.base}/apps/diff/sync", form=form)
        assert response.status == 403
        assert "CSRF" in response.text()
    after = api(ui, "GET", "/applications/diff/history", ui.admin_token).json()["items"]
    assert after == before


def test_markup_in_labels_and_object_fields_is_shown_as_text(ui: Ui, page: Page) -> None:
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    ui.login(page, target="/?q=evil")
    row = page.locator("tr[data-app=evil]")
    expect(row).to_contain_text(EVIL)
    page.goto(f"{ui.base}/apps/evil?tab=diff")
    expect(page.get_by_test_id("diff")).to_contain_text("onerror")
    expect(page.locator("img[src=x]")).to_have_count(0)
    assert page.evaluate("window.__pwned") is None
    assert dialogs == []


def test_an_unknown_app_is_a_page_not_an_error(ui: Ui, page: Page) -> None:
    ui.login(page)
    response = page.goto(f"{ui.base}/apps/removed-from-git")
    assert response is not None
    assert response.status == 404
    expect(page.locator("main")).to_contain_text("removed-from-git")
