"""N apps from one commit to Ready: gitward against Flux, same run, same cluster, same objects.

    .venv/bin/python benchmarks/fleet_bench.py [--apps 100,500,1000 (or "")] [--workers 20]
        [--timeout 1800] [--skip-flux] [--fleet 300x3] [--keep-cluster]

A benchmark, not a test: it prints a table and ratios; nothing fails.

The shape is Flux's own MTTP benchmark (fluxcd/flux-benchmark): N apps, each in its own
namespace, each a Deployment scaled to 0, a ServiceAccount, a Service and an Ingress,
with prune and wait-for-health on. Here every app is also its Namespace object (both
tools apply it first), the Services are headless (the dev cluster has a /24 of Service
IPs) and no ingress controller runs: an Ingress counts as ready without an address, as
kstatus (Flux's health library) judges it; gitward is told so by a health rule on the
generated apps (its built-in check would wait for an address forever).

One local control plane (profile ``full``: the Deployment controller must report the
scaled-to-0 Deployments) and one Git repository served over smart HTTP on 127.0.0.1
(``git http-backend``), read by both tools. For each N, in this order:

1. gitward: ``gitward serve`` (a real process, ``--workers`` concurrent syncs) runs with
   one ApplicationSet whose Git directories generator reads ``gw/*``. The commit that
   adds the N folders is announced by one signed push webhook; timed from the POST until
   every app is Synced at that commit and Healthy. Then a commit that changes every
   Deployment (the upgrade run), one more webhook, timed the same way.
2. Flux: source-controller v1.9.6 (``--concurrent 10``) and kustomize-controller v1.9.6
   (``--concurrent 20``), built from Go modules and run out of cluster against the same
   API server, with their CRDs from the modules' ``config/crd/bases``. One GitRepository
   and N Kustomizations (``prune``, ``wait``) over ``fx/*``, the same objects in other
   namespaces; timed from creating them until every Kustomization is Ready at the commit.
   Upgrade: a commit changing every Deployment, announced as Flux's webhook receiver
   does (the GitRepository's ``reconcile.fluxcd.io/requestedAt`` annotation), timed
   until every Kustomization is Ready at the new commit.

Peak RSS (``VmHWM``) and CPU seconds are read from ``/proc`` of gitward's process and of
both Flux controllers (summed). The load average is printed before and after: two
shared cores make every figure noisier than on a quiet machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2 as httpx
import orjson
from controller_bench import (
    WEBHOOK_SECRET,
    Api,
    GitRepo,
    ServeProcess,
    free_port,
    load_average,
    own_cluster,
    print_table,
    to_file,
)

from gitward.devcluster import ClusterState
from gitward.toolchain.build import Toolchain
from gitward.toolchain.catalog import FLUX_TOOLS, FLUX_VERSION

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.support.git_server import FaultyGitServer

FLUX_NS = "flux-system"
PUBLISHED = "Flux's published figure (v2.9, 2 CPUs, not same-run): 1,000 apps in 4 m 13 s"


# ---------------------------------------------------------------------- the objects


def app_objects(namespace: str, image: str) -> list[dict[str, Any]]:
    """One app as Flux's benchmark has it, in its own namespace."""
    meta = {"name": "app", "namespace": namespace}
    labels = {"app": "app"}
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}},
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta},
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": meta,
            "spec": {"clusterIP": "None", "selector": labels, "ports": [{"port": 80}]},
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": meta,
            "spec": {
                "replicas": 0,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "serviceAccountName": "app",
                        "containers": [{"name": "app", "image": image}],
                    },
                },
            },
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": meta,
            "spec": {
                "rules": [
                    {
                        "host": f"{namespace}.bench.invalid",
                        "http": {
                            "paths": [
                                {
                                    "path": "/",
                                    "pathType": "Prefix",
                                    "backend": {"service": {"name": "app", "port": {"number": 80}}},
                                }
                            ]
                        },
                    }
                ]
            },
        },
    ]


def tree(prefix: str, apps: int, image: str) -> dict[str, str]:
    """``prefix/<prefix>-0000/app.yaml``...: one folder per app, named as its namespace."""
    files = {}
    for i in range(apps):
        namespace = f"{prefix}-{i:04d}"
        docs = [to_file(o) for o in app_objects(namespace, image)]
        files[f"{prefix}/{namespace}/app.yaml"] = "---\n".join(docs)
    return files


def appset(url: str) -> str:
    """gitward's side: one ApplicationSet over ``gw/*`` (Argo CD's document)."""
    return f"""apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: {{name: bench}}
spec:
  goTemplate: true
  goTemplateOptions: [missingkey=error]
  generators:
  - git: {{repoURL: '{url}', revision: main, directories: [{{path: 'gw/*'}}]}}
  template:
    metadata: {{name: '{{{{.path.basename}}}}'}}
    spec:
      source: {{repoURL: '{url}', targetRevision: main, path: '{{{{.path.path}}}}'}}
      destination: {{namespace: '{{{{.path.basename}}}}'}}
      syncPolicy: {{automated: {{prune: true, selfHeal: true}}}}
      healthChecks:
      - {{kind: Ingress, group: networking.k8s.io, healthy: 'true'}}
"""


def fleet_appset(url: str, fleet: dict[str, ClusterState]) -> str:
    """Every app on every cluster: a matrix of the clusters and the Git directories."""
    clusters = "".join(
        "---\napiVersion: gitward.dev/v1alpha1\nkind: Cluster\n"
        f"metadata: {{name: {name}, labels: {{bench: fleet}}}}\n"
        f"spec: {{kubeconfig: '{state.kubeconfig}'}}\n"
        for name, state in fleet.items()
    )
    matrix = (
        "  - matrix:\n      generators:\n"
        "      - clusters: {selector: {matchLabels: {bench: fleet}}}\n"
        f"      - git: {{repoURL: '{url}', revision: main, directories: [{{path: 'gw/*'}}]}}\n"
    )
    text = appset(url)
    start = text.index("  generators:\n") + len("  generators:\n")
    end = text.index("  template:")
    text = text[:start] + matrix + text[end:]
    text = text.replace("'{{.path.basename}}'}", "'{{.path.basename}}-{{.name}}'}", 1)
    text = text.replace("destination: {", "destination: {name: '{{.name}}', ")
    return text + clusters


# ---------------------------------------------------------------------- Git


class Remote:
    """A working repository pushed to a bare one that smart HTTP serves on 127.0.0.1."""

    def __init__(self, work: Path) -> None:
        bare = work / "git" / "bench.git"
        bare.parent.mkdir(parents=True)
        subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
        self.server = FaultyGitServer(work / "git")
        self.url = self.server.url(bare)
        self.repo = GitRepo(work / "repo")
        self.repo.git("remote", "add", "origin", str(bare))

    def commit(self, files: dict[str, str], message: str) -> str:
        self.repo.write(files)
        sha = self.repo.commit(message)
        self.repo.git("push", "-q", "origin", "main")
        return sha


async def push_webhook(api: Api, url: str, sha: str) -> None:
    body = orjson.dumps(
        {
            "ref": "refs/heads/main",
            "before": "0" * 40,
            "after": sha,
            "repository": {"full_name": "bench/repo", "clone_url": url, "html_url": url},
            "commits": [],
        }
    )
    signature = "sha256=" + hmac.new(WEBHOOK_SECRET, body, hashlib.sha256).hexdigest()
    response = await api._http.post(
        "/api/v1/webhooks/github",
        content=body,
        headers={
            "X-GitHub-Event": "push",
            "X-Hub-Signature-256": signature,
            "Content-Type": "application/json",
        },
    )
    response.raise_for_status()
    if not response.json().get("config"):
        raise RuntimeError(f"the push did not reach the ApplicationSet: {response.text}")


# ---------------------------------------------------------------------- measuring


@dataclass
class Run:
    seconds: float
    rss_mib: float  # peak resident memory (VmHWM), summed over the processes
    cpu: float  # CPU seconds spent during the run
    unfinished: str = ""  # the progress when --timeout ran out ("" when all were Ready)

    def shown(self) -> str:
        """The time, or what was still missing when the timeout ended the run."""
        if not self.unfinished:
            return f"{self.seconds:.1f} s"
        return f"> {self.seconds:.0f} s ({self.unfinished.split(';')[0]})"


def proc_figures(pids: list[int]) -> tuple[float, float]:
    """(CPU seconds so far, peak RSS in MiB) summed over ``pids``."""
    cpu = hwm = 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    for pid in pids:
        stat = Path(f"/proc/{pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2 :].split()
        cpu += (int(fields[11]) + int(fields[12])) / ticks
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                hwm += int(line.split()[1]) / 1024
    return cpu, hwm


async def until(what: str, check: Any, timeout: float, every: float = 2.0) -> str:
    """Poll ``check`` (async, returns (done, progress)) until done; print progress.

    Returns "" when done, or the last progress when ``timeout`` ran out: one run that
    does not finish (e.g. a few apps stuck at N = 1,000) must not lose the others'."""
    started = time.monotonic()
    last = 0.0
    while True:
        done, progress = await check()
        now = time.monotonic()
        if done:
            return ""
        if now - started > timeout:
            print(f"    {what}: NOT FINISHED after {timeout:.0f}s: {progress}", flush=True)
            return str(progress)
        if now - last >= 20 or now - started > timeout - every:
            print(f"    {now - started:6.0f}s {what}: {progress}", flush=True)
            last = now
        await asyncio.sleep(every)


async def gitward_ready(api: Api, names: set[str], sha: str) -> tuple[bool, str]:
    try:
        apps = await api.apps()
    except httpx.TimeoutException:  # a busy serve on two loaded cores: ask again
        return False, "the API did not answer within 30 s"
    ready = {
        a["name"]
        for a in apps
        if a["name"] in names
        and a["syncState"] == "Synced"
        and a["revision"]["live"] == sha
        and a["health"]["status"] == "Healthy"
    }
    waiting = [a for a in apps if a["name"] in names - ready]
    example = ""
    if waiting:
        a = waiting[0]
        example = (
            f"; e.g. {a['name']}: {a['syncState']}, {a['health']['status']} "
            f"({a['health'].get('message', '')}), live {str(a['revision']['live'])[:8]}, "
            f"{[c.get('message', '')[:150] for c in a.get('conditions') or []]}"
        )
    return names <= ready, f"{len(ready)}/{len(names)} Synced and Healthy{example}"


async def gitward_runs(
    cluster: ClusterState,
    remote: Remote,
    work: Path,
    n: int,
    args: argparse.Namespace,
    *,
    fleet: dict[str, ClusterState] | None = None,
) -> tuple[Run, Run]:
    """Install and upgrade; with ``fleet``, every app on every one of those clusters."""
    (work / "config").mkdir(parents=True)
    if fleet is None:
        names = {f"gw-{i:04d}" for i in range(n)}
        (work / "config" / "bench.yaml").write_text(appset(remote.url))
    else:
        names = {f"gw-{i:04d}-{c}" for i in range(n) for c in fleet}
        (work / "config" / "bench.yaml").write_text(fleet_appset(remote.url, fleet))
    async with (
        ServeProcess(work, cluster.kubeconfig, poll_interval=3600, workers=args.workers) as serve,
        Api(serve) as api,
    ):
        runs = []
        for image in ("bench:1", "bench:2"):
            sha = remote.commit(tree("gw", n, f"registry.invalid/{image}"), f"gitward {image}")
            cpu0, _ = proc_figures([serve.pid])
            started = time.monotonic()
            await push_webhook(api, remote.url, sha)
            left = await until(
                f"gitward {image}",
                lambda sha=sha: gitward_ready(api, names, sha),
                args.timeout,
            )
            seconds = time.monotonic() - started
            cpu1, hwm = proc_figures([serve.pid])
            runs.append(Run(seconds, hwm, cpu1 - cpu0, left))
            print(f"  gitward {image}: {seconds:.1f}s, CPU {cpu1 - cpu0:.1f}s, peak {hwm:.0f} MiB")
    return runs[0], runs[1]


# ---------------------------------------------------------------------- Flux


class Kube:
    """The few API calls the Flux side needs, as the dev cluster's admin."""

    def __init__(self, cluster: ClusterState) -> None:
        self.http = httpx.AsyncClient(
            base_url=cluster.server,
            verify=cluster.ca_file,
            headers={"Authorization": f"Bearer {cluster.admin_token()}"},
            timeout=60,
        )

    async def apply(self, path: str, body: dict[str, Any]) -> None:
        response = await self.http.patch(
            path,
            content=orjson.dumps(body),
            params={"fieldManager": "fleet-bench", "force": "true"},
            headers={"Content-Type": "application/apply-patch+yaml"},
        )
        response.raise_for_status()

    async def get(self, path: str) -> Any:
        response = await self.http.get(path)
        response.raise_for_status()
        return response.json()


GITREPO = f"/apis/source.toolkit.fluxcd.io/v1/namespaces/{FLUX_NS}/gitrepositories"
REQUESTED_AT = "reconcile.fluxcd.io/requestedAt"
KUSTOMIZATIONS = f"/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/{FLUX_NS}/kustomizations"


class FluxControllers:
    """source-controller and kustomize-controller as child processes, out of cluster."""

    def __init__(self, cluster: ClusterState, work: Path) -> None:
        self.cluster = cluster
        self.work = work
        self.processes: list[subprocess.Popen[bytes]] = []

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes]

    async def __aenter__(self) -> FluxControllers:
        binaries = Toolchain().ensure(list(FLUX_TOOLS))
        self._install_crds()
        storage = free_port()
        (self.work / "storage").mkdir()
        common = ["--enable-leader-election=false", "--log-level=info"]
        source = [
            str(binaries["flux-source-controller"]),
            f"--storage-path={self.work / 'storage'}",
            f"--storage-addr=127.0.0.1:{storage}",
            f"--storage-adv-addr=127.0.0.1:{storage}",
            "--concurrent=10",
        ]
        kustomize = [str(binaries["flux-kustomize-controller"]), "--concurrent=20"]
        try:
            for name, command in (("source", source), ("kustomize", kustomize)):
                await self._start(name, [*command, *common])
        except BaseException:
            self.stop()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.stop()

    def _install_crds(self) -> None:
        kubectl = [
            str(Path(self.cluster.bin_dir) / "kubectl"),
            "--kubeconfig",
            self.cluster.kubeconfig,
        ]
        modcache = subprocess.run(
            [Toolchain().go.binary, "env", "GOMODCACHE"], capture_output=True, text=True, check=True
        ).stdout.strip()
        for module in ("source-controller", "kustomize-controller"):
            crds = Path(modcache) / f"github.com/fluxcd/{module}@{FLUX_VERSION}/config/crd/bases"
            subprocess.run([*kubectl, "apply", "--server-side", "-f", str(crds)], check=True,
                           capture_output=True)  # fmt: skip
        subprocess.run(
            [*kubectl, "wait", "--for=condition=Established", "crd", "--all", "--timeout=120s"],
            check=True,
            capture_output=True,
        )
        subprocess.run([*kubectl, "create", "namespace", FLUX_NS], check=False, capture_output=True)

    async def _start(self, name: str, command: list[str]) -> None:
        health, metrics = free_port(), free_port()
        command += [f"--health-addr=127.0.0.1:{health}", f"--metrics-addr=127.0.0.1:{metrics}"]
        env = {**os.environ, "KUBECONFIG": self.cluster.kubeconfig, "RUNTIME_NAMESPACE": FLUX_NS}
        log = (self.work / f"flux-{name}.log").open("wb")
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env,
                                   start_new_session=True)  # fmt: skip
        self.processes.append(process)
        deadline = time.monotonic() + 120
        async with httpx.AsyncClient(timeout=5) as client:
            while True:
                if process.poll() is not None:
                    tail = (self.work / f"flux-{name}.log").read_text(errors="replace")[-3000:]
                    raise RuntimeError(f"{name}-controller exited {process.returncode}:\n{tail}")
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get(f"http://127.0.0.1:{health}/readyz")).status_code == 200:
                        return
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name}-controller not ready after 120s")
                await asyncio.sleep(0.2)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL: only the processes started here."""
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def kustomization(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": name, "namespace": FLUX_NS},
        "spec": {
            "interval": "60m",
            "path": f"./fx/{name}",
            "prune": True,
            "wait": True,
            "timeout": "10m",
            "sourceRef": {"kind": "GitRepository", "name": "bench"},
        },
    }


async def flux_ready(kube: Kube, names: set[str], sha: str) -> tuple[bool, str]:
    items = (await kube.get(KUSTOMIZATIONS))["items"]
    ready = set()
    for item in items:
        status = item.get("status") or {}
        conditions = {c["type"]: c["status"] for c in status.get("conditions") or []}
        revision = status.get("lastAppliedRevision") or ""
        if conditions.get("Ready") == "True" and revision.endswith(sha):
            ready.add(item["metadata"]["name"])
    return names <= ready, f"{len(ready & names)}/{len(names)} Ready"


async def flux_runs(
    cluster: ClusterState, remote: Remote, work: Path, n: int, args: argparse.Namespace
) -> tuple[Run, Run]:
    names = [f"fx-{i:04d}" for i in range(n)]
    kube = Kube(cluster)
    runs = []
    async with FluxControllers(cluster, work) as flux:
        sha = remote.commit(tree("fx", n, "registry.invalid/bench:1"), "flux bench:1")
        cpu0, _ = proc_figures(flux.pids)
        started = time.monotonic()
        repo = {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "metadata": {"name": "bench", "namespace": FLUX_NS},
            "spec": {"url": remote.url, "ref": {"branch": "main"}, "interval": "60m"},
        }
        await kube.apply(f"{GITREPO}/bench", repo)
        limit = asyncio.Semaphore(32)

        async def create(name: str) -> None:
            async with limit:
                await kube.apply(f"{KUSTOMIZATIONS}/{name}", kustomization(name))

        await asyncio.gather(*(create(name) for name in names))
        runs.append(
            await _flux_wait(
                kube=kube,
                flux=flux,
                names=set(names),
                sha=sha,
                started=started,
                cpu0=cpu0,
                image="bench:1",
                args=args,
            )
        )

        sha = remote.commit(tree("fx", n, "registry.invalid/bench:2"), "flux bench:2")
        cpu0, _ = proc_figures(flux.pids)
        started = time.monotonic()
        now = datetime.now(UTC).isoformat()
        repo["metadata"] = {**repo["metadata"], "annotations": {REQUESTED_AT: now}}
        await kube.apply(f"{GITREPO}/bench", repo)  # what Flux's webhook receiver does
        runs.append(
            await _flux_wait(
                kube=kube,
                flux=flux,
                names=set(names),
                sha=sha,
                started=started,
                cpu0=cpu0,
                image="bench:2",
                args=args,
            )
        )
    await kube.http.aclose()
    return runs[0], runs[1]


async def _flux_wait(
    *,
    kube: Kube,
    flux: FluxControllers,
    names: set[str],
    sha: str,
    started: float,
    cpu0: float,
    image: str,
    args: argparse.Namespace,
) -> Run:
    left = await until(f"Flux {image}", lambda: flux_ready(kube, names, sha), args.timeout)
    seconds = time.monotonic() - started
    cpu1, hwm = proc_figures(flux.pids)
    print(f"  Flux {image}: {seconds:.1f}s, CPU {cpu1 - cpu0:.1f}s, peak {hwm:.0f} MiB")
    return Run(seconds, hwm, cpu1 - cpu0, left)


# ---------------------------------------------------------------------- the table


@contextlib.contextmanager
def workdir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="gw-fleet-bench-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def ratio(a: Run, b: Run | None) -> str:
    if b is None or a.unfinished or b.unfinished:
        return "-"  # a time that did not end compares with nothing
    return f"{a.seconds / b.seconds:.2f}x"


async def one_size(n: int, args: argparse.Namespace) -> list[list[str]]:
    with workdir() as work, own_cluster(args.keep_cluster) as cluster:
        remote = Remote(work)
        try:
            remote.commit({"gw/.keep": "", "fx/.keep": ""}, "empty")
            print(f"\n== N = {n}: gitward (load {load_average()}) ==", flush=True)
            gw = await gitward_runs(cluster, remote, work / "gitward", n, args)
            flux: tuple[Run, Run] | None = None
            if not args.skip_flux:
                print(f"== N = {n}: Flux (load {load_average()}) ==", flush=True)
                (work / "flux").mkdir()
                flux = await flux_runs(cluster, remote, work / "flux", n, args)
        finally:
            remote.server.stop()
    rows = []
    for i, run in enumerate(("install", "upgrade")):
        f = flux[i] if flux else None
        rows.append([
            f"{n:,}", run, gw[i].shown(), f.shown() if f else "-", ratio(gw[i], f),
            f"{gw[i].rss_mib:.0f} MiB", f"{f.rss_mib:.0f} MiB" if f else "-",
            f"{gw[i].cpu:.0f} s", f"{f.cpu:.0f} s" if f else "-",
        ])  # fmt: skip
    return rows


async def fleet_size(n: int, clusters: int, args: argparse.Namespace) -> list[list[str]]:
    """``n`` apps on each of ``clusters`` dev clusters: gitward alone (no Flux baseline)."""
    with workdir() as work, contextlib.ExitStack() as stack:
        fleet = {f"c{k}": stack.enter_context(own_cluster(args.keep_cluster))
                 for k in range(1, clusters + 1)}  # fmt: skip
        remote = Remote(work)
        try:
            remote.commit({"gw/.keep": ""}, "empty")
            print(f"\n== {n} apps x {clusters} clusters: gitward (load {load_average()}) ==")
            first = next(iter(fleet.values()))
            gw = await gitward_runs(first, remote, work / "gitward", n, args, fleet=fleet)
        finally:
            remote.server.stop()
    return [
        [f"{n} x {clusters} clusters", run, r.shown(), "-", "-",
         f"{r.rss_mib:.0f} MiB", "-", f"{r.cpu:.0f} s", "-"]
        for run, r in zip(("install", "upgrade"), gw, strict=True)
    ]  # fmt: skip


async def run(args: argparse.Namespace) -> None:
    print(f"load average before: {load_average()}")
    rows: list[list[str]] = []
    for n in args.apps:
        rows += await one_size(n, args)
    if args.fleet:
        n, clusters = (int(x) for x in args.fleet.split("x"))
        rows += await fleet_size(n, clusters, args)
    print(f"\nload average after: {load_average()}\n")
    print_table(
        ("N", "run", "gitward", "Flux", "gitward/Flux", "RSS gitward", "RSS Flux (2 ctrl)",
         "CPU gitward", "CPU Flux"),
        rows,
    )  # fmt: skip
    print(f"\n{PUBLISHED}; target: gitward <= 0.25x Flux's time at N = 1,000, RSS <= Flux's")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--apps", type=lambda s: [int(x) for x in s.split(",") if x], default=[100, 500, 1000]
    )
    parser.add_argument("--workers", type=int, default=20, help="gitward's concurrent syncs")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per run")
    parser.add_argument("--skip-flux", action="store_true", help="gitward alone")
    parser.add_argument("--fleet", default="", help="e.g. 300x3: N apps on each of 3 clusters")
    parser.add_argument("--keep-cluster", action="store_true")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
