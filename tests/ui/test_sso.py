"""Single sign-on against a real OpenID Connect provider, and roles from its groups.

The provider is zitadel/oidc's OpenID Provider (built by the toolchain as
``oidc-provider``; Dex does not build from the module proxy, see docs/ui.md), on
127.0.0.1 with two users. Chromium signs in through its login page (authorization code
with PKCE); gitward verifies the ID token and maps the ``groups`` claim through the role
policy: ``devs`` may view and sync project team-a only; a user in no bound group sees
nothing.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path

import httpx2 as httpx
import pytest
from playwright.sync_api import Page, expect

from gitward.devcluster import ClusterState
from gitward.toolchain.build import Toolchain
from tests.engine.conftest import GitRepo
from tests.support.serve_process import free_port
from tests.support.waiting import eventually_sync
from tests.ui.conftest import Ui, start_ui
from tests.ui.test_pages import app, config_map

pytestmark = pytest.mark.cluster

USERS = [
    {
        "username": "alice",
        "password": "alice-pw-1",
        "email": "alice@example.com",
        "groups": ["devs"],
    },
    {"username": "bob", "password": "bob-pw-2", "email": "bob@example.com", "groups": ["guests"]},
]
ROLES = """
roles:
  deployer: {actions: [view, sync], projects: [team-a]}
bindings:
  - {group: devs, roles: [deployer]}
"""


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, int]]:
    """The provider's issuer URL, the client secret file, and the UI port it redirects to."""
    toolchain = Toolchain()
    toolchain.ensure(["oidc-provider"])
    binary = toolchain.path("oidc-provider")
    tmp = tmp_path_factory.mktemp("oidc")
    (tmp / "users.json").write_text(json.dumps(USERS))
    secret = tmp / "client-secret"
    secret.write_text("s3cret-client")
    secret.chmod(0o600)
    port, ui_port = free_port(), free_port()
    log = (tmp / "provider.log").open("wb")
    process = subprocess.Popen(
        [
            str(binary),
            f"-port={port}",
            f"-users={tmp / 'users.json'}",
            "-client-id=gitward",
            f"-client-secret-file={secret}",
            f"-redirect-uri=http://127.0.0.1:{ui_port}/auth/callback",
        ],
        stdout=log,
        stderr=log,
    )
    issuer = f"http://127.0.0.1:{port}/"
    eventually_sync(
        lambda: httpx.get(f"{issuer}.well-known/openid-configuration", timeout=5).status_code,
        lambda code: code == 200,
        what="the OIDC provider to serve its discovery document",
        ignoring=(httpx.TransportError,),
    )
    yield issuer, secret, ui_port
    process.terminate()
    process.wait(timeout=30)
    log.close()


@pytest.fixture(scope="module")
def ui(
    tmp_path_factory: pytest.TempPathFactory,
    control_plane: ClusterState,
    module_namespace: str,
    provider: tuple[str, Path, int],
) -> Iterator[Ui]:
    issuer, secret, ui_port = provider
    tmp = tmp_path_factory.mktemp("ui-sso")
    repo = GitRepo(tmp / "repo")
    repo.write({"a/cm.yaml": config_map("alpha", "1"), "b/cm.yaml": config_map("beta", "1")})
    repo.commit("first")
    ns = module_namespace
    roles = tmp / "roles.yaml"
    roles.write_text(ROLES)
    declarations = {
        "alpha.yaml": app("alpha", repo, "a", ns, automated=False, labels="{}", project="team-a"),
        "beta.yaml": app("beta", repo, "b", ns, automated=False, labels="{}", project="team-b"),
    }
    extra = (
        *("--oidc-issuer", issuer, "--oidc-client-id", "gitward"),
        *("--oidc-client-secret-file", str(secret), "--roles", str(roles)),
    )
    running = start_ui(
        tmp, control_plane, repo, ns, declarations=declarations, extra=extra, port=ui_port
    )
    yield running
    running.serve.stop()


def sso_login(ui: Ui, page: Page, user: Mapping[str, object], target: str = "/") -> None:
    page.goto(f"{ui.base}/login?next={target}")
    page.get_by_role("link", name="Sign in with SSO").click()
    page.locator("#username").fill(str(user["username"]))
    page.locator("#password").fill(str(user["password"]))
    page.get_by_role("button", name="Login").click()
    page.wait_for_url(f"{ui.base}/**")


def test_sso_user_gets_the_roles_of_their_groups_per_project(ui: Ui, page: Page) -> None:
    sso_login(ui, page, USERS[0])
    expect(page.get_by_test_id("user")).to_have_text("alice@example.com")
    rows = page.locator("table.apps tbody tr")
    expect(rows).to_have_count(1)  # team-b's app is not even listed
    expect(rows.first).to_have_attribute("data-app", "alpha")
    page.goto(f"{ui.base}/apps/alpha")
    expect(page.get_by_test_id("sync-button")).to_be_visible()
    expect(page.get_by_role("button", name="Suspend")).to_have_count(0)  # no suspend grant
    page.get_by_test_id("sync-button").click()
    page.get_by_test_id("confirm-sync").click()
    expect(page.get_by_role("status")).to_have_text("Sync requested.")
    synced = ui.serve.wait(
        "/api/v1/applications/alpha/history",
        lambda h: bool(h["items"]) and h["items"][0]["result"] == "Succeeded",
    )
    assert synced["items"][0]["actor"] == "alice@example.com"
    response = page.goto(f"{ui.base}/apps/beta")
    assert response is not None
    assert response.status == 404


def test_sso_user_in_no_bound_group_may_do_nothing(ui: Ui, page: Page) -> None:
    sso_login(ui, page, USERS[1])
    expect(page.get_by_test_id("user")).to_have_text("bob@example.com")
    expect(page.get_by_test_id("forbidden")).to_contain_text(
        "bob@example.com (no role) may not list"
    )
    expect(page.locator("table.apps")).to_have_count(0)


def test_a_forged_callback_is_refused(ui: Ui, page: Page) -> None:
    response = page.goto(f"{ui.base}/auth/callback?code=anything&state=forged")
    assert response is not None
    assert response.status == 401
    expect(page.get_by_role("alert")).to_contain_text("unknown or expired")
