"""Failover and scale-out of ``gitward serve --ha``, on this machine.

    .venv/bin/python benchmarks/ha_bench.py [--apps 1000] [--lease-duration 15]
        [--keep-cluster]

A benchmark, not a test: it prints figures and compares them with the targets of
issue 9 (failover after ``kill -9`` within the Lease duration + 2 s, after SIGTERM
within 2 s) and the convergence of ``--apps`` apps with 1, 2 and 3 replicas as ratios
against one replica, measured in the same run. Nothing fails.

Setup, outside every timing: a local control plane of its own (``gitward.devcluster``,
profile ``full``), a throwaway PostgreSQL (``tests/store/postgres.py``), a Git
repository with one folder per app (one ConfigMap each), and the replicas started as
real processes (``python -m gitward serve --ha``), each with its own state and Git
cache. For each replica count, a fresh database and namespace: the replicas converge
on revision one; then revision two is committed and one push webhook is sent to one
replica, and the clock runs until the store records every app synced at revision two.
CPU seconds of each replica (``/proc/PID/stat``) are taken over that window.

Failover, with three replicas: ``kill -9`` of one, and the clock runs until the store
shows every app owned as rendezvous hashing over the two others says; then SIGTERM of
another, until the last one owns every app. On two cores shared with the API server,
etcd, PostgreSQL and the replicas, the API server bounds convergence: more replicas
share the Git and render work but not the writes.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import sys
import tempfile
import time
from collections.abc import Iterator
from operator import not_
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.controller_bench import load_average, own_cluster
from lightkube import Client, KubeConfig
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Namespace
from tests.engine.conftest import GitRepo
from tests.ha.replicas import Replicas, timed
from tests.store.postgres import PostgresServer

from gitward.devcluster import ClusterState, ControlPlane

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def group(tmp: Path, kubeconfig: str, db: str, apps: int, duration: float) -> Replicas:
    client = Client(config=KubeConfig.from_file(kubeconfig), field_manager="bench")
    namespace = f"ha-{secrets.token_hex(3)}"
    client.create(Namespace(metadata=ObjectMeta(name=namespace)))
    repo_dir = tmp / "repo"
    repo_dir.mkdir(parents=True)
    repo = GitRepo(repo_dir)
    names = [f"ha-{i:04d}" for i in range(apps)]
    return Replicas(tmp, kubeconfig, db, repo, namespace, names, duration)


def pid(replicas: Replicas, rid: str) -> int:
    proc = replicas.procs[rid].proc
    if proc is None:
        raise RuntimeError(f"replica {rid} is not running")
    return proc.pid


@contextlib.contextmanager
def cluster_for(keep: bool) -> Iterator[ClusterState]:
    """``GITWARD_DEV_CLUSTER_DIR`` names a running dev cluster to reuse; else one of our own."""
    reuse = os.environ.get("GITWARD_DEV_CLUSTER_DIR")
    if reuse:
        yield ControlPlane(Path(reuse)).up("full")
        return
    with own_cluster(keep) as state:
        yield state


def converge(replicas: Replicas, ids: list[str]) -> tuple[float, dict[str, float]]:
    """Seconds for every app to be synced at a new revision after one push; CPU each."""
    first = replicas.write_revision("one")
    replicas.start(*ids)
    replicas.wait_synced(first, timeout=3600)
    replicas.wait_owned(ids, timeout=600)
    before = {r: cpu_seconds(pid(replicas, r)) for r in ids}
    second = replicas.write_revision("two")
    started = time.monotonic()
    replicas.push(ids[0])
    replicas.wait_synced(second, timeout=3600)
    elapsed = time.monotonic() - started
    cpu = {r: cpu_seconds(pid(replicas, r)) - before[r] for r in ids}
    return elapsed, cpu


def failover(replicas: Replicas) -> tuple[float, float]:
    """kill -9 of r2, then SIGTERM of r3: seconds until the others own every app."""
    wanted = replicas.expected_owners(["r1", "r3"])
    replicas.procs["r2"].kill()
    killed = timed("r1 and r3 to own every app", lambda: replicas.misowned(wanted), not_, 600)
    wanted = replicas.expected_owners(["r1"])
    proc = replicas.procs["r3"].proc
    assert proc is not None
    proc.terminate()
    stopped = timed("r1 to own every app", lambda: replicas.misowned(wanted), not_, 600)
    proc.wait(timeout=120)
    return killed, stopped


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--apps", type=int, default=1000)
    parser.add_argument("--lease-duration", type=float, default=15.0)
    parser.add_argument("--keep-cluster", action="store_true")
    args = parser.parse_args()
    print(f"load average before: {load_average()}", flush=True)
    results: dict[int, tuple[float, dict[str, float]]] = {}
    failovers = (0.0, 0.0)
    postgres = PostgresServer()
    postgres.start()
    with contextlib.ExitStack() as stack:
        stack.callback(postgres.stop)
        cluster = stack.enter_context(cluster_for(args.keep_cluster))
        for count in (1, 2, 3):
            tmp = Path(tempfile.mkdtemp(prefix=f"gw-ha-bench-{count}-"))
            replicas = group(
                tmp, cluster.kubeconfig, postgres.create_database(), args.apps, args.lease_duration
            )
            try:
                ids = [f"r{i + 1}" for i in range(count)]
                results[count] = converge(replicas, ids)
                print(f"  {count} replica(s): {results[count][0]:.1f}s", flush=True)
                if count == 3:
                    failovers = failover(replicas)
            finally:
                replicas.stop_all()
    report(args, results, failovers)


def report(
    args: argparse.Namespace,
    results: dict[int, tuple[float, dict[str, float]]],
    failovers: tuple[float, float],
) -> None:
    base = results[1][0]
    print(f"\nconverge {args.apps} apps after one push (Lease {args.lease_duration:g}s)")
    print(f"{'replicas':>8} {'seconds':>8} {'vs 1':>6} {'CPU s per replica':>30}")
    for count, (elapsed, cpu) in results.items():
        per = ", ".join(f"{r}={c:.1f}" for r, c in cpu.items())
        print(f"{count:>8} {elapsed:>8.1f} {base / elapsed:>5.2f}x {per:>30}")
    killed, stopped = failovers
    target = args.lease_duration + 2
    print("\nfailover (3 replicas -> 2 -> 1)")
    print(
        f"  kill -9 : {killed:5.1f}s  (target <= {target:g}s: "
        f"{'met' if killed <= target else 'missed'})"
    )
    print(f"  SIGTERM : {stopped:5.1f}s  (target <= 2s: {'met' if stopped <= 2 else 'missed'})")
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main()
