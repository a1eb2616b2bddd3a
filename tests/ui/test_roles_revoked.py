"""Roles from the config repository, changed by commits while people are signed in.

A real serve reads its declarations from a Git repository that holds a ``RolePolicy``;
alice signs in through the real OIDC provider (group ``devs``), and a token user
(``viewer-bot``, bound by name) uses the API. A commit to the policy, announced by a
signed push webhook (which returns once the revision is loaded), revokes their sync
grant: the open page's next action gets 403, the API too, and the refusal is audited
with the user. A broken policy keeps the last good one and says why.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from playwright.sync_api import Page, expect

from gitward.devcluster import ClusterState
from tests.engine.conftest import GitRepo
from tests.ui.configrepo import WithConfig, start_with_config_repo
from tests.ui.conftest import Ui
from tests.ui.test_pages import app, config_map
from tests.ui.test_sso import USERS, sso_login
from tests.ui.test_sso import provider as provider  # noqa: PLC0414 - the module's fixture

pytestmark = pytest.mark.cluster

ALICE = USERS[0]


def role_policy(role: str, *, extra: str = "") -> str:
    return f"""apiVersion: gitward.dev/v1alpha1
kind: RolePolicy
metadata: {{name: roles}}
spec:
  roles:
    deployer: {{actions: [view, sync], apps: [web]}}
  bindings:
    - {{group: devs, roles: [{role}]}}
    - {{user: viewer-bot, roles: [{role}]}}
{extra}"""


@pytest.fixture(scope="module")
def setup(
    tmp_path_factory: pytest.TempPathFactory,
    control_plane: ClusterState,
    module_namespace: str,
    provider: tuple[str, Path, int],
) -> Iterator[WithConfig]:
    issuer, client_secret, ui_port = provider
    tmp = tmp_path_factory.mktemp("ui-roles")
    repo = GitRepo(tmp / "repo")
    repo.write({"web/cm.yaml": config_map("roles-web", "1")})
    repo.commit("first")
    declarations = {
        "web.yaml": app("web", repo, "web", module_namespace, automated=False, labels="{}"),
        "policy/roles.yaml": role_policy("deployer"),
    }
    extra = (
        *("--oidc-issuer", issuer, "--oidc-client-id", "gitward"),
        *("--oidc-client-secret-file", str(client_secret)),
    )
    running = start_with_config_repo(
        tmp, control_plane, repo, module_namespace, declarations, extra=extra, port=ui_port
    )
    yield running
    running.ui.serve.stop()


def commit_policy(setup: WithConfig, text: str, message: str) -> str:
    """Commit the policy to the config repository; returns once serve loaded it."""
    return setup.push(message, {"policy/roles.yaml": text})


def api_sync(ui: Ui, token: str) -> httpx.Response:
    return httpx.post(
        f"{ui.serve.base}/api/v1/applications/web/sync",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )


def test_a_role_revoked_by_a_commit_refuses_the_next_action_of_an_open_page(
    setup: WithConfig, page: Page
) -> None:
    ui = setup.ui
    commit_policy(setup, role_policy("deployer"), "devs deploy web")
    assert api_sync(ui, ui.viewer_token).status_code == 202  # granted by name
    sso_login(ui, page, ALICE, target="/apps/web/sync")
    expect(page.get_by_test_id("confirm-sync")).to_be_visible()  # the dialog is open
    before = ui.serve.get("/api/v1/applications/web/history")["items"]

    commit_policy(setup, role_policy("viewer"), "devs may only look now")

    page.get_by_test_id("confirm-sync").click()  # the form rendered before the commit
    expect(page.get_by_test_id("forbidden")).to_have_text(
        "alice@example.com (viewer) may not sync web (project default, cluster in-cluster)"
    )
    assert api_sync(ui, ui.viewer_token).status_code == 403
    assert ui.serve.get("/api/v1/applications/web/history")["items"] == before  # no sync
    page.goto(f"{ui.base}/apps/web")
    expect(page.get_by_test_id("app-name")).to_have_text("web")  # still a viewer
    expect(page.get_by_test_id("sync-button")).to_have_count(0)
    page.goto(f"{ui.base}/activity")
    feed = page.locator("section[aria-label=Actions] li")
    expect(feed.filter(has_text="alice@example.com sync web denied")).to_have_count(1)


def test_a_broken_policy_keeps_the_last_good_one_and_says_why(
    setup: WithConfig, page: Page
) -> None:
    ui = setup.ui
    good = commit_policy(setup, role_policy("deployer"), "devs deploy web")
    broken = commit_policy(setup, role_policy("deployer", extra="  rules: []\n"), "typo")
    sso_login(ui, page, ALICE, target="/apps/web")
    expect(page.get_by_test_id("sync-button")).to_be_visible()  # the last good policy
    assert api_sync(ui, ui.viewer_token).status_code == 202
    warnings = httpx.get(f"{ui.serve.base}/readyz", timeout=30).text
    assert f"role policy not loaded at config revision {broken[:12]}" in warnings
    assert "policy/roles.yaml: spec: unknown field(s) rules" in warnings
    assert f"keeping the policy of {good[:12]}" in warnings
    page.goto(f"{ui.base}/settings")
    expect(page.locator("main")).to_contain_text("unknown field(s) rules")
    expect(page.get_by_test_id("role-policy")).to_contain_text(f"policy/roles.yaml at {good[:12]}")
    commit_policy(setup, role_policy("deployer"), "fixed")
    assert "role policy not loaded" not in httpx.get(f"{ui.serve.base}/readyz", timeout=30).text
