"""How fast gitward syncs 1,000 objects, against kubectl and the API server's own limit.

    .venv/bin/python benchmarks/sync_bench.py [--objects 1000] [--repeat 3] [--keep-cluster]

A benchmark, not a test: it prints absolute times and ratios against baselines measured
in the same run, on the same local control plane (``gitward.devcluster``, profile
``full``). The objects are ConfigMaps, Secrets, headless Services and one-replica
Deployments in equal numbers, one YAML file each, committed to a fresh Git repository.
Every case that creates objects gets its own fresh namespace, created outside the
timing. The cases:

1. kubectl apply --server-side of the directory into an empty namespace (baseline A);
2. the raw floor: the same objects sent as parallel server-side apply PATCH requests
   with httpx2, no diffing and no waiting, at 32 and 64 requests in flight, over
   HTTP/1.1 and (when ``h2`` is importable) HTTP/2; the best of these is the floor;
3. gitward's first sync into an empty namespace: library (``Engine.sync``, no wait),
   CLI process (``gitward sync --no-wait``), and library with wait (reported apart:
   it mostly measures how fast the controllers roll the Deployments out);
4. a no-op re-sync, right after the first sync and again once the rollout settled,
   library and CLI, with the write (APPLY) and dry-run requests it sent;
5. kubectl diff --server-side of the synced namespace (baseline B);
6. a sync after 10 ConfigMaps changed in Git (APPLY requests sent), against
   kubectl apply --server-side of the whole directory after the same change (into a
   namespace kubectl filled beforehand);

and, for reference, the start-up time of the CLI (``gitward --help``). Each row shows
the median wall time and the CPU time the client and the control plane spent meanwhile:
on a small machine the two compete for the same cores.

Library runs of cases 3 get a fresh client and Git cache each (as a new process
would); the library no-op and change runs share one warm engine, as a controller
would. Between cases, throwaway namespaces are deleted and the benchmark waits until
they are gone, so the controllers' work for one case does not slow down the next. With
a cluster of its own (the default), the benchmark adds fake nodes so every Deployment
can run; ``GITWARD_DEV_CLUSTER_DIR`` makes it reuse a running cluster instead (left
running, nodes untouched). Namespaces are deleted at the end, without waiting.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import math
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2 as httpx
import orjson
import yaml

import gitward
from gitward import compose
from gitward.devcluster import ClusterState, ControlPlane
from gitward.kube.client import APPLY_CONTENT_TYPE, KubeClient
from gitward.model import AppSpec, Destination, Outcome, SourceSpec, SyncPolicy
from gitward.reconcile.pipeline import Engine, SyncOptions, SyncResult

REPO_ROOT = Path(__file__).resolve().parent.parent
GITWARD_CLI = Path(sys.executable).parent / "gitward"
MANIFESTS = "manifests"  # the application path inside the benchmark repository
FIELD_MANAGER = "bench"
CHANGED = 10  # ConfigMaps edited in case 6
PODS_PER_NODE = 250  # the capacity of gitward's fake kwok node
KINDS = ("ConfigMap", "Secret", "Service", "Deployment")
REST = {  # kind -> (API prefix, plural): enough REST mapping for the raw floor
    "ConfigMap": ("/api/v1", "configmaps"),
    "Secret": ("/api/v1", "secrets"),
    "Service": ("/api/v1", "services"),
    "Deployment": ("/apis/apps/v1", "deployments"),
}
WRITTEN = (Outcome.CREATED, Outcome.CONFIGURED, Outcome.REPLACED)


# ---------------------------------------------------------------------- the objects


def manifest(kind: str, index: int, value: str = "v0") -> dict[str, Any]:
    """One small object; Services are headless (the dev cluster has a /24 for IPs)."""
    name = f"bench-{index:04d}"
    meta = {"name": name, "labels": {"bench": "sync"}}
    if kind == "ConfigMap":
        return {"apiVersion": "v1", "kind": kind, "metadata": meta, "data": {"value": value}}
    if kind == "Secret":
        token = base64.b64encode(f"secret-{index}".encode()).decode()
        return {
            "apiVersion": "v1",
            "kind": kind,
            "metadata": meta,
            "type": "Opaque",
            "data": {"token": token},
        }
    if kind == "Service":
        return {
            "apiVersion": "v1",
            "kind": kind,
            "metadata": meta,
            "spec": {
                "clusterIP": "None",
                "selector": {"app": name},
                "ports": [{"name": "http", "port": 80, "targetPort": 8080}],
            },
        }
    container = {
        "name": "app",
        "image": "registry.invalid/bench:1",
        "resources": {"requests": {"cpu": "1m", "memory": "4Mi"}},
    }
    return {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": meta,
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [container]},
            },
        },
    }


def object_list(count: int) -> list[dict[str, Any]]:
    """``count`` objects, the four kinds in turn."""
    return [manifest(KINDS[i % len(KINDS)], i // len(KINDS)) for i in range(count)]


def write_object(directory: Path, body: dict[str, Any]) -> None:
    name = f"{body['kind'].lower()}-{body['metadata']['name']}.yaml"
    (directory / name).write_text(yaml.safe_dump(body, sort_keys=False))


def git(repo: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "bench",
        "GIT_AUTHOR_EMAIL": "bench@example.invalid",
        "GIT_COMMITTER_NAME": "bench",
        "GIT_COMMITTER_EMAIL": "bench@example.invalid",
    }
    done = subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=env
    )
    return done.stdout.strip()


def make_repo(repo: Path, objects: list[dict[str, Any]]) -> Path:
    """A fresh repository holding one file per object under ``manifests/``."""
    directory = repo / MANIFESTS
    directory.mkdir(parents=True)
    for body in objects:
        write_object(directory, body)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "bench: initial objects")
    return directory


# ---------------------------------------------------------------------- measuring


@dataclass
class Sample:
    """One timed run: wall time, and CPU time spent by the client and by the cluster."""

    wall: float = 0.0
    client_cpu: float = 0.0  # this process and the processes it waited for
    cluster_cpu: float = 0.0  # every control-plane process (apiserver, etcd, controllers)


@dataclass
class Case:
    """One row of the table: the runs and what is worth saying about them."""

    title: str
    samples: list[Sample] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def times(self) -> list[float]:
        return [s.wall for s in self.samples]

    @property
    def median(self) -> float:
        return statistics.median(self.times) if self.samples else math.nan

    def median_of(self, what: str) -> float:
        return statistics.median(getattr(s, what) for s in self.samples)

    def add(self, sample: Sample, note: str = "") -> None:
        self.samples.append(sample)
        if note:
            self.notes.append(note)


def client_cpu() -> float:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def cluster_cpu(pids: Sequence[int]) -> float:
    """User + system seconds of ``pids`` so far, from /proc (all threads included)."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class LibraryRun:
    requests: Counter[str]  # this run's requests by kind, from KubeClient.requests
    outcomes: Counter[str]
    failed: bool

    @property
    def object_writes(self) -> int:
        return sum(self.outcomes[o.value] for o in WRITTEN)

    def summary(self) -> str:
        writes = self.requests["APPLY"]
        other = writes - self.object_writes
        text = (
            f"APPLY {writes} ({self.object_writes} objects + {other} inventory), "
            f"dry-run {self.requests['APPLY dry-run']}, GET {self.requests['GET']}, "
            f"LIST {self.requests['LIST']}"
        )
        return text + (" FAILED" if self.failed else "")


def outcome_counts(result: SyncResult) -> Counter[str]:
    return Counter(c.outcome.value for c in result.changes.changes)


def run_process(
    command: Sequence[str], env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run one process to its end; its output is captured, not checked."""
    return subprocess.run(
        list(command), capture_output=True, text=True, env=env, timeout=900, check=False
    )


def require_success(
    what: str, done: subprocess.CompletedProcess[str], ok: Sequence[int] = (0,)
) -> None:
    if done.returncode not in ok:
        raise SystemExit(f"{what} exited {done.returncode}:\n{done.stderr[-2000:]}")


class Admin:
    """Set-up and tear-down requests outside the timings, with a plain sync client."""

    def __init__(self, state: ClusterState) -> None:
        self.http = httpx.Client(
            base_url=state.server,
            verify=state.ca_file,
            headers={"Authorization": f"Bearer {state.admin_token()}"},
            timeout=30.0,
        )

    def close(self) -> None:
        self.http.close()

    def json(self, path: str) -> dict[str, Any]:
        response = self.http.get(path)
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data

    def create_namespace(self, name: str) -> None:
        body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
        self.http.post("/api/v1/namespaces", json=body).raise_for_status()

    def delete(self, path: str) -> None:
        response = self.http.delete(path)
        if response.status_code not in (200, 202, 404):
            response.raise_for_status()

    def wait_gone(self, path: str, timeout: float = 300.0) -> bool:
        deadline = time.monotonic() + timeout
        while self.http.get(path).status_code != 404:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.5)
        return True

    def deployments_pending(self, namespace: str) -> int:
        """Deployments of ``namespace`` not yet rolled out (all replicas ready)."""
        items = self.json(f"/apis/apps/v1/namespaces/{namespace}/deployments").get("items", [])
        return sum(
            1
            for d in items
            if d["status"].get("observedGeneration", 0) < d["metadata"]["generation"]
            or d["status"].get("readyReplicas", 0) < d["spec"].get("replicas", 1)
        )

    def wait_rolled_out(self, namespaces: Sequence[str], timeout: float = 600.0) -> float | None:
        """Seconds until every Deployment there is ready, or None after ``timeout``."""
        started = time.monotonic()
        while any(self.deployments_pending(ns) for ns in namespaces):
            if time.monotonic() - started > timeout:
                return None
            time.sleep(1.0)
        time.sleep(1.0)  # let the last status writes land
        return time.monotonic() - started

    def add_fake_nodes(self, count: int) -> None:
        """Clones of the dev cluster's kwok node, so more than 250 pods can run."""
        template = self.json("/api/v1/nodes/kwok-node-0")
        for index in range(1, count + 1):
            name = f"bench-node-{index}"
            labels = {**template["metadata"].get("labels", {}), "kubernetes.io/hostname": name}
            body = {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {
                    "name": name,
                    "labels": labels,
                    "annotations": template["metadata"].get("annotations", {}),
                },
                "status": {
                    k: template["status"][k] for k in ("allocatable", "capacity", "nodeInfo")
                },
            }
            response = self.http.post("/api/v1/nodes", json=body)
            if response.status_code != 409:
                response.raise_for_status()


async def raw_apply(
    state: ClusterState,
    namespace: str,
    objects: Sequence[dict[str, Any]],
    *,
    concurrency: int,
    http2: bool,
    meter: Meter,
) -> Sample:
    """Server-side apply every object, no diff, no wait: bodies are encoded beforehand."""
    requests = []
    for body in objects:
        prefix, plural = REST[body["kind"]]
        bound = {**body, "metadata": {**body["metadata"], "namespace": namespace}}
        path = f"{prefix}/namespaces/{namespace}/{plural}/{body['metadata']['name']}"
        requests.append((path, orjson.dumps(bound)))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    slots = asyncio.Semaphore(concurrency)
    failures = 0
    async with httpx.AsyncClient(
        base_url=state.server,
        verify=state.ca_file,
        headers={"Authorization": f"Bearer {state.admin_token()}"},
        http2=http2,
        limits=limits,
        timeout=60.0,
    ) as http:

        async def send(path: str, body: bytes) -> None:
            nonlocal failures
            async with slots:
                response = await http.patch(
                    path,
                    params={"fieldManager": FIELD_MANAGER},
                    content=body,
                    headers={"Content-Type": APPLY_CONTENT_TYPE},
                )
            if response.status_code not in (200, 201):
                failures += 1

        with meter() as sample:
            await asyncio.gather(*(send(path, body) for path, body in requests))
    if failures:
        raise SystemExit(f"raw apply: {failures} of {len(requests)} requests failed")
    return sample


Meter = Callable[[], AbstractContextManager[Sample]]


def h2_available() -> bool:
    try:
        import h2  # noqa: F401, PLC0415 - optional: only decides whether to try HTTP/2
    except ImportError:
        return False
    return True


# ---------------------------------------------------------------------- the benchmark


class Bench:
    def __init__(self, state: ClusterState, work: Path, args: argparse.Namespace) -> None:
        self.state = state
        self.work = work
        self.args = args
        self.admin = Admin(state)
        self.run_id = uuid.uuid4().hex[:5]
        self.objects = object_list(args.objects)
        self.repo = work / "repo"
        self.directory = make_repo(self.repo, self.objects)
        self.kubectl = str(Path(state.bin_dir) / "kubectl")
        self.namespaces: list[str] = []  # every namespace made, for the final clean-up
        self.apps: list[str] = []
        self.cases: dict[str, Case] = {}
        self.deployments = sum(1 for o in self.objects if o["kind"] == "Deployment")
        self.cluster_pids = [p.pid for p in state.processes]

    @contextmanager
    def meter(self) -> Iterator[Sample]:
        """Time the block: wall clock, client CPU and control-plane CPU."""
        sample = Sample()
        cpu, cluster = client_cpu(), cluster_cpu(self.cluster_pids)
        started = time.perf_counter()
        yield sample
        sample.wall = time.perf_counter() - started
        sample.client_cpu = client_cpu() - cpu
        sample.cluster_cpu = cluster_cpu(self.cluster_pids) - cluster

    # ------------------------------------------------------------------ plumbing

    def case(self, key: str, title: str) -> Case:
        return self.cases.setdefault(key, Case(title))

    def fresh_namespace(self, label: str) -> str:
        name = f"bench-{self.run_id}-{label}"
        self.admin.create_namespace(name)
        self.namespaces.append(name)
        return name

    def discard(self, namespace: str) -> None:
        """Delete a namespace and its app's inventory, and wait until the cluster is quiet."""
        self.admin.delete(f"/api/v1/namespaces/{namespace}")
        if namespace in self.apps:
            self.admin.delete(
                f"/api/v1/namespaces/gitward-system/configmaps/{inventory(namespace)}"
            )
        if not self.admin.wait_gone(f"/api/v1/namespaces/{namespace}"):
            print(f"  (namespace {namespace} still terminating after 300s; going on)")

    def app(self, namespace: str) -> AppSpec:
        """The application: the benchmark repository into ``namespace``, named after it."""
        if namespace not in self.apps:
            self.apps.append(namespace)
        return AppSpec(
            name=namespace,
            source=SourceSpec(repo_url=str(self.repo), path=MANIFESTS),
            destination=Destination(namespace=namespace),
            sync_policy=SyncPolicy(prune=False),
        )

    def settings(self, cache: Path) -> compose.Settings:
        return compose.Settings(
            kubeconfig=self.state.kubeconfig, cache_dir=cache, concurrency=self.args.concurrency
        )

    def cli_env(self, cache: Path) -> dict[str, str]:
        tools = Path(self.state.bin_dir)
        return {
            **os.environ,
            "KUBECONFIG": self.state.kubeconfig,
            "GITWARD_CACHE_DIR": str(cache),  # so the helm/kustomize build cache is bypassed:
            "GITWARD_HELM": str(tools / "helm"),
            "GITWARD_KUSTOMIZE": str(tools / "kustomize"),
        }

    def cli_sync(self, namespace: str, cache: Path) -> tuple[Sample, Counter[str]]:
        self.app(namespace)
        command = [
            str(GITWARD_CLI),
            "sync",
            "--repo",
            str(self.repo),
            "--path",
            MANIFESTS,
            "--name",
            namespace,
            "--dest-namespace",
            namespace,
            "--no-wait",
            "--concurrency",
            str(self.args.concurrency),
            "-o",
            "json",
        ]
        with self.meter() as sample:
            done = run_process(command, self.cli_env(cache))
        require_success("gitward sync", done)
        outcomes = Counter(o["action"] for o in orjson.loads(done.stdout)["objects"])
        return sample, outcomes

    async def library_sync(
        self, engine: Engine, kube: KubeClient, namespace: str, wait: bool
    ) -> tuple[Sample, LibraryRun]:
        before = Counter(kube.requests)
        options = SyncOptions(wait=wait, concurrency=self.args.concurrency, timeout=600.0)
        with self.meter() as sample:
            result = await engine.sync(self.app(namespace), options)
        requests = Counter(kube.requests)
        requests.subtract(before)
        return sample, LibraryRun(+requests, outcome_counts(result), result.failed)

    def kubectl_args(self, verb: str, namespace: str) -> list[str]:
        """``kubectl apply`` or ``kubectl diff``, server-side, of the whole directory."""
        command = [self.kubectl, "--kubeconfig", self.state.kubeconfig, verb, "--server-side"]
        if verb == "apply":
            command.append(f"--field-manager={FIELD_MANAGER}")
        return [*command, "-n", namespace, "-f", str(self.directory)]

    def kubectl_apply(self, namespace: str) -> Sample:
        with self.meter() as sample:
            done = run_process(self.kubectl_args("apply", namespace))
        require_success("kubectl apply", done)
        return sample

    # ------------------------------------------------------------------ the cases

    async def first_syncs(self, rep: int, keep: bool) -> str | None:
        """One repetition of cases 1-3 (and 4 right after, when ``keep``).

        Returns the namespace of the library's first sync when ``keep`` says to keep it
        for the later cases; every other namespace is deleted before the next case.
        """
        kubectl_ns = self.fresh_namespace(f"kubectl-{rep}")
        self.case("kubectl", "kubectl apply --server-side (baseline A)").add(
            self.kubectl_apply(kubectl_ns)
        )
        self.discard(kubectl_ns)

        for concurrency, http2 in self.raw_variants():
            protocol = "HTTP/2" if http2 else "HTTP/1.1"
            ns = self.fresh_namespace(f"raw-{concurrency}-{'h2' if http2 else 'h1'}-{rep}")
            sample = await raw_apply(
                self.state, ns, self.objects, concurrency=concurrency, http2=http2, meter=self.meter
            )
            self.case(
                f"raw-{concurrency}-{http2}", f"raw SSA PATCH, {concurrency} x {protocol}"
            ).add(sample)
            self.discard(ns)

        cli_ns = self.fresh_namespace(f"cli-{rep}")
        sample, outcomes = self.cli_sync(cli_ns, self.work / f"cache-cli-{rep}")
        self.case("cli-first", "gitward first sync, CLI --no-wait").add(
            sample, f"run {rep}: {dict(outcomes)}"
        )
        self.discard(cli_ns)

        if rep == 1 or not self.args.wait_once:
            wait_ns = self.fresh_namespace(f"wait-{rep}")
            sample, run = await self.fresh_library_sync(wait_ns, wait=True)
            self.case("lib-wait", "gitward first sync, library, wait=True").add(
                sample, f"run {rep}: {run.summary()}"
            )
            self.discard(wait_ns)

        lib_ns = self.fresh_namespace(f"lib-{rep}")
        cache = self.work / f"cache-{lib_ns}"
        settings = self.settings(cache)
        async with compose.kube_client(settings) as kube:
            engine = compose.engine(settings, kube)
            sample, run = await self.library_sync(engine, kube, lib_ns, wait=False)
            self.case("lib-first", "gitward first sync, library, wait=False").add(
                sample, f"run {rep}: {run.summary()}"
            )
            if keep:  # case 4 right after: the controllers have only begun the rollout
                sample, run = await self.library_sync(engine, kube, lib_ns, wait=False)
                self.case("noop-now", "gitward no-op right after, library").add(
                    sample, run.summary()
                )
        if not keep:
            self.discard(lib_ns)
            return None
        sample, outcomes = self.cli_sync(lib_ns, cache)
        self.case("noop-now-cli", "gitward no-op right after, CLI").add(
            sample, f"outcomes {dict(outcomes)}"
        )
        return lib_ns

    async def fresh_library_sync(self, namespace: str, wait: bool) -> tuple[Sample, LibraryRun]:
        settings = self.settings(self.work / f"cache-{namespace}")
        async with compose.kube_client(settings) as kube:
            engine = compose.engine(settings, kube)
            return await self.library_sync(engine, kube, namespace, wait=wait)

    def raw_variants(self) -> list[tuple[int, bool]]:
        protocols = [False, True] if h2_available() else [False]
        return [(c, h2) for h2 in protocols for c in (32, 64)]

    def cli_startup(self) -> None:
        for _ in range(self.args.repeat):
            with self.meter() as sample:
                require_success("gitward --help", run_process([str(GITWARD_CLI), "--help"]))
            self.case("cli-start", "gitward CLI start-up (gitward --help)").add(sample)

    async def steady_cases(self, lib_ns: str) -> None:
        """Cases 4 (rolled out), 5 and 6, on the library's kept namespace."""
        kubectl_ns = self.fresh_namespace("kubectl-steady")  # for case 6's baseline
        require_success("kubectl apply", run_process(self.kubectl_args("apply", kubectl_ns)))
        print("waiting for the kept namespaces to roll out ...", flush=True)
        settled = self.admin.wait_rolled_out([kubectl_ns, lib_ns])
        print(
            "  rolled out in "
            + (f"{settled:.0f}s" if settled is not None else "(timed out; measuring anyway)"),
            flush=True,
        )
        print("no-op, diff and change cases ...", flush=True)
        cache = self.work / f"cache-{lib_ns}"  # warm: the first sync filled it
        settings = self.settings(cache)
        repeats = range(1, self.args.repeat + 1)
        async with compose.kube_client(settings) as kube:
            engine = compose.engine(settings, kube)
            for rep in repeats:
                sample, run = await self.library_sync(engine, kube, lib_ns, wait=False)
                self.case("noop", "gitward no-op re-sync, library (warm)").add(
                    sample, f"run {rep}: {run.summary()}"
                )
            for rep in repeats:
                sample, outcomes = self.cli_sync(lib_ns, cache)
                self.case("noop-cli", "gitward no-op re-sync, CLI").add(
                    sample, f"run {rep}: {dict(outcomes)}"
                )
            for rep in repeats:
                with self.meter() as sample:
                    done = run_process(self.kubectl_args("diff", lib_ns))
                require_success("kubectl diff", done, ok=(0, 1))
                self.case("diff", "kubectl diff --server-side (baseline B)").add(
                    sample, f"run {rep}: exit {done.returncode} (0: no differences)"
                )
            for rep in repeats:
                self.change_configmaps(f"changed-{rep}")
                sample, run = await self.library_sync(engine, kube, lib_ns, wait=False)
                self.case("change", f"gitward sync of {CHANGED} changes, library").add(
                    sample, f"run {rep}: {run.summary()}"
                )
                self.case("change-kubectl", f"kubectl apply after {CHANGED} changes").add(
                    self.kubectl_apply(kubectl_ns)
                )

    def change_configmaps(self, value: str) -> None:
        for index in range(min(CHANGED, self.args.objects // len(KINDS))):
            write_object(self.directory, manifest("ConfigMap", index, value))
        git(self.repo, "commit", "-q", "-am", f"bench: {CHANGED} ConfigMaps say {value}")

    async def run(self) -> None:
        self.cli_startup()
        lib_ns = None
        for rep in range(1, self.args.repeat + 1):
            print(f"repetition {rep} of {self.args.repeat}: first syncs ...", flush=True)
            lib_ns = await self.first_syncs(rep, keep=rep == self.args.repeat)
        assert lib_ns is not None
        await self.steady_cases(lib_ns)

    def clean_up(self) -> None:
        for app in self.apps:
            self.admin.delete(f"/api/v1/namespaces/gitward-system/configmaps/{inventory(app)}")
        for namespace in self.namespaces:
            self.admin.delete(f"/api/v1/namespaces/{namespace}")
        self.admin.close()


def inventory(app: str) -> str:
    return f"gitward-inventory-{app}"


# ---------------------------------------------------------------------- the report


def versions(state: ClusterState) -> list[str]:
    admin = Admin(state)
    try:
        server = admin.json("/version").get("gitVersion", "?")
    finally:
        admin.close()
    kubectl = run_process(
        [str(Path(state.bin_dir) / "kubectl"), "version", "--client", "-o", "json"]
    )
    client = orjson.loads(kubectl.stdout)["clientVersion"]["gitVersion"] if kubectl.stdout else "?"
    try:
        commit = git(REPO_ROOT, "describe", "--always", "--dirty")
    except (subprocess.CalledProcessError, FileNotFoundError):
        commit = "?"
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    h2 = "h2 " + __import__("h2").__version__ if h2_available() else "no h2"
    return [
        f"machine: {cpus} CPUs (nproc), load average {os.getloadavg()[0]:.2f}",
        f"gitward {gitward.__version__} ({commit}), Python {sys.version.split()[0]}",
        f"Kubernetes {server} (local control plane), kubectl {client}",
        f"httpx2 {httpx.__version__}, {h2}",
    ]


def ratio(numerator: Case | None, denominator: Case | None) -> str:
    if numerator is None or denominator is None or not numerator.times or not denominator.times:
        return "n/a"
    return f"{numerator.median / denominator.median:.2f}x"


def report(bench: Bench, header: list[str], elapsed: float) -> None:
    cases = bench.cases
    raw = [c for k, c in cases.items() if k.startswith("raw-") and c.times]
    floor = min(raw, key=lambda c: c.median) if raw else None
    width = max(len(c.title) for c in cases.values())
    print()
    print(f"sync benchmark: {bench.args.objects} objects ({', '.join(KINDS)} in equal numbers)")
    for line in header:
        print(f"  {line}")
    print()
    print(f"  {'case':<{width}}  {'time s':>7}  {'min s':>7}  {'client':>6}  {'cluster':>7}  runs")
    print(f"  {'-' * width}  {'-' * 7}  {'-' * 7}  {'-' * 6}  {'-' * 7}  ----")
    for case in cases.values():
        mark = "  <- floor" if case is floor else ""
        print(
            f"  {case.title:<{width}}  {case.median:7.3f}  {min(case.times):7.3f}"
            f"  {case.median_of('client_cpu'):6.2f}  {case.median_of('cluster_cpu'):7.2f}"
            f"  {len(case.samples):4}{mark}"
        )
    print(
        "  (time: median wall seconds; client and cluster: median CPU seconds of the client"
        " process(es) and of the control plane during the run)"
    )
    print()
    print("ratios (medians):")
    rows = [
        (
            "gitward first sync (library) / kubectl apply",
            ratio(cases.get("lib-first"), cases.get("kubectl")),
        ),
        (
            "gitward first sync (CLI) / kubectl apply",
            ratio(cases.get("cli-first"), cases.get("kubectl")),
        ),
        ("gitward first sync (library) / raw floor", ratio(cases.get("lib-first"), floor)),
        ("gitward first sync (CLI) / raw floor", ratio(cases.get("cli-first"), floor)),
        ("kubectl apply / raw floor", ratio(cases.get("kubectl"), floor)),
        ("no-op re-sync (library) / kubectl diff", ratio(cases.get("noop"), cases.get("diff"))),
        ("no-op re-sync (CLI) / kubectl diff", ratio(cases.get("noop-cli"), cases.get("diff"))),
        (
            f"{CHANGED}-change sync (library) / kubectl apply",
            ratio(cases.get("change"), cases.get("change-kubectl")),
        ),
    ]
    label = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"  {name:<{label}}  {value}")
    print()
    print("requests and details, per run:")
    for case in cases.values():
        for note in case.notes:
            print(f"  {case.title}: {note}")
    print()
    print(
        f"total benchmark time {elapsed / 60:.1f} min; load average at the end"
        f" {os.getloadavg()[0]:.2f}"
    )


# ---------------------------------------------------------------------- main


@contextmanager
def cluster(keep: bool) -> Iterator[tuple[ClusterState, bool]]:
    """The cluster to measure on, and whether it is this benchmark's own."""
    if shared := os.environ.get("GITWARD_DEV_CLUSTER_DIR"):
        print(f"reusing the dev cluster in {shared} (left running)", flush=True)
        yield ControlPlane(Path(shared)).up("full"), False
        return
    state_dir = Path(tempfile.mkdtemp(prefix="gw-sync-bench-cluster-"))
    plane = ControlPlane(state_dir / "dev")
    print(f"starting a dev cluster in {plane.state_dir} ...", flush=True)
    state = plane.up("full")
    try:
        yield state, True
    finally:
        if keep:
            print(f"cluster kept: KUBECONFIG={state.kubeconfig}; stop it with")
            print(f"  gitward dev-cluster down (GITWARD_DEV_CLUSTER_DIR={plane.state_dir})")
        else:
            plane.down()
            shutil.rmtree(state_dir, ignore_errors=True)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=1000, help="objects (a multiple of 4)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each case")
    parser.add_argument("--concurrency", type=int, default=32, help="gitward's requests in flight")
    parser.add_argument(
        "--wait-once",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="run the wait=True first sync once only (it waits for the controllers)",
    )
    parser.add_argument(
        "--keep-cluster", action="store_true", help="leave the benchmark's own cluster running"
    )
    args = parser.parse_args()
    if args.objects < len(KINDS) or args.repeat < 1:
        parser.error("--objects must be at least 4 and --repeat at least 1")
    return args


def main() -> None:
    args = parse_args()
    started = time.monotonic()
    with (
        cluster(args.keep_cluster) as (state, own),
        tempfile.TemporaryDirectory(prefix="gw-sync-bench-") as work,
    ):
        header = versions(state)
        bench = Bench(state, Path(work), args)
        if own:  # room for one transient and two kept namespaces' worth of pods
            bench.admin.add_fake_nodes(math.ceil(3 * bench.deployments / PODS_PER_NODE))
        try:
            asyncio.run(bench.run())
        finally:
            bench.clean_up()
        report(bench, header, time.monotonic() - started)


if __name__ == "__main__":
    main()
