"""How the web UI copes with 10,000 applications, on this machine.

    .venv/bin/python benchmarks/ui_bench.py [--apps 10000] [--requests 200] [--loads 5]

A benchmark, not a test: it prints figures and compares them with the targets of
issue 10 (list page p95 < 100 ms, usable list in Chromium < 1 s); nothing fails.

Setup, outside every timing: ``--apps`` applications (12 projects, 40 namespaces,
labels, a third OutOfSync, one in twenty Degraded) held in memory behind the same
``AppsView`` the controller implements, a real SQLite store (empty history), and the
real UI and API apps (``gitward.ui.app.create_ui``, ``gitward.api.server.create_app``)
served by uvicorn on 127.0.0.1 in a thread of their own. No cluster is needed: the list
reads only the controller's in-memory view.

Measured:

1. server time of the list page with a filter and a text search (``/?q=...&sync=...``),
   as the browser asks for it (the htmx partial), ``--requests`` times: p50 and p95,
   client-side wall time over HTTP on 127.0.0.1;
2. the same-run baseline: ``GET /api/v1/applications``, every app as JSON, what a UI
   that filters in the browser (Argo CD's) must download first; the ratio of the two;
3. bytes for one page (the full page and the partial) against the baseline's bytes;
4. in Chromium (Debian's, headless, Playwright): first contentful paint and the time
   until the list is usable (rows present, search box focusable, htmx loaded), median of
   ``--loads`` fresh page loads;
5. live updates: one tab's SSE stream while 1,000 apps change in one burst: messages
   received per second and rows per message (coalesced: at most 2 messages a second).

Argo CD's figure (35 s to load the application list at about 8,000 apps, argo-cd issues
#9575 and #15276) was reported by its users on their machines; it is not measured here,
so the comparison is indicative only.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import re
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx2 as httpx
from playwright.sync_api import sync_playwright

from gitward.api.auth import Principal, Role, TokenAuthenticator
from gitward.api.listener import Listener
from gitward.api.server import ApiContext, create_app
from gitward.model import AppSpec, Destination, Health, HealthStatus, SourceSpec
from gitward.model.history import AppStatus, SyncState, Trigger
from gitward.ports import SystemClock
from gitward.reconcile.metrics import Metrics
from gitward.store.store import Store
from gitward.ui.app import create_ui
from gitward.ui.context import UiContext
from gitward.ui.live import Changes
from gitward.ui.sessions import Sessions

TOKEN = "bench-token-" + "x" * 32
ARGO_SECONDS, ARGO_APPS = 35.0, 8000


class BenchApps:
    """The controller's read side (``AppsView``) over generated apps."""

    def __init__(self, n: int) -> None:
        self.specs = {s.name: s for s in (_spec(i) for i in range(n))}
        self.statuses = {name: _status(name, i) for i, name in enumerate(self.specs)}

    def names(self) -> list[str]:
        return sorted(self.specs)

    def declared(self, app: str) -> AppSpec:
        return self.specs[app]

    def observed(self, app: str) -> AppStatus:
        return self.statuses[app]

    def observed_all(self) -> list[AppStatus]:
        return list(self.statuses.values())

    def queue_depth(self) -> int:
        return 0

    def trigger(self, app: str, trigger: Trigger, actor: str) -> None:
        del app, trigger, actor

    def apps_for_push(
        self, repo_urls: frozenset[str], normalize: Callable[[str], str]
    ) -> list[str]:
        return []

    async def suspend(self, app: str, suspended: bool, actor: str) -> AppStatus:
        return self.statuses[app]

    def burst(self, count: int) -> None:
        """``count`` apps get a new status at once (a new commit lands everywhere)."""
        for name in self.names()[:count]:
            self.statuses[name] = dataclasses.replace(self.statuses[name], live_sha="f" * 40)


def _spec(i: int) -> AppSpec:
    return AppSpec(
        name=f"app-{i:05}",
        source=SourceSpec(
            repo_url=f"https://git.example/team-{i % 12}/config.git", path=f"apps/{i}"
        ),
        destination=Destination(namespace=f"ns-{i % 40}"),
        project=f"team-{i % 12}",
        labels=(("tier", ("web", "api", "db")[i % 3]), ("team", f"t{i % 12}")),
    )


def _status(name: str, i: int) -> AppStatus:
    health = (
        Health(HealthStatus.DEGRADED, "Deployment web: 0/3 ready")
        if i % 20 == 0
        else Health(HealthStatus.HEALTHY, "")
    )
    state = SyncState.OUT_OF_SYNC if i % 3 == 0 else SyncState.SYNCED
    return AppStatus(name, state, health, live_sha=f"{i:040x}")


class Server:
    """The UI and the API on 127.0.0.1, in a thread with its own event loop."""

    def __init__(self, apps: BenchApps, state: Path) -> None:
        self.apps = apps
        self.state = state
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.ui_port = self.api_port = 0
        threading.Thread(
            target=self.loop.run_until_complete, args=(self._run(),), daemon=True
        ).start()
        self.ready.wait(60)

    async def _run(self) -> None:
        store = await Store.open(f"sqlite:///{self.state / 'bench.db'}", SystemClock())
        api = ApiContext(
            apps=self.apps,
            store=store,
            authenticator=TokenAuthenticator({TOKEN: Principal("admin", frozenset({Role.ADMIN}))}),
            metrics=Metrics(),
            rollbacks=None,  # type: ignore[arg-type]  # no rollback in this benchmark
            webhook_secret=None,
            ready=lambda: "",
        )
        changes = Changes(self.apps)
        ui = UiContext(api, lambda spec: None, Sessions(time.monotonic), changes)  # type: ignore[arg-type,return-value]
        changes.start()
        self.ui_port = await Listener(create_ui(ui), "127.0.0.1", 0, name="ui", grace=1).start()
        self.api_port = await Listener(create_app(api), "127.0.0.1", 0, name="api").start()
        self.ready.set()
        await asyncio.Event().wait()

    def burst(self, count: int) -> None:
        self.loop.call_soon_threadsafe(self.apps.burst, count)


def login(base: str) -> dict[str, str]:
    with httpx.Client(base_url=base, timeout=30) as client:
        form = client.get("/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert csrf is not None
        client.post("/login", data={"csrf": csrf.group(1), "token": TOKEN, "next": "/"})
        return {"gitward_session": client.cookies["gitward_session"]}


def timed(fn: Callable[[], object], n: int) -> list[float]:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 20 else max(values)


def measure_server(server: Server, cookies: dict[str, str], n: int) -> dict[str, float]:
    base = f"http://127.0.0.1:{server.ui_port}"
    query = "/?q=app-01+web&sync=OutOfSync&project=team-3"
    with httpx.Client(base_url=base, cookies=cookies, timeout=60) as client:
        partial = {"HX-Request": "true", "HX-Target": "list"}
        list_times = timed(lambda: client.get(query, headers=partial).raise_for_status(), n)
        page_bytes = len(client.get("/").content)
        partial_bytes = len(client.get(query, headers=partial).content)
    api = f"http://127.0.0.1:{server.api_port}/api/v1/applications"
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(timeout=300, headers=headers) as client:
        api_times = timed(lambda: client.get(api).raise_for_status(), max(3, n // 40))
        api_bytes = len(client.get(api).content)
    return {
        "list_p50": statistics.median(list_times),
        "list_p95": p95(list_times),
        "api_p50": statistics.median(api_times),
        "page_bytes": page_bytes,
        "partial_bytes": partial_bytes,
        "api_bytes": api_bytes,
    }


def measure_browser(server: Server, cookies: dict[str, str], loads: int) -> dict[str, float]:
    base = f"http://127.0.0.1:{server.ui_port}"
    fcp, usable = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True)
        for _ in range(loads):
            context = browser.new_context()
            context.add_cookies([{"name": k, "value": v, "url": base} for k, v in cookies.items()])
            page = context.new_page()
            start = time.perf_counter()
            page.goto(f"{base}/")
            page.wait_for_function("() => window.htmx && document.querySelector('tr[data-app]')")
            page.get_by_role("searchbox").focus()
            usable.append(time.perf_counter() - start)
            fcp.append(
                page.evaluate(
                    "() => performance.getEntriesByName('first-contentful-paint')[0].startTime"
                )
                / 1000
            )
            context.close()
        browser.close()
    return {"fcp": statistics.median(fcp), "usable": statistics.median(usable)}


def measure_sse(server: Server, cookies: dict[str, str], burst: int) -> dict[str, float]:
    base = f"http://127.0.0.1:{server.ui_port}"
    events: list[tuple[float, int]] = []
    started = threading.Event()

    def read() -> None:
        with httpx.stream("GET", f"{base}/events", cookies=cookies, timeout=30) as response:
            started.set()
            for block in response.iter_text():
                if "event: rows" in block:
                    events.append((time.perf_counter(), block.count("hx-swap-oob")))

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    started.wait(30)
    time.sleep(1.0)  # the stream's subscription is registered after its first bytes
    t0 = time.perf_counter()
    server.burst(burst)
    deadline = t0 + 5.0
    while time.perf_counter() < deadline:
        time.sleep(0.1)
    window = 5.0
    return {
        "messages": len(events),
        "rate": len(events) / window,
        "rows": sum(rows for _, rows in events),
        "first": (events[0][0] - t0) if events else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--apps", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--loads", type=int, default=5)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(BenchApps(args.apps), Path(tmp))
        cookies = login(f"http://127.0.0.1:{server.ui_port}")
        s = measure_server(server, cookies, args.requests)
        b = measure_browser(server, cookies, args.loads)
        e = measure_sse(server, cookies, 1000)
    argo_scaled = ARGO_SECONDS * args.apps / ARGO_APPS
    rows = [
        ("list page, filter + search, p50", f"{s['list_p50'] * 1000:.1f} ms", ""),
        ("list page, filter + search, p95", f"{s['list_p95'] * 1000:.1f} ms", "target < 100 ms"),
        (
            "baseline: GET /api/v1/applications (all apps)",
            f"{s['api_p50'] * 1000:.0f} ms",
            f"{s['api_p50'] / s['list_p50']:.0f}x the list page",
        ),
        ("bytes: full list page (50 rows)", f"{s['page_bytes'] / 1024:.1f} KiB", ""),
        ("bytes: filtered partial", f"{s['partial_bytes'] / 1024:.1f} KiB", ""),
        (
            "bytes: baseline, every app as JSON",
            f"{s['api_bytes'] / 1024:.0f} KiB",
            f"{s['api_bytes'] / s['page_bytes']:.0f}x the page",
        ),
        ("Chromium first contentful paint (median)", f"{b['fcp'] * 1000:.0f} ms", ""),
        ("Chromium list usable (median)", f"{b['usable'] * 1000:.0f} ms", "target < 1 s"),
        (
            "SSE: 1,000 apps change at once: messages in 5 s",
            f"{e['messages']}",
            f"{e['rate']:.1f}/s, {e['rows']} rows (the tab shows 50)",
        ),
        ("SSE: first message after the burst", f"{e['first'] * 1000:.0f} ms", ""),
        (
            f"Argo CD reported: {ARGO_SECONDS:.0f} s at {ARGO_APPS:,} apps (not same-run)",
            f"~{argo_scaled:.0f} s at {args.apps:,}",
            f"{argo_scaled / b['usable']:.0f}x slower",
        ),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"\n{args.apps:,} applications\n")
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>14}  {note}")
    print(f"\nload average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
