"""The Activity page is a live feed, in Chromium against a real serve and cluster.

With a filtered Activity page open, a sync and an action by another client (the API,
with the admin token), and drift made by hand in the cluster, appear without a reload;
entries outside the filter never do. A webhook whose ref carries markup shows it as
text. A stream that could not connect while something happened catches up once it
gets through (its URL says which publication the page was rendered at).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterator

import httpx2 as httpx
import orjson
import pytest
from lightkube import Client
from lightkube.resources.core_v1 import ConfigMap
from playwright.sync_api import Page, Route, expect

from gitward.devcluster import ClusterState
from tests.engine.conftest import GitRepo
from tests.support.waiting import eventually_sync
from tests.ui.conftest import Ui, start_ui
from tests.ui.test_pages import app, config_map

pytestmark = pytest.mark.cluster
WAIT = 60_000  # ms: a loaded machine; expect() returns as soon as the page shows it
SECRET = b"activity-live-webhook-secret"
EVIL_REF = "refs/heads/<img src=x onerror=window.__pwned=1>"


@pytest.fixture(scope="module")
def ui(
    tmp_path_factory: pytest.TempPathFactory, control_plane: ClusterState, module_namespace: str
) -> Iterator[Ui]:
    tmp = tmp_path_factory.mktemp("ui-activity")
    repo = GitRepo(tmp / "repo")
    repo.write({f"{n}/cm.yaml": config_map(f"act-{n}", "1") for n in ("one", "two")})
    repo.commit("first")
    ns = module_namespace
    (tmp / "webhook-secret").write_bytes(SECRET)
    declarations = {  # automated, self-heal off: drift is found and left alone
        "one.yaml": app("one", repo, "one", ns, automated=True, labels="{}"),
        "two.yaml": app("two", repo, "two", ns, automated=True, labels="{}"),
    }
    extra = ("--webhook-secret-file", str(tmp / "webhook-secret"))
    running = start_ui(tmp, control_plane, repo, ns, declarations=declarations, extra=extra)
    try:
        running.serve.wait(
            "/api/v1/applications",
            lambda body: (
                {a["name"]: a["syncState"] for a in body["items"]}
                == {"one": "Synced", "two": "Synced"}
            ),
            timeout=300,
        )
        yield running
    finally:  # also when the apps never get there: no serve left running
        running.serve.stop()


def api(ui: Ui, verb: str, app_name: str) -> None:
    response = ui.serve.request("POST", f"/api/v1/applications/{app_name}/{verb}")
    assert response.status_code == 202, response.text


def manual_syncs(ui: Ui, app_name: str) -> list[str]:
    history = ui.serve.get(f"/api/v1/applications/{app_name}/history")["items"]
    return [s["result"] for s in history if s["trigger"] == "manual"]


def test_syncs_actions_and_drift_appear_live_within_the_filter(
    ui: Ui, page: Page, kube: Client
) -> None:
    ui.login(page, target="/activity?app=one")
    syncs = page.locator("section[aria-label=Syncs] li")
    actions = page.locator("section[aria-label=Actions] li")
    drift = page.locator("section[aria-label=Drift] li")
    expect(page.get_by_label("App")).to_have_value("one")
    page.evaluate("() => { window.__sameDocument = true; }")

    # outside the filter first, finished before the entries we wait for
    before = len(manual_syncs(ui, "two"))
    api(ui, "sync", "two")
    ui.serve.wait(
        "/api/v1/applications/two/history",
        lambda _: (
            manual_syncs(ui, "two")[:1] == ["Succeeded"] and len(manual_syncs(ui, "two")) > before
        ),
        timeout=120,
    )
    api(ui, "sync", "one")
    expect(actions.filter(has_text="admin sync one succeeded")).to_have_count(1, timeout=WAIT)
    done = syncs.filter(has_text=re.compile(r"one sync \d+ Succeeded · manual by admin"))
    expect(done).to_have_count(1, timeout=120_000)  # its result as it finished
    # the page was re-rendered after two's entries existed: had they passed, they'd show
    expect(page.locator("#feed")).not_to_contain_text("two")

    # drift by hand, with self-heal off: found, left alone, on the feed
    kube.patch(
        ConfigMap,
        "act-one",
        {"data": {"value": "edited by hand"}},
        namespace=ui.namespace,
        field_manager="someone-else",
    )
    found = drift.filter(has_text="not corrected: self-heal is off")
    expect(found).to_have_count(1, timeout=120_000)
    expect(found).to_contain_text("one drift · differs from Git:")
    expect(found).to_contain_text("changed in the cluster")
    assert page.evaluate("() => window.__sameDocument === true")  # never reloaded
    ui.shot(page, "activity")


def test_a_webhook_with_markup_in_its_ref_appears_live_as_text(ui: Ui, page: Page) -> None:
    ui.login(page, target="/activity?action=webhook")
    actions = page.locator("section[aria-label=Actions] li")
    expect(page.get_by_label("Action", exact=True)).to_have_value("webhook")
    page.evaluate("() => { window.__sameDocument = true; }")

    api(ui, "refresh", "two")  # an action the filter leaves out
    body = orjson.dumps(
        {
            "ref": EVIL_REF,
            "after": ui.repo.git("rev-parse", "HEAD"),
            "repository": {"full_name": "ops/apps", "clone_url": str(ui.repo.path)},
            "commits": [],
        }
    )
    signature = "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()
    sent = httpx.post(
        f"{ui.serve.base}/api/v1/webhooks/github",
        content=body,
        headers={"X-GitHub-Event": "push", "X-Hub-Signature-256": signature},
        timeout=60,
    )
    assert sent.status_code == 200, sent.text

    entry = actions.filter(has_text=f"webhook:github webhook {EVIL_REF} succeeded")
    expect(entry).to_have_count(1, timeout=WAIT)  # the markup is the entry's text
    expect(page.locator("#feed img")).to_have_count(0)
    expect(actions.filter(has_text="refresh")).to_have_count(0)
    assert page.evaluate("() => window.__pwned") is None
    assert page.evaluate("() => window.__sameDocument === true")


def test_a_stream_that_could_not_connect_catches_up(ui: Ui, page: Page) -> None:
    refused: list[str] = []

    def refuse(route: Route) -> None:
        refused.append(route.request.url)
        route.abort()

    ui.login(page, target="/activity?app=two")
    other = page.context.new_page()  # another tab watches: the feed goes on publishing
    other.goto(f"{ui.base}/activity?show=actions")
    page.route("**/activity/events?*", refuse)
    page.goto(f"{ui.base}/activity?app=two&show=actions")  # rendered now; no stream yet
    page.evaluate("() => { window.__sameDocument = true; }")
    eventually_sync(lambda: len(refused), what="the page to try its event stream")

    api(ui, "suspend", "two")  # while this tab's stream cannot get through
    api(ui, "resume", "two")
    resumed = "admin resume two succeeded"
    watching = other.locator("section[aria-label=Actions] li").filter(has_text=resumed)
    expect(watching).to_have_count(1, timeout=WAIT)  # published, while this tab was away
    actions = page.locator("section[aria-label=Actions] li")
    expect(actions.filter(has_text=resumed)).to_have_count(0)
    page.unroute("**/activity/events?*")

    expect(actions.filter(has_text=resumed)).to_have_count(1, timeout=WAIT)
    expect(actions.filter(has_text="admin suspend two succeeded")).to_have_count(1)
    assert page.evaluate("() => window.__sameDocument === true")
