"""The web UI in a real browser: Debian's Chromium driven by Playwright, against a real
``gitward serve`` (child process) on the dev cluster with apps in a real Git repository.

One server per test module (starting one costs seconds on a loaded machine); each test
gets a fresh browser context, so cookies never leak between tests. Tokens: the admin
token from the state directory, and a viewer token from a tokens file.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from lightkube import Client
from lightkube.core.exceptions import ApiError
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Namespace
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from gitward.devcluster import ClusterState
from tests.engine.conftest import GitRepo
from tests.support.serve_process import ServeProcess, free_port

CHROMIUM = Path("/usr/bin/chromium")
DOCS = Path(__file__).resolve().parents[2] / "docs" / "ui"


# Module scope, not session: while Playwright's sync API is open, its event loop counts as
# running in the main thread, and pytest-asyncio's tests in later modules could not start.
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            "Debian's chromium is missing: run scripts/bootstrap (apt-get install chromium)"
        )
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
    yield browser
    browser.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    page = context.new_page()
    page.set_default_timeout(30_000)
    return page


@dataclass
class Ui:
    """A running serve with its web UI, and what the tests need to drive it."""

    serve: ServeProcess
    port: int
    repo: GitRepo
    namespace: str
    viewer_token: str

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def admin_token(self) -> str:
        return self.serve.token()

    def login(self, page: Page, token: str | None = None, target: str = "/") -> None:
        page.goto(f"{self.base}/login?next={target}")
        page.get_by_label("API token").fill(token or self.admin_token)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{self.base}{target.split('?', maxsplit=1)[0]}*")

    def shot(self, page: Page, name: str) -> None:
        """A screenshot for docs/ui (the docs show what the tests saw)."""
        DOCS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS / f"{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def module_namespace(kube: Client) -> Iterator[str]:
    name = f"ui-{secrets.token_hex(4)}"
    kube.create(Namespace(metadata=ObjectMeta(name=name)))
    yield name
    try:
        kube.delete(Namespace, name)
    except ApiError as e:
        if e.status.code != 404:
            raise


def start_ui(
    tmp: Path,
    control_plane: ClusterState,
    repo: GitRepo,
    namespace: str,
    *,
    declarations: dict[str, str],
    extra: tuple[str, ...] = (),
    port: int | None = None,
) -> Ui:
    config = tmp / "config"
    config.mkdir(parents=True, exist_ok=True)
    for name, text in declarations.items():
        (config / name).write_text(text)
    viewer = secrets.token_urlsafe(32)
    tokens = tmp / "tokens.yaml"
    digest = hashlib.sha256(viewer.encode()).hexdigest()
    tokens.write_text(f"- {{name: viewer-bot, role: viewer, token_sha256: {digest}}}\n")
    tokens.chmod(0o600)
    port = port or free_port()
    serve = ServeProcess(
        tmp,
        control_plane.kubeconfig,
        config,
        extra=["--ui-listen", f"127.0.0.1:{port}", "--tokens-file", str(tokens), *extra],
    )
    serve.start()
    return Ui(serve, port, repo, namespace, viewer)
