"""What ``gitward serve`` costs while nothing changes: 100 apps of 100 objects, idle.

    .venv/bin/python benchmarks/idle_bench.py [--apps 100] [--objects 100]
        [--window 120] [--rounds 1] [--poll-interval 60] [--workers 4] [--keep-cluster]

A benchmark, not a test: it prints absolute figures and compares them with the targets
(no periodic re-LIST while idle, resident memory under 300 MB); nothing fails.

Setup: a local control plane of its own (``gitward.devcluster``, profile ``full``, in a
temporary directory, stopped at the end) and one Git repository (git CLI) with
``--apps`` folders ``app-000``... of ``--objects`` small ConfigMaps each (ConfigMaps
only: 10,000 objects is a lot for etcd on two cores). Each folder is one automated
Application with prune and selfHeal, into a namespace of its own created by gitward
(``syncOptions: [CreateNamespace=true]``). ``gitward serve`` runs as a real process
(``python -m gitward serve``) with a Git cache of its own and ``--poll-interval``
(60 s by default, with gitward's ±10 % jitter) so that every app is polled during the
window.

Measured:

1. initial convergence: from spawning the process until every app is Synced at the
   commit (the API is asked every 2 s), with the CPU time of the process and the
   Kubernetes requests it sent meanwhile;
2. then, after ``--settle`` seconds, ``--rounds`` idle windows of ``--window`` seconds,
   in which the benchmark sends nothing to gitward except one ``/metrics`` scrape at each
   end: CPU seconds of the process (utime + stime from ``/proc/PID/stat``), resident
   memory (``VmRSS`` at the end, and the highest sample taken every 5 s; ``VmHWM``),
   gitward's client-side Kubernetes requests (``gitward_kube_requests_total`` deltas:
   LIST, GET, APPLY, APPLY dry-run), its reconciles, syncs and Git fetches, and, from
   the API server's own ``/metrics``, every client's requests by verb and resource.

Note: gitward's watches list through a streaming path that ``gitward_kube_requests_total``
does not see, so a watch that re-LISTs would not show in gitward's LIST figure; the API
server's ``LIST configmaps`` count (every client, but the cluster's own controllers do
not list ConfigMaps while idle) is the check that catches it. A WATCH is counted by the
API server when it ends (gitward asks for 300 s watches), so a window shorter than that
may show none.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from controller_bench import (
    Api,
    GitRepo,
    ProcessSample,
    Samples,
    ServeProcess,
    apiserver_metrics,
    application,
    configmap,
    kube_requests,
    load_average,
    mean_of,
    own_cluster,
    print_table,
    to_file,
    verdict,
)

from gitward.devcluster import ClusterState

MEMORY_TARGET_MB = 300.0
MB = 1_000_000
MIB = 1024 * 1024
SHOWN_REQUESTS = ("GET", "APPLY", "APPLY dry-run", "DELETE")  # shown even when zero


def repo_files(apps: int, objects: int) -> dict[str, str]:
    return {
        f"app-{a:03d}/cm-{o:03d}.yaml": to_file(configmap(f"cm-{o:03d}", f"app {a} object {o}"))
        for a in range(apps)
        for o in range(objects)
    }


async def wait_all_synced(
    api: Api, serve: ServeProcess, names: set[str], sha: str, timeout: float
) -> float:
    """Seconds from spawning serve until every app in ``names`` is Synced at ``sha``."""
    deadline = time.monotonic() + timeout
    last_print = 0.0
    while True:
        apps = await api.apps()
        synced = {
            a["name"] for a in apps if a["syncState"] == "Synced" and a["revision"]["live"] == sha
        }
        now = time.monotonic()
        if names <= synced:
            return now - serve.started_at
        if now - last_print >= 15:
            failing = [
                f"{a['name']}: {c['message'][:120]}"
                for a in apps
                for c in a.get("conditions") or []
                if c["type"] in ("ReconcileError", "SyncFailed")
            ]
            print(
                f"  {now - serve.started_at:6.1f}s: {len(names & synced)}/{len(names)} Synced"
                + (f"; e.g. {failing[0]}" if failing else ""),
                flush=True,
            )
            last_print = now
        if now > deadline:
            raise TimeoutError(f"only {len(names & synced)}/{len(names)} Synced after {timeout}s")
        await asyncio.sleep(2.0)


async def idle_window(
    seconds: float, serve: ServeProcess, api: Api, cluster: ClusterState
) -> tuple[ProcessSample, ProcessSample, float, Samples, Samples]:
    """One idle window: process samples at both ends, the highest RSS seen, the deltas."""
    gitward_before, server_before = await api.metrics(), await apiserver_metrics(cluster)
    first = serve.sample()
    highest = first.rss_mib
    end = first.at + seconds
    while (left := end - time.monotonic()) > 0:
        await asyncio.sleep(min(5.0, left))
        highest = max(highest, serve.sample().rss_mib)
    last = serve.sample()
    gitward_after, server_after = await api.metrics(), await apiserver_metrics(cluster)
    return (
        first,
        last,
        highest,
        gitward_after.minus(gitward_before),
        server_after.minus(server_before),
    )


def report_window(
    index: int,
    args: argparse.Namespace,
    window: tuple[ProcessSample, ProcessSample, float, Samples, Samples],
    synced_at_end: int,
) -> None:
    first, last, highest, gitward, server = window
    elapsed = last.at - first.at
    cpu = last.cpu - first.cpu
    requests = kube_requests(gitward)
    lists = requests.get("LIST", 0)
    server_lists = round(
        server.total("apiserver_request_total", verb="LIST", resource="configmaps")
    )
    rss_mb = last.rss_mib * MIB / MB
    reconciles, reconcile_mean = mean_of(gitward, "gitward_reconcile_duration_seconds")
    fetches, fetch_mean = mean_of(gitward, "gitward_git_fetch_duration_seconds")
    syncs = round(gitward.total("gitward_syncs_total"))
    print(
        f"\n== idle window {index + 1}/{args.rounds}: {elapsed:.0f} s, {args.apps} apps x "
        f"{args.objects} objects, --poll-interval {args.poll_interval:g} =="
    )
    print()
    print_table(
        ("", "value", "target"),
        [
            ["resident memory (VmRSS) at the end", f"{rss_mb:.0f} MB ({last.rss_mib:.0f} MiB)",
             verdict(rss_mb, MEMORY_TARGET_MB, "MB")],
            ["  highest VmRSS sampled (every 5 s)", f"{highest:.0f} MiB", ""],
            ["  peak since start (VmHWM)", f"{last.hwm_mib:.0f} MiB", ""],
            ["LIST requests by gitward (/metrics)", str(lists),
             "0: met" if lists == 0 else "0: MISSED"],
            ["LIST configmaps at the API server (all clients)", str(server_lists),
             "0: met" if server_lists == 0 else "0: MISSED"],
            ["CPU of the serve process", f"{cpu:.2f} s",
             f"{cpu / elapsed:.1%} of one core"],
            ["reconciles", str(reconciles),
             f"{reconciles / args.apps:.2f} per app, mean {reconcile_mean * 1000:.0f} ms"],
            ["  Git fetches", str(fetches), f"mean {fetch_mean * 1000:.0f} ms"],
            ["  syncs", str(syncs), ""],
            *[[f"Kubernetes {kind} requests by gitward", str(requests.get(kind, 0)), ""]
              for kind in sorted({*SHOWN_REQUESTS, *requests} - {"LIST"})],
            ["apps Synced at the end", f"{synced_at_end}/{args.apps}", ""],
            ["threads of the serve process", str(last.threads), ""],
        ],
    )  # fmt: skip
    by_verb = server.by("apiserver_request_total", "verb", "resource", "dry_run")
    busy = sorted(
        ((round(n), verb, resource, dry) for (verb, resource, dry), n in by_verb.items()),
        reverse=True,
    )
    print("\nAPI server requests during the window, every client (apiserver_request_total):")
    print_table(
        ("verb", "resource", "dryRun", "requests"),
        [[verb, resource or "-", dry or "-", str(n)] for n, verb, resource, dry in busy if n][:15],
    )


async def run(args: argparse.Namespace) -> None:
    print(f"load average before: {load_average()}")
    names = {f"app-{i:03d}" for i in range(args.apps)}
    with (
        tempfile.TemporaryDirectory(prefix="gw-idle-bench-") as tmp,
        own_cluster(args.keep_cluster) as cluster,
    ):
        work = Path(tmp)
        repo = GitRepo(work / "repo")
        config = work / "config"
        config.mkdir()
        repo.write(repo_files(args.apps, args.objects))
        for name in sorted(names):
            namespace = f"bench-idle-{name.removeprefix('app-')}"
            (config / f"{name}.yaml").write_text(application(name, repo, name, namespace))
        sha = repo.commit("initial")
        print(f"repository: {args.apps} apps x {args.objects} ConfigMaps at {sha[:8]}")

        async with (
            ServeProcess(
                work,
                cluster.kubeconfig,
                poll_interval=args.poll_interval,
                workers=args.workers,
            ) as serve,
            Api(serve) as api,
        ):
            print(
                f"gitward serve (pid {serve.pid}) ready in "
                f"{serve.ready_at - serve.started_at:.2f}s; converging ...",
                flush=True,
            )
            converged = await wait_all_synced(api, serve, names, sha, args.timeout)
            at_convergence = serve.sample()
            converge_metrics = await api.metrics()
            print(
                f"all {args.apps} apps Synced {converged:.1f}s after start "
                f"({args.apps * args.objects / converged:.0f} objects/s); serve used "
                f"{at_convergence.cpu:.1f} s CPU, RSS {at_convergence.rss_mib:.0f} MiB "
                f"(peak {at_convergence.hwm_mib:.0f} MiB)"
            )
            requests = ", ".join(f"{k} {v}" for k, v in kube_requests(converge_metrics).items())
            print(f"  Kubernetes requests by gitward until then: {requests}")
            print(f"settling for {args.settle:g}s, then {args.rounds} idle window(s) ...")
            await asyncio.sleep(args.settle)
            for index in range(args.rounds):
                window = await idle_window(args.window, serve, api, cluster)
                apps = await api.apps()
                synced = sum(1 for a in apps if a["syncState"] == "Synced")
                report_window(index, args, window, synced)
    print(f"\nload average after: {load_average()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--apps", type=int, default=100)
    parser.add_argument("--objects", type=int, default=100, help="ConfigMaps per app")
    parser.add_argument("--rounds", type=int, default=1, help="idle windows measured")
    parser.add_argument("--window", type=float, default=120.0, help="seconds per idle window")
    parser.add_argument("--settle", type=float, default=10.0, help="seconds before the first")
    parser.add_argument("--poll-interval", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument(
        "--timeout", type=float, default=1800.0, help="seconds allowed for convergence"
    )
    parser.add_argument(
        "--keep-cluster", action="store_true", help="leave the control plane running"
    )
    args = parser.parse_args()
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
