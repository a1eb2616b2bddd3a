"""How fast the `gitward` command starts and diffs a small app, next to kubectl.

    .venv/bin/python benchmarks/cli_bench.py [--runs 15] [--keep-cluster] [--gitward PATH]

A benchmark, not a test: it prints medians and ratios against kubectl (the one the
toolchain builds) measured in the same run, each run alternating which of the two goes
first so that the load of a shared machine falls on both alike. The cases:

1. ``gitward --version`` against ``kubectl version --client``;
2. ``gitward --help`` against ``kubectl --help``;
3. ``gitward diff`` of a two-object app (a ConfigMap and a Service committed to a Git
   repository, synced beforehand, so the diff is empty and exits 0) against
   ``kubectl diff --server-side`` of the same two files, applied beforehand with
   ``kubectl apply --server-side`` into a namespace of its own;

and, to explain the figures, the floors under gitward's start: the interpreter alone
(``python -c pass``) and importing what ``diff`` needs (``gitward.cli.engine_commands``).
Targets from issue 12: ``--version`` <= 0.1 s, a small diff <= 1.5x kubectl's.
``--gitward PATH`` measures another install (say, an older checkout's
``.venv/bin/gitward``) against the same kubectl. On a loaded machine the CPU table is
the steadier one: wall time then mostly measures waiting for a core.

The cluster: ``GITWARD_DEV_CLUSTER_DIR`` or ``GITWARD_TEST_CLUSTER_DIR`` reuses a running
dev cluster (left running); otherwise a light one (etcd + kube-apiserver) is started in
a temporary directory and stopped at the end. The Git cache is the user's (warm after
the first, uncounted, run), as it is for a person running diff again and again.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from gitward.devcluster import ClusterState, ControlPlane
from gitward.toolchain import Toolchain

CONFIGMAP = """apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  greeting: hello
  size: "3"
"""
SERVICE = """apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
    - port: 80
      targetPort: 8080
"""


@dataclass
class Case:
    name: str
    ours: list[str]
    theirs: list[str] | None
    target: str = ""
    ours_times: list[Timing] = field(default_factory=list)
    theirs_times: list[Timing] = field(default_factory=list)


@dataclass(frozen=True)
class Timing:
    wall: float
    cpu: float  # user + system seconds of the process and its children (kubectl runs diff)


def timed(argv: Sequence[str], env: dict[str, str]) -> Timing:
    """One run; a run that fails makes the benchmark stop, not mislead."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {result.returncode}:\n{result.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Timing(elapsed, cpu)


@contextmanager
def cluster(keep: bool) -> Iterator[ClusterState]:
    reuse = os.environ.get("GITWARD_DEV_CLUSTER_DIR") or os.environ.get("GITWARD_TEST_CLUSTER_DIR")
    if reuse:
        yield ControlPlane(Path(reuse)).up("light")
        return
    with tempfile.TemporaryDirectory(prefix="gw-cli-bench-") as tmp:
        plane = ControlPlane(Path(tmp) / "dev")
        try:
            yield plane.up("light")
        finally:
            if not keep:
                plane.down()


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=bench@gitward.dev", "-c", "user.name=bench", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


def make_repo(root: Path) -> Path:
    repo = root / "repo"
    (repo / "app").mkdir(parents=True)
    (repo / "app" / "configmap.yaml").write_text(CONFIGMAP)
    (repo / "app" / "service.yaml").write_text(SERVICE)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "two objects")
    return repo


def cases(gitward: str, repo: Path, ours_ns: str, theirs_ns: str, kubectl: str) -> list[Case]:
    source = ["--repo", str(repo), "--path", "app", "--name", "bench", "-n", ours_ns]
    python = str(Path(gitward).with_name("python"))
    return [
        Case("--version", [gitward, "--version"], [kubectl, "version", "--client"], "<= 0.1 s"),
        Case("--help", [gitward, "--help"], [kubectl, "--help"]),
        Case(
            "diff (2 objects, in sync)",
            [gitward, "diff", *source],
            [kubectl, "diff", "--server-side", "-n", theirs_ns, "-f", str(repo / "app")],
            "<= 1.5x kubectl",
        ),
        Case("python -c pass", [python, "-c", "pass"], None),
        Case("import diff's modules", [python, "-c", "import gitward.cli.engine_commands"], None),
    ]


def prepare(
    env: dict[str, str], gitward: str, kubectl: str, repo: Path, *, ours: str, theirs: str
) -> None:
    for namespace in (ours, theirs):
        timed([kubectl, "create", "namespace", namespace], env)
    source = ["--repo", str(repo), "--path", "app", "--name", "bench", "-n", ours]
    timed([gitward, "sync", *source, "--no-wait"], env)
    apply = [kubectl, "apply", "--server-side", "-n", theirs, "-f", str(repo / "app")]
    timed(apply, env)


def run(all_cases: list[Case], runs: int, env: dict[str, str]) -> None:
    for case in all_cases:  # warm-up: page cache, Git cache, kubectl's discovery cache
        timed(case.ours, env)
        if case.theirs:
            timed(case.theirs, env)
    for i in range(runs):
        for case in all_cases:
            pair = [(case.ours, case.ours_times)]
            if case.theirs:
                pair.append((case.theirs, case.theirs_times))
            for argv, times in pair if i % 2 == 0 else reversed(pair):
                times.append(timed(argv, env))


def report(all_cases: list[Case], runs: int) -> None:
    print(
        f"\nmedian (min) of {runs} runs, wall seconds, then CPU seconds (user + system, with "
        f"children); load average {os.getloadavg()[0]:.2f}"
    )
    for what in ("wall", "cpu"):
        print(f"\n{what:<28} {'gitward':>16} {'kubectl':>16} {'ratio':>7}  target")
        for case in all_cases:
            ours = [getattr(t, what) for t in case.ours_times]
            line = f"{case.name:<28} {statistics.median(ours):7.3f} ({min(ours):.3f})"
            if case.theirs_times:
                theirs = [getattr(t, what) for t in case.theirs_times]
                ratio = statistics.median(ours) / statistics.median(theirs)
                line += f" {statistics.median(theirs):7.3f} ({min(theirs):.3f}) {ratio:6.2f}x"
            else:
                line += f" {'':>16} {'':>7}"
            print(f"{line}  {case.target if what == 'wall' else ''}".rstrip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--keep-cluster", action="store_true")
    parser.add_argument(
        "--gitward",
        default=str(Path(sys.executable).with_name("gitward")),
        help="the gitward program to measure (e.g. another checkout's .venv/bin/gitward)",
    )
    args = parser.parse_args()
    kubectl = str(Toolchain().ensure(["kubectl"])["kubectl"])
    print(f"{args.gitward}; load average before: {os.getloadavg()[0]:.2f}")
    suffix = uuid.uuid4().hex[:6]
    ours, theirs = f"cli-bench-gitward-{suffix}", f"cli-bench-kubectl-{suffix}"
    with (
        cluster(args.keep_cluster) as state,
        tempfile.TemporaryDirectory(prefix="gw-cli-bench-") as tmp,
    ):
        env = {**os.environ, "KUBECONFIG": state.kubeconfig, "NO_COLOR": "1"}
        env["KUBECACHEDIR"] = str(Path(tmp) / "kube-cache")
        repo = make_repo(Path(tmp))
        prepare(env, args.gitward, kubectl, repo, ours=ours, theirs=theirs)
        try:
            all_cases = cases(args.gitward, repo, ours, theirs, kubectl)
            run(all_cases, args.runs, env)
        finally:
            for namespace in (ours, theirs):
                subprocess.run(
                    [kubectl, "delete", "namespace", namespace, "--wait=false"],
                    env=env,
                    capture_output=True,
                    check=False,
                )
    report(all_cases, args.runs)


if __name__ == "__main__":
    main()
