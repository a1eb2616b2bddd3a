"""The Application page in Chromium: object drawer, drift to Git, Events, compare.

One app, ``shop``, synced automatically (no self-heal) from a real Git repository to
the dev cluster: a ConfigMap and a Secret, then a second commit changing both. The tests
read what a person sees: the drawer's live and desired YAML, diff and the object's own
history; the suggestions that bring a hand edit back to Git; the Kubernetes Events
about the app's objects (and not about others); the diff between two synced commits.
A Secret's value (plain or base64) never appears in any of these pages.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from urllib.parse import quote

import pytest
import yaml
from lightkube import Client
from lightkube.models.core_v1 import EventSource, ObjectReference
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import ConfigMap, Event
from playwright.sync_api import Page, expect

from gitward.devcluster import ClusterState
from tests.engine.conftest import GitRepo
from tests.ui.conftest import Ui, start_ui
from tests.ui.test_pages import app, config_map

pytestmark = pytest.mark.cluster

WAIT = 60_000  # ms: a look dry-runs every object, slow on a loaded machine
SECRETS = ("first-secret-4f1a9e", "second-secret-77c2d0")
CM_KEY = "ConfigMap {ns}/shop"


def secret(value: str) -> str:
    return (
        "apiVersion: v1\nkind: Secret\nmetadata: {name: creds}\n"
        f"stringData: {{password: {value}}}\n"
    )


def never_shown(content: str) -> None:
    for value in SECRETS:
        assert value not in content
        assert base64.b64encode(value.encode()).decode() not in content


@pytest.fixture(scope="module")
def ui(
    tmp_path_factory: pytest.TempPathFactory, control_plane: ClusterState, module_namespace: str
) -> Iterator[Ui]:
    tmp = tmp_path_factory.mktemp("ui-app")
    repo = GitRepo(tmp / "repo")
    ns = module_namespace
    repo.write(
        {"shop/cm.yaml": config_map("shop", "first"), "shop/secret.yaml": secret(SECRETS[0])}
    )
    repo.commit("shop: first")
    declarations = {"shop.yaml": app("shop", repo, "shop", ns, automated=True, labels="{team: a}")}
    running = start_ui(tmp, control_plane, repo, ns, declarations=declarations)
    running.serve.wait(
        "/api/v1/applications/shop/history",
        lambda h: [s["result"] for s in h["items"]] == ["Succeeded"],
        timeout=120,
    )
    repo.write(
        {"shop/cm.yaml": config_map("shop", "second"), "shop/secret.yaml": secret(SECRETS[1])}
    )
    second = repo.commit("shop: second")
    running.serve.request("POST", "/api/v1/applications/shop/refresh")
    running.serve.wait(
        "/api/v1/applications/shop/history",
        lambda h: [(s["sha"], s["result"]) for s in h["items"][:1]] == [(second, "Succeeded")],
        timeout=120,
    )
    yield running
    running.serve.stop()


def test_the_drawer_shows_live_and_desired_yaml_and_the_objects_history(ui: Ui, page: Page) -> None:
    history = ui.serve.get("/api/v1/applications/shop/history")["items"]
    ui.login(page, target="/apps/shop")
    key = CM_KEY.format(ns=ui.namespace)
    page.get_by_test_id(f"open-{key}").first.click(timeout=WAIT)
    drawer = page.get_by_test_id("object-drawer")
    expect(drawer).to_contain_text(key, timeout=WAIT)
    expect(drawer.get_by_test_id("object-live")).to_contain_text("value: second")
    expect(drawer.get_by_test_id("object-desired")).to_contain_text("value: second")
    rows = drawer.get_by_test_id("object-history").locator("tbody tr")
    expect(rows).to_have_count(2)  # created by the first sync, updated by the second
    subjects = ["shop: second", "shop: first"]  # each sync's commit, newest first
    for row, record, subject in zip(rows.all(), history, subjects, strict=True):
        expect(row.locator("td").first).to_have_text(str(record["id"]))
        expect(row.locator(".commit")).to_have_text(subject)
    # a deep link shows the same drawer as a page
    page.goto(f"{ui.base}/apps/shop/object?key={quote(key)}")
    expect(page.get_by_test_id("object-drawer")).to_contain_text("value: second", timeout=WAIT)


def test_a_secrets_drawer_masks_its_values(ui: Ui, page: Page) -> None:
    ui.login(page, target="/apps/shop")
    page.goto(f"{ui.base}/apps/shop/object?key=" + quote(f"Secret {ui.namespace}/creds"))
    drawer = page.get_by_test_id("object-drawer")
    expect(drawer.get_by_test_id("object-live")).to_contain_text("password: ++++", timeout=WAIT)
    never_shown(page.content())


def test_a_hand_edit_gives_an_ignore_rule_and_a_patch_for_git(
    ui: Ui, page: Page, kube: Client
) -> None:
    kube.patch(ConfigMap, "shop", {"data": {"value": "by-hand"}}, namespace=ui.namespace)
    key = CM_KEY.format(ns=ui.namespace)
    ui.login(page, target="/apps/shop")
    page.goto(f"{ui.base}/apps/shop/object?key={quote(key)}")
    drift = page.get_by_test_id("object-drift")
    expect(drift).to_contain_text("/data/value", timeout=WAIT)
    expect(drift).to_contain_text('"by-hand"')
    diff = page.get_by_test_id("object-diff")  # within the line, the words that changed
    expect(diff.locator(".del mark")).to_have_text("by-hand")
    expect(diff.locator(".add mark")).to_have_text("second")
    ui.shot(page, "object-drawer")
    page.get_by_test_id("drift-/data/value").click()
    rule = page.get_by_test_id("ignore-rule")
    expect(rule).to_contain_text("jsonPointers", timeout=WAIT)
    entry = yaml.safe_load(rule.inner_text())["spec"]["ignoreDifferences"][0]
    assert entry == {
        "kind": "ConfigMap",
        "name": "shop",
        "namespace": ui.namespace,
        "jsonPointers": ["/data/value"],
    }
    patch = yaml.safe_load(page.get_by_test_id("keep-patch").inner_text())
    assert patch == [{"op": "replace", "path": "/data/value", "value": "by-hand"}]
    expect(page.get_by_test_id("keep-source")).to_have_text("shop/cm.yaml:1")
    fixed = yaml.safe_load(page.get_by_test_id("keep-object").text_content() or "")
    assert fixed["data"] == {"value": "by-hand"}


def test_the_events_tab_shows_the_apps_objects_events_only(
    ui: Ui, page: Page, kube: Client
) -> None:
    def event(name: str, about: str, message: str) -> Event:
        return Event(
            metadata=ObjectMeta(name=name, namespace=ui.namespace),
            involvedObject=ObjectReference(
                apiVersion="v1", kind="ConfigMap", name=about, namespace=ui.namespace
            ),
            reason="Checked",
            message=message,
            type="Warning",
            source=EventSource(component="ui-test"),
        )

    kube.create(event("shop-checked", "shop", "shop's config looked at <b>by a test</b>"))
    kube.create(event("other-checked", "other", "not about this app"))
    ui.login(page, target="/apps/shop?tab=events")
    events = page.get_by_test_id("kube-events")
    expect(events).to_contain_text("shop's config looked at <b>by a test</b>", timeout=WAIT)
    expect(events).to_contain_text("ConfigMap/shop")
    expect(events).not_to_contain_text("not about this app")


def test_history_compares_two_syncs_commits_with_secrets_masked(ui: Ui, page: Page) -> None:
    ui.login(page, target="/apps/shop?tab=history")
    page.get_by_test_id("compare-button").click()  # the two newest rows are picked by default
    compare = page.get_by_test_id("compare")
    expect(compare).to_contain_text("2 object(s) changed", timeout=WAIT)
    expect(compare).to_contain_text("-  value: first")
    expect(compare).to_contain_text("+  value: second")
    expect(compare).to_contain_text("Secret")
    never_shown(page.content())
