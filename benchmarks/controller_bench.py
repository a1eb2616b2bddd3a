"""How fast ``gitward serve`` applies a push and reverts a manual edit, on this machine.

    .venv/bin/python benchmarks/controller_bench.py [--objects 50] [--rounds 50]
        [--workers 4] [--keep-cluster]

A benchmark, not a test: it prints absolute figures and compares them with the targets
(push-to-applied p50 under 1 s, drift correction p50 under 2 s); nothing fails.

Setup, outside every timing: a local control plane of its own (``gitward.devcluster``,
profile ``full``, in a temporary directory, stopped at the end), a Git repository made
with the git CLI holding one application of ``--objects`` objects (ConfigMaps, with
one Service in five and one Deployment in twenty-five), and ``gitward serve`` started as
a real process (``python -m gitward serve``, poll interval one hour, so that only the
webhook and the watches trigger work) with a Git cache of its own. The benchmark waits
until the application is Synced and Healthy.

Measured, ``--rounds`` times each, one at a time:

1. push-to-applied: one ConfigMap's value is changed in Git, ``git commit``, then a
   GitHub push webhook signed with HMAC-SHA256 is POSTed; the clock runs from just
   before ``git commit`` (and, separately, from just before the POST) until this
   process receives the watch event with the new value. The sync record of each push
   (``lastOperation``) splits the time into webhook -> sync started (queue, Git fetch,
   render, plan) and sync started -> value seen (apply).
2. drift correction: with ``selfHeal`` on, another ConfigMap is changed by hand (a
   server-side apply by the field manager ``bench-drift`` with force) and the clock
   runs from just before that request until the watch shows the Git value again.

Each round waits until the application is Synced again (and, for drift, one more
second) before the next starts. Times are observed through a WATCH of the namespace's
ConfigMaps, not by polling, so the benchmark adds almost no load to the API server.
The client-side Kubernetes requests gitward sent (from its ``/metrics``) and the CPU
time of the serve process are reported per round.

Run it on a quiet machine: the control plane and gitward share the same cores, and
other clusters or test runs on the machine show up in every figure (the load average
is printed before and after).

This module also holds the harness that ``idle_bench.py`` reuses (own cluster, Git
repository, serve process, API client, metrics parsing, tables).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx2 as httpx
import orjson
from prometheus_client.parser import text_string_to_metric_families

from gitward import compose
from gitward.devcluster import ClusterState, ControlPlane
from gitward.kube.client import KubeClient
from gitward.kube.watch import EventType, Watcher
from gitward.model import GroupKind

WEBHOOK_SECRET = b"gitward-bench-webhook-secret"
DRIFT_MANAGER = "bench-drift"
APP = "bench-000"  # the app measured; with --apps N, bench-001... share its repository
NAMESPACE = "bench-controller-000"
PUSHED = "cm-000"  # the ConfigMap changed in Git by every push
DRIFTED = "cm-001"  # the ConfigMap changed by hand in every drift round
PUSH_TARGET = 1.0  # seconds, p50
DRIFT_TARGET = 2.0  # seconds, p50


# ---------------------------------------------------------------------- small helpers


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


def wall(iso: str) -> float:
    """Seconds since the epoch of an ISO 8601 time from the API (UTC when naive)."""
    at = datetime.fromisoformat(iso)
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.timestamp()


@dataclass(frozen=True)
class Summary:
    n: int
    p50: float
    p90: float
    p99: float
    max: float
    mean: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Summary:
        if not values:
            nan = float("nan")
            return cls(0, nan, nan, nan, nan, nan)
        if len(values) == 1:
            v = values[0]
            return cls(1, v, v, v, v, v)
        cuts = statistics.quantiles(values, n=100, method="inclusive")
        return cls(len(values), cuts[49], cuts[89], cuts[98], max(values), statistics.fmean(values))


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def verdict(value: float, target: float, unit: str = "s") -> str:
    """``met``/``MISSED`` and the value as a share of the target."""
    word = "met" if value < target else "MISSED"
    return f"{word} ({value / target:.0%} of {target:g} {unit})"


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A plain text table: first column left-aligned, the others right-aligned."""
    widths = [max(len(str(r[i])) for r in (headers, *rows)) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        parts = [
            str(c).ljust(w) if i == 0 else str(c).rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    print(line(headers))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(line(row))


def summary_row(label: str, values: Sequence[float], target: str = "") -> list[str]:
    s = Summary.of(values)
    return [label, str(s.n), ms(s.p50), ms(s.p90), ms(s.p99), ms(s.max), ms(s.mean), target]


SUMMARY_HEADERS = ("", "n", "p50", "p90", "p99", "max", "mean", "target (p50)")


# ---------------------------------------------------------------------- Prometheus text


@dataclass(frozen=True)
class Samples:
    """One scrape of a Prometheus endpoint: ``(name, labels) -> value``."""

    values: dict[tuple[str, frozenset[tuple[str, str]]], float] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> Samples:
        values: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                values[(sample.name, frozenset(sample.labels.items()))] = float(sample.value)
        return cls(values)

    def total(self, name: str, **labels: str) -> float:
        """The sum of every sample called ``name`` whose labels include ``labels``."""
        wanted = set(labels.items())
        return sum(v for (n, ls), v in self.values.items() if n == name and wanted <= ls)

    def by(self, name: str, *keys: str, **labels: str) -> dict[tuple[str, ...], float]:
        """Samples of ``name`` summed by the values of the labels ``keys``."""
        wanted = set(labels.items())
        result: dict[tuple[str, ...], float] = {}
        for (n, ls), v in self.values.items():
            if n == name and wanted <= ls:
                named = dict(ls)
                group = tuple(named.get(k, "") for k in keys)
                result[group] = result.get(group, 0.0) + v
        return result

    def minus(self, earlier: Samples) -> Samples:
        return Samples({k: v - earlier.values.get(k, 0.0) for k, v in self.values.items()})


def kube_requests(delta: Samples) -> dict[str, int]:
    """gitward's client-side Kubernetes requests in a delta, by kind of request."""
    by_kind = delta.by("gitward_kube_requests_total", "request")
    return {kind: round(n) for (kind,), n in sorted(by_kind.items()) if round(n)}


def mean_of(delta: Samples, histogram: str) -> tuple[int, float]:
    """How many observations a histogram got in a delta, and their mean."""
    count = delta.total(f"{histogram}_count")
    total = delta.total(f"{histogram}_sum")
    return round(count), (total / count if count else float("nan"))


# ---------------------------------------------------------------------- Git


class GitRepo:
    """A real Git repository written to and committed in with the git CLI."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str) -> str:
        result = subprocess.run(
            ["git", "-c", "user.email=bench@gitward.dev", "-c", "user.name=bench", *args],
            cwd=self.path,
            capture_output=True,
            text=True,
            check=True,
        )
        return result.stdout.strip()

    def write(self, files: dict[str, str]) -> None:
        for name, text in files.items():
            target = self.path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)

    def commit(self, message: str) -> str:
        """Stage everything, commit, and return the new SHA."""
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        return self.git("rev-parse", "HEAD")


def configmap(name: str, value: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name},
        "data": {"value": value},
    }


def service(name: str) -> dict[str, Any]:
    """Headless: the dev cluster has a /24 for Service IPs."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {
            "clusterIP": "None",
            "selector": {"app": name},
            "ports": [{"name": "http", "port": 80, "targetPort": 8080}],
        },
    }


def deployment(name: str) -> dict[str, Any]:
    container = {
        "name": "app",
        "image": "registry.invalid/bench:1",
        "resources": {"requests": {"cpu": "1m", "memory": "4Mi"}},
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [container]},
            },
        },
    }


def to_file(body: dict[str, Any]) -> str:
    return orjson.dumps(body, option=orjson.OPT_INDENT_2).decode() + "\n"  # JSON is YAML


def application(
    name: str,
    repo: GitRepo,
    path: str,
    namespace: str,
    *,
    create_namespace: bool = True,
) -> str:
    """An automated Application with prune and selfHeal."""
    options = "syncOptions: [CreateNamespace=true], " if create_namespace else ""
    return (
        "apiVersion: gitward.dev/v1alpha1\n"
        "kind: Application\n"
        f"metadata: {{name: {name}}}\n"
        "spec:\n"
        f"  source: {{repoURL: '{repo.path}', path: {path}, targetRevision: main}}\n"
        f"  destination: {{namespace: {namespace}}}\n"
        f"  syncPolicy: {{{options}automated: {{prune: true, selfHeal: true}}}}\n"
    )


# ---------------------------------------------------------------------- the cluster


@contextlib.contextmanager
def own_cluster(keep: bool) -> Iterator[ClusterState]:
    """A fresh ``full`` control plane in a temporary directory, stopped afterwards."""
    directory = Path(tempfile.mkdtemp(prefix="gw-bench-cluster-"))
    plane = ControlPlane(directory / "dev")
    started = time.monotonic()
    print(f"starting a control plane in {directory} ...", flush=True)
    try:
        state = plane.up("full")
        print(f"  ready at {state.server} in {time.monotonic() - started:.1f}s", flush=True)
        yield state
    finally:
        if keep and plane.load_state() is not None:
            print(
                f"cluster kept: export KUBECONFIG={directory / 'dev' / 'kubeconfig'}; "
                f"stop it with: GITWARD_DEV_CLUSTER_DIR={directory / 'dev'} "
                ".venv/bin/gitward dev-cluster down"
            )
        else:
            plane.down()
            shutil.rmtree(directory, ignore_errors=True)


async def apiserver_metrics(cluster: ClusterState) -> Samples:
    """The API server's own /metrics (every client's requests, not only gitward's)."""
    async with httpx.AsyncClient(
        base_url=cluster.server,
        verify=cluster.ca_file,
        headers={"Authorization": f"Bearer {cluster.admin_token()}"},
        timeout=30,
    ) as client:
        response = await client.get("/metrics")
        response.raise_for_status()
        return Samples.parse(response.text)


# ---------------------------------------------------------------------- gitward serve


def _tool_env() -> dict[str, str]:
    """The renderers' binaries, so the serve process can use a Git cache of its own."""
    return {
        "GITWARD_KUSTOMIZE": str(compose.tool("kustomize")),
        "GITWARD_HELM": str(compose.tool("helm")),
    }


@dataclass(frozen=True)
class ProcessSample:
    at: float  # time.monotonic()
    cpu: float  # user + system seconds of the process itself
    rss_mib: float
    hwm_mib: float  # peak resident memory so far
    threads: int


class ServeProcess:
    """``python -m gitward serve`` as a child process; ``async with`` starts and stops it."""

    def __init__(
        self,
        work: Path,
        kubeconfig: str,
        *,
        poll_interval: float,
        workers: int,
        ready_timeout: float = 120.0,
    ) -> None:
        self.work = work
        self.config = work / "config"
        self.state_dir = work / "state"
        self.log = work / "serve.log"
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.kubeconfig = kubeconfig
        self.poll_interval = poll_interval
        self.workers = workers
        self.ready_timeout = ready_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self.token = ""
        self.started_at = 0.0  # time.monotonic() just before the process was spawned
        self.ready_at = 0.0  # time.monotonic() when /readyz first answered 200

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    async def __aenter__(self) -> ServeProcess:
        secret = self.work / "webhook-secret"
        secret.write_bytes(WEBHOOK_SECRET)
        command = [
            sys.executable,
            "-m",
            "gitward",
            "serve",
            "--config",
            str(self.config),
            "--state-dir",
            str(self.state_dir),
            "--listen",
            f"127.0.0.1:{self.port}",
            "--kubeconfig",
            self.kubeconfig,
            "--webhook-secret-file",
            str(secret),
            "--poll-interval",
            str(self.poll_interval),
            "--workers",
            str(self.workers),
        ]
        env = {**os.environ, **_tool_env(), "GITWARD_CACHE_DIR": str(self.work / "cache")}
        self.started_at = time.monotonic()
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        try:
            await self._wait_ready()
        except BaseException:
            await self.stop()
            raise
        self.token = (self.state_dir / "admin-token").read_text().strip()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
        if exc is not None:
            print(f"serve log ({self.log}), last lines:\n{self.log_tail()}", file=sys.stderr)

    async def _wait_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + self.ready_timeout
        async with httpx.AsyncClient(base_url=self.base, timeout=5) as client:
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(
                        f"gitward serve exited with {self.process.returncode}:\n{self.log_tail()}"
                    )
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get("/readyz")).status_code == 200:
                        self.ready_at = time.monotonic()
                        return
                if time.monotonic() > deadline:
                    raise RuntimeError(f"gitward serve not ready after {self.ready_timeout}s")
                await asyncio.sleep(0.05)

    async def stop(self) -> None:
        """SIGTERM, then SIGKILL after 20 s. Only this process is signalled."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.to_thread(process.wait, 20)
        except subprocess.TimeoutExpired:
            process.kill()
            await asyncio.to_thread(process.wait)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def sample(self) -> ProcessSample:
        """CPU time and memory of the serve process, from /proc."""
        stat = Path(f"/proc/{self.pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
        ticks = os.sysconf("SC_CLK_TCK")
        cpu = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
        status: dict[str, str] = {}
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            status[name] = value.strip()
        return ProcessSample(
            at=time.monotonic(),
            cpu=cpu,
            rss_mib=int(status["VmRSS"].split()[0]) / 1024,
            hwm_mib=int(status["VmHWM"].split()[0]) / 1024,
            threads=int(status["Threads"]),
        )


class Api:
    """The HTTP API of a serve process, with its admin token."""

    def __init__(self, serve: ServeProcess) -> None:
        self._http = httpx.AsyncClient(
            base_url=serve.base,
            timeout=30,
            headers={"Authorization": f"Bearer {serve.token}"},
        )

    async def __aenter__(self) -> Api:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._http.aclose()

    async def _json(self, path: str) -> Any:
        response = await self._http.get(path)
        response.raise_for_status()
        return response.json()

    async def app(self, name: str) -> dict[str, Any]:
        body = await self._json(f"/api/v1/applications/{name}")
        assert isinstance(body, dict)
        return body

    async def apps(self) -> list[dict[str, Any]]:
        return list((await self._json("/api/v1/applications"))["items"])

    async def metrics(self) -> Samples:
        response = await self._http.get("/metrics")
        response.raise_for_status()
        return Samples.parse(response.text)

    async def push(self, repo: GitRepo, sha: str) -> dict[str, Any]:
        """A GitHub push webhook for ``repo`` at ``sha``, signed as GitHub signs it."""
        body = orjson.dumps(
            {
                "ref": "refs/heads/main",
                "before": "0" * 40,
                "after": sha,
                "repository": {
                    "full_name": "bench/repo",
                    "clone_url": str(repo.path),
                    "ssh_url": str(repo.path),
                    "html_url": str(repo.path),
                },
                "commits": [],
            }
        )
        signature = "sha256=" + hmac.new(WEBHOOK_SECRET, body, hashlib.sha256).hexdigest()
        response = await self._http.post(
            "/api/v1/webhooks/github",
            content=body,
            headers={
                "X-GitHub-Event": "push",
                "X-Hub-Signature-256": signature,
                "Content-Type": "application/json",
            },
        )
        response.raise_for_status()
        result = response.json()
        assert isinstance(result, dict)
        return result

    async def wait_synced(
        self, name: str, sha: str, *, healthy: bool = False, timeout: float = 120.0
    ) -> dict[str, Any]:
        """Poll until ``name`` is Synced at ``sha`` (and Healthy if asked)."""
        deadline = time.monotonic() + timeout
        while True:
            app = await self.app(name)
            if (
                app["syncState"] == "Synced"
                and app["revision"]["live"] == sha
                and (not healthy or app["health"]["status"] == "Healthy")
            ):
                return app
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name} not Synced at {sha[:8]} after {timeout}s: {app}")
            await asyncio.sleep(0.05)


# ---------------------------------------------------------------------- observing values


@dataclass
class _Expectation:
    name: str
    values: tuple[str, ...]
    future: asyncio.Future[list[float]]
    seen: list[float] = field(default_factory=list)

    def offer(self, name: str, value: str | None, at: float) -> None:
        if self.future.done() or name != self.name:
            return
        if value == self.values[len(self.seen)]:
            self.seen.append(at)
            if len(self.seen) == len(self.values):
                self.future.set_result(self.seen)


class ConfigMapWatch:
    """When this process received each value of ``data.value`` of a namespace's ConfigMaps.

    ``expect(name, "a", "b")`` is a future of the receive times (``time.monotonic()``) of
    the first event with ``a`` and of the first later event with ``b``.
    """

    def __init__(self, client: KubeClient, namespace: str) -> None:
        self._watcher = Watcher(client, GroupKind("", "ConfigMap"), namespace=namespace)
        self._waits: list[_Expectation] = []
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> ConfigMapWatch:
        self._task = asyncio.create_task(self._run(), name="bench watch")
        await asyncio.wait_for(self._watcher.synced.wait(), 60)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def expect(self, name: str, *values: str) -> asyncio.Future[list[float]]:
        future: asyncio.Future[list[float]] = asyncio.get_running_loop().create_future()
        self._waits.append(_Expectation(name, values, future))
        return future

    async def _run(self) -> None:
        async with aclosing(self._watcher.events()) as events:
            async for event in events:
                at = time.monotonic()
                if event.type is EventType.DELETED:
                    continue
                value = (event.object.get("data") or {}).get("value")
                for wait in self._waits:
                    wait.offer(event.key.name, value, at)
                self._waits = [w for w in self._waits if not w.future.done()]


# ---------------------------------------------------------------------- the benchmark


def app_files(path: str, objects: int, value: str = "v0") -> dict[str, str]:
    """``objects`` objects: one Deployment in 25, one Service in 5, ConfigMaps otherwise."""
    deployments = objects // 25
    services = objects // 5
    configmaps = objects - deployments - services
    files = {
        f"{path}/cm-{i:03d}.yaml": to_file(configmap(f"cm-{i:03d}", value))
        for i in range(configmaps)
    }
    files |= {f"{path}/svc-{i:03d}.yaml": to_file(service(f"svc-{i:03d}")) for i in range(services)}
    files |= {
        f"{path}/deploy-{i:03d}.yaml": to_file(deployment(f"deploy-{i:03d}"))
        for i in range(deployments)
    }
    return files


@dataclass
class PushRound:
    commit: float  # seconds of `git commit` + rev-parse
    commit_to_applied: float
    webhook_to_applied: float
    webhook_response: float
    to_sync_start: float  # webhook POST -> sync record started (queue, fetch, render, plan)
    sync_start_to_applied: float
    trigger: str


@dataclass
class DriftRound:
    edit_to_reverted: float
    edit_request: float  # the bench's own apply request
    seen_to_reverted: float  # drift event received -> revert event received


@dataclass
class Phase:
    """What gitward did during one phase: its requests, reconciles, syncs and CPU."""

    rounds: int
    delta: Samples
    cpu: float

    def per_round(self, value: float) -> str:
        return f"{value / self.rounds:.1f}" if self.rounds else "-"


async def phase_start(api: Api, serve: ServeProcess) -> tuple[Samples, float]:
    return await api.metrics(), serve.sample().cpu


async def phase_end(
    api: Api, serve: ServeProcess, start: tuple[Samples, float], rounds: int
) -> Phase:
    metrics, cpu = await api.metrics(), serve.sample().cpu
    return Phase(rounds, metrics.minus(start[0]), cpu - start[1])


async def push_rounds(
    rounds: int, repo: GitRepo, api: Api, watch: ConfigMapWatch, path: str
) -> list[PushRound]:
    results = []
    for i in range(rounds):
        value = f"push-{i:03d}-{time.time_ns()}"
        repo.write({f"{path}/{PUSHED}.yaml": to_file(configmap(PUSHED, value))})
        repo.git("add", "-A")
        applied = watch.expect(PUSHED, value)
        before_commit = time.monotonic()
        repo.git("commit", "-q", "-m", f"push {i}")
        sha = repo.git("rev-parse", "HEAD")
        before_post, before_post_wall = time.monotonic(), time.time()
        answer = await api.push(repo, sha)
        after_post = time.monotonic()
        if APP not in answer.get("apps", []):
            raise RuntimeError(f"the webhook did not trigger {APP}: {answer}")
        (seen,) = await asyncio.wait_for(applied, 60)
        app = await api.wait_synced(APP, sha)
        operation = app.get("lastOperation") or {}
        started = wall(operation["startedAt"]) - before_post_wall
        results.append(
            PushRound(
                commit=before_post - before_commit,
                commit_to_applied=seen - before_commit,
                webhook_to_applied=seen - before_post,
                webhook_response=after_post - before_post,
                to_sync_start=started,
                sync_start_to_applied=(seen - before_post) - started,
                trigger=str(operation.get("trigger")),
            )
        )
        await asyncio.sleep(0.2)
    return results


async def drift_rounds(
    rounds: int, kube: KubeClient, api: Api, watch: ConfigMapWatch, *, git_value: str, sha: str
) -> list[DriftRound]:
    results = []
    for i in range(rounds):
        drifted = f"drift-{i:03d}"
        body = configmap(DRIFTED, drifted)
        body["metadata"]["namespace"] = NAMESPACE
        reverted = watch.expect(DRIFTED, drifted, git_value)
        before = time.monotonic()
        await kube.apply(body, field_manager=DRIFT_MANAGER, force=True)
        after = time.monotonic()
        seen_drift, seen_revert = await asyncio.wait_for(reverted, 60)
        results.append(
            DriftRound(
                edit_to_reverted=seen_revert - before,
                edit_request=after - before,
                seen_to_reverted=seen_revert - seen_drift,
            )
        )
        await api.wait_synced(APP, sha)
        await asyncio.sleep(1.0)  # let a follow-up reconcile (if any) finish
    return results


def print_phase(title: str, phase: Phase) -> None:
    print(f"\n{title}: what gitward did per round (from its /metrics and /proc)")
    syncs = phase.delta.by("gitward_syncs_total", "trigger", "result")
    reconciles, reconcile_mean = mean_of(phase.delta, "gitward_reconcile_duration_seconds")
    _, sync_mean = mean_of(phase.delta, "gitward_sync_duration_seconds")
    fetches, fetch_mean = mean_of(phase.delta, "gitward_git_fetch_duration_seconds")
    rows = [
        ["reconciles", phase.per_round(reconciles), f"mean {ms(reconcile_mean)}"],
        *[
            [f"syncs ({trigger}, {result})", phase.per_round(n), ""]
            for (trigger, result), n in sorted(syncs.items())
            if round(n)
        ],
        ["  sync duration (apply + record)", "", f"mean {ms(sync_mean)}"],
        ["Git fetches", phase.per_round(fetches), f"mean {ms(fetch_mean)}"],
        ["drift events", phase.per_round(phase.delta.total("gitward_drift_events_total")), ""],
        *[
            [f"Kubernetes {kind} requests", phase.per_round(n), ""]
            for kind, n in kube_requests(phase.delta).items()
        ],
        ["CPU of the serve process", "", f"{ms(phase.cpu / phase.rounds)} per round"],
    ]
    print_table(("", "per round", ""), rows)


async def run(args: argparse.Namespace) -> None:
    print(f"load average before: {load_average()}")
    with (
        tempfile.TemporaryDirectory(prefix="gw-controller-bench-") as tmp,
        own_cluster(args.keep_cluster) as cluster,
    ):
        work = Path(tmp)
        repo = GitRepo(work / "repo")
        (work / "config").mkdir()
        for i in range(args.apps):
            repo.write(app_files(f"app-{i:03d}", args.objects))
            (work / "config" / f"bench-{i:03d}.yaml").write_text(
                application(f"bench-{i:03d}", repo, f"app-{i:03d}", f"bench-controller-{i:03d}")
            )
        repo.write({"README.md": "gitward controller benchmark\n"})
        sha = repo.commit("initial")
        path = "app-000"

        async with (
            ServeProcess(
                work, cluster.kubeconfig, poll_interval=3600, workers=args.workers
            ) as serve,
            Api(serve) as api,
            KubeClient.from_kubeconfig(cluster.kubeconfig) as kube,
        ):
            print(
                f"gitward serve (pid {serve.pid}) ready in {serve.ready_at - serve.started_at:.2f}s"
            )
            for i in range(args.apps):
                await api.wait_synced(f"bench-{i:03d}", sha, healthy=True, timeout=600)
            first = time.monotonic() - serve.started_at
            print(
                f"{args.apps} app(s) of {args.objects} objects Synced and Healthy "
                f"{first:.2f}s after start"
            )
            await asyncio.sleep(2.0)  # let the first sync's own watch events pass

            async with ConfigMapWatch(kube, NAMESPACE) as watch:
                print(f"\n{args.rounds} pushes ...", flush=True)
                start = await phase_start(api, serve)
                pushes = await push_rounds(args.rounds, repo, api, watch, path)
                push_phase = await phase_end(api, serve, start, args.rounds)
                sha = repo.git("rev-parse", "HEAD")

                print(f"{args.rounds} manual edits ...", flush=True)
                start = await phase_start(api, serve)
                drifts = await drift_rounds(args.rounds, kube, api, watch, git_value="v0", sha=sha)
                drift_phase = await phase_end(api, serve, start, args.rounds)
            memory = serve.sample()

    report(
        args,
        pushes=pushes,
        drifts=drifts,
        push_phase=push_phase,
        drift_phase=drift_phase,
        memory=memory,
    )
    print(f"\nload average after: {load_average()}")


def report(
    args: argparse.Namespace,
    *,
    pushes: list[PushRound],
    drifts: list[DriftRound],
    push_phase: Phase,
    drift_phase: Phase,
    memory: ProcessSample,
) -> None:
    push_p50 = Summary.of([p.commit_to_applied for p in pushes]).p50
    webhook_p50 = Summary.of([p.webhook_to_applied for p in pushes]).p50
    drift_p50 = Summary.of([d.edit_to_reverted for d in drifts]).p50
    print(
        f"\n== gitward serve: {args.apps} app(s) of {args.objects} objects in one repository, "
        f"{args.workers} workers; {args.rounds} rounds, measured on {APP} =="
    )
    print()
    print_table(
        SUMMARY_HEADERS,
        [
            summary_row(
                "push: git commit -> applied",
                [p.commit_to_applied for p in pushes],
                verdict(push_p50, PUSH_TARGET),
            ),
            summary_row(
                "push: webhook POST -> applied",
                [p.webhook_to_applied for p in pushes],
                verdict(webhook_p50, PUSH_TARGET),
            ),
            summary_row("  git commit (bench side)", [p.commit for p in pushes]),
            summary_row("  webhook response", [p.webhook_response for p in pushes]),
            summary_row("  webhook -> sync started", [p.to_sync_start for p in pushes]),
            summary_row("  sync started -> applied", [p.sync_start_to_applied for p in pushes]),
            summary_row(
                "drift: manual edit -> reverted",
                [d.edit_to_reverted for d in drifts],
                verdict(drift_p50, DRIFT_TARGET),
            ),
            summary_row("  edit request (bench side)", [d.edit_request for d in drifts]),
            summary_row("  edit seen -> revert seen", [d.seen_to_reverted for d in drifts]),
        ],
    )
    triggers = sorted({p.trigger for p in pushes})
    print(f"\nsync triggers of the pushes: {', '.join(triggers)}")
    print_phase("pushes", push_phase)
    print_phase("manual edits", drift_phase)
    print(
        f"\nserve process at the end: RSS {memory.rss_mib:.0f} MiB "
        f"(peak {memory.hwm_mib:.0f} MiB), {memory.threads} threads"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--objects", type=int, default=50, help="objects in the app")
    parser.add_argument("--rounds", type=int, default=50, help="pushes, then manual edits")
    parser.add_argument("--workers", type=int, default=4, help="gitward serve --workers")
    parser.add_argument(
        "--keep-cluster", action="store_true", help="leave the control plane running"
    )
    parser.add_argument(
        "--apps",
        type=int,
        default=1,
        help="apps in the repository (each push triggers all; the first is measured)",
    )
    args = parser.parse_args()
    if args.apps < 1:
        parser.error("--apps must be at least 1")
    if args.objects < 2:
        parser.error("--objects must be at least 2 (one pushed, one drifted ConfigMap)")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
