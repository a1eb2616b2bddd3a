"""Warm start time and memory of the local control plane (binaries already built).

    .venv/bin/python benchmarks/devcluster_start.py [--runs 5] [--profile full]

Prints each run, then the median time from `up` to ready (apiserver /readyz, fake node
Ready, default ServiceAccount present) and the summed resident memory of the
components right after. The light profile (etcd + apiserver) is measured in the same run
as the reference point: the difference is the price of the controllers and kwok.
Not a pass/fail test.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from gitward.devcluster import ControlPlane


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def measure(profile: str, runs: int) -> tuple[list[float], list[float]]:
    times, memory = [], []
    for i in range(runs):
        with tempfile.TemporaryDirectory(prefix="gw-bench-") as tmp:
            plane = ControlPlane(Path(tmp) / "dev")
            started = time.monotonic()
            state = plane.up("full" if profile == "full" else "light")
            elapsed = time.monotonic() - started
            time.sleep(2)  # let the controllers finish their first sync before reading RSS
            rss = sum(rss_mib(p.pid) for p in state.processes)
            plane.down()
        times.append(elapsed)
        memory.append(rss)
        print(f"  {profile:5} run {i + 1}: ready in {elapsed:5.2f}s, RSS {rss:6.0f} MiB")
    return times, memory


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    light_t, light_m = measure("light", args.runs)
    full_t, full_m = measure("full", args.runs)
    print()
    print(
        f"light (etcd + apiserver): median {statistics.median(light_t):.2f}s, "
        f"RSS median {statistics.median(light_m):.0f} MiB"
    )
    print(
        f"full  (+ kcm, scheduler, kwok, node): median {statistics.median(full_t):.2f}s, "
        f"RSS median {statistics.median(full_m):.0f} MiB"
    )
    ratio = statistics.median(full_t) / statistics.median(light_t)
    print(f"ratio full/light start time: {ratio:.2f}x")


if __name__ == "__main__":
    main()
