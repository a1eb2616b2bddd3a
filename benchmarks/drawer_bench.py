"""How long the web UI's object drawer takes to look at one object of a big app.

    .venv/bin/python benchmarks/drawer_bench.py [--objects 1000] [--repeat 5]

A benchmark, not a test: it prints median times and ratios measured in the same run,
on a local control plane of its own (``gitward.devcluster``, profile ``light``), or the
one ``GITWARD_DEV_CLUSTER_DIR`` names (left running).

Setup, outside every timing: ``--objects`` ConfigMaps, one file each, committed to a
fresh Git repository and synced by the engine into a fresh namespace. Then, with one
warm engine (as ``serve`` holds one):

1. the drawer as it was: a look that dry-runs every object
   (``gitward.ui.details.options()``), the Resources and Diff tabs' look;
2. the drawer now: a look that dry-runs the one object opened
   (``gitward.ui.details.options_for(key)``) and trusts the inventory for the others;
3. the same-run baseline: ``kubectl diff --server-side`` of that one object's file,
   what a person would run by hand to see the same diff (a process of its own).

Each row shows the median wall time and the dry-run requests it sent.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from gitward import compose
from gitward.devcluster import ClusterState, ControlPlane
from gitward.kube.client import KubeClient
from gitward.model import AppSpec, Destination, JsonObject, SourceSpec
from gitward.reconcile.pipeline import Engine, SyncOptions
from gitward.ui import details

PATH = "manifests"


@contextmanager
def cluster() -> Iterator[ClusterState]:
    if shared := os.environ.get("GITWARD_DEV_CLUSTER_DIR"):
        print(f"reusing the dev cluster in {shared} (left running)", flush=True)
        yield ControlPlane(Path(shared)).up("light")
        return
    state_dir = Path(tempfile.mkdtemp(prefix="gw-drawer-bench-"))
    plane = ControlPlane(state_dir / "dev")
    print(f"starting a dev cluster in {plane.state_dir} ...", flush=True)
    try:
        yield plane.up("light")
    finally:
        plane.down()
        shutil.rmtree(state_dir, ignore_errors=True)


def repository(root: Path, objects: int) -> Path:
    (root / PATH).mkdir(parents=True)
    for i in range(objects):
        body = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": f"drawer-{i:04d}"},
            "data": {"value": str(i), "text": "x" * 200},
        }
        (root / PATH / f"cm-{i:04d}.yaml").write_text(yaml.safe_dump(body))
    for command in (
        ["git", "init", "-q", "-b", "main"],
        ["git", "add", "-A"],
        ["git", "-c", "user.name=bench", "-c", "user.email=b@e", "commit", "-qm", "objects"],
    ):
        subprocess.run(command, cwd=root, check=True)
    return root


class Counting:
    """Counts the dry-run applies the engine sends (wraps the real client's method)."""

    def __init__(self, kube: KubeClient) -> None:
        self.dry_runs = 0
        real = kube.apply

        async def apply(body: JsonObject, **kwargs: Any) -> JsonObject:
            if kwargs.get("dry_run"):
                self.dry_runs += 1
            return await real(body, **kwargs)

        kube.apply = apply  # type: ignore[method-assign]


async def timed(
    repeat: int, run: Callable[[], Awaitable[object]], counter: Counting
) -> tuple[float, int]:
    times = []
    before = counter.dry_runs
    for _ in range(repeat):
        started = time.perf_counter()
        await run()
        times.append(time.perf_counter() - started)
    return statistics.median(times), (counter.dry_runs - before) // repeat


async def measure(state: ClusterState, args: argparse.Namespace, work: Path) -> None:
    root = repository(work / "repo", args.objects)
    namespace = f"drawer-{uuid.uuid4().hex[:6]}"
    settings = compose.Settings(kubeconfig=str(state.kubeconfig), cache_dir=work / "cache")
    kube = compose.kube_client(settings)
    engine: Engine = compose.engine(settings, kube)
    spec = AppSpec(
        name=namespace,
        source=SourceSpec(repo_url=str(root), path=PATH, target_revision="main"),
        destination=Destination(namespace=namespace),
    )
    await kube.apply(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}},
        field_manager="bench",
    )
    result = await engine.sync(spec, SyncOptions(wait=False))
    assert not result.failed, result.changes
    counter = Counting(kube)
    key = f"ConfigMap {namespace}/drawer-{args.objects // 2:04d}"
    await engine.look(spec, details.options_for(key))  # warm: render cache, REST mapping

    full = await timed(args.repeat, lambda: engine.look(spec, details.options()), counter)
    one = await timed(args.repeat, lambda: engine.look(spec, details.options_for(key)), counter)
    kubectl = [str(Path(state.bin_dir) / "kubectl"), "--kubeconfig", str(state.kubeconfig)]
    file = root / PATH / f"cm-{args.objects // 2:04d}.yaml"

    async def by_hand() -> None:
        diff = [*kubectl, "diff", "--server-side", "-n", namespace, "-f", str(file)]
        done = await asyncio.to_thread(subprocess.run, diff, capture_output=True, check=False)
        assert done.returncode == 0, done.stderr  # 0: no difference

    hand = await timed(args.repeat, by_hand, counter)
    print(f"\n{args.objects:,} objects, median of {args.repeat}\n")
    rows = [
        ("drawer before: look, every object dry-run", full),
        ("drawer now: look, the opened object dry-run", one),
        ("baseline: kubectl diff --server-side, one file", hand),
    ]
    for label, (seconds, dry_runs) in rows:
        ratio = seconds / hand[0]
        sent = f"{dry_runs:5}" if label != rows[-1][0] else "    -"  # another process
        print(f"{label:48} {seconds * 1000:8.0f} ms  {sent} dry-runs  {ratio:5.2f}x kubectl")
    print(f"\nthe drawer now takes {one[0] / full[0]:.2f}x the time it took")
    await kube.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="gw-drawer-") as tmp, cluster() as state:
        asyncio.run(measure(state, args, Path(tmp)))
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
