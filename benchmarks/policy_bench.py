"""How fast the policy stage and `gitward validate` are, against OPA and kubectl baselines.

    .venv/bin/python benchmarks/policy_bench.py [--objects 1000] [--policies 10]
        [--apps 100] [--repeat 5] [--skip-validate]

A benchmark, not a test: it prints absolute times and ratios against baselines measured
in the same run.

Part 1, Rego: ``--objects`` Deployments checked by ``--policies`` Conftest-style
packages (each a ``deny`` rule looking at containers, labels or replicas). Measured:

1. gitward per sync: ``PolicyChecker.check`` of all objects against a warm OPA server
   (one batched HTTP request per sync), the median of ``--repeat`` runs;
2. the first check, which also starts ``opa run --server`` and loads the modules (what
   a policy change costs serve once);
3. baseline: ``opa eval`` run once on the same input (a process start, a compile and
   one evaluation of every object, with the same batch query);
4. for scale: ``opa eval`` once per object, extrapolated from 20 objects (what a
   per-object CLI call would cost).

conftest (``github.com/open-policy-agent/conftest`` v0.71.1) is not built here: 1,280
Go packages on two shared cores is ~6 minutes for a second baseline of the same
engine; the ``opa eval`` baseline above measures the same evaluator.

Part 2, ``gitward validate --config-path`` of ``--apps`` apps (a Deployment, a
Service and a ConfigMap each) in a Git repository, as the CLI (a new process), against
``kubectl apply --dry-run=server`` of the same objects on a local control plane
(``gitward.devcluster``, profile ``light``) started for the purpose and stopped after.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from gitward import compose
from gitward.devcluster import ControlPlane
from gitward.model import AppSpec, Resource, SourceSpec
from gitward.policy.load import load_policies
from gitward.toolchain import Toolchain

GITWARD_CLI = Path(sys.executable).parent / "gitward"
CHECKS = (
    ('endswith(c.image, ":latest")', "uses :latest"),
    ("not c.resources.limits", "has no limits"),
    ("not c.resources.requests", "has no requests"),
    ('not startswith(c.image, "registry.example.com/")', "is not from our registry"),
    ("c.securityContext.privileged", "is privileged"),
    ("not c.readinessProbe", "has no readiness probe"),
    ("count(c.ports) > 5", "exposes too many ports"),
    ('c.imagePullPolicy == "Never"', "never pulls"),
    ("not c.securityContext.runAsNonRoot", "may run as root"),
    ('contains(c.name, "_")', "has an underscore in its name"),
)


def policy(i: int) -> str:
    check, what = CHECKS[i % len(CHECKS)]
    return (
        f"package bench.p{i}\n\n"
        "deny contains msg if {\n"
        '\tinput.kind == "Deployment"\n'
        "\tsome c in input.spec.template.spec.containers\n"
        f"\t{check}\n"
        f'\tmsg := sprintf("container %q {what}", [c.name])\n'
        "}\n"
    )


def deployment(i: int) -> dict[str, object]:
    container: dict[str, object] = {
        "name": "app",
        "image": "nginx:latest" if i % 7 == 0 else "registry.example.com/app:1.0",
        "ports": [{"containerPort": 8080}],
    }
    if i % 3:
        container["resources"] = {"limits": {"cpu": "1"}, "requests": {"cpu": "100m"}}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": f"app-{i}", "namespace": "bench", "labels": {"team": "a"}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": f"app-{i}"}},
            "template": {
                "metadata": {"labels": {"app": f"app-{i}"}},
                "spec": {"containers": [container]},
            },
        },
    }


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def row(label: str, seconds: float, baseline: float | None = None) -> None:
    ratio = f"{seconds / baseline:8.2f}x" if baseline else ""
    print(f"  {label:<58} {seconds * 1000:10.1f} ms {ratio}")


def rego_part(work: Path, objects: int, policies: int, repeat: int) -> None:
    opa = Toolchain().ensure(["opa"])["opa"]
    folder = work / "policies"
    folder.mkdir()
    for i in range(policies):
        (folder / f"p{i}.rego").write_text(policy(i))
    bodies = [deployment(i) for i in range(objects)]
    resources = [Resource.of(b) for b in bodies]
    app = AppSpec("bench", SourceSpec("https://git.example.com/bench.git"))
    checker = compose.policy_checker([folder])
    try:
        first = timed(lambda: checker.check(app, resources))
        runs = [timed(lambda: checker.check(app, resources)) for _ in range(repeat)]
        verdict = checker.check(app, resources)
    finally:
        checker.close()
    bundle = load_policies([folder]).rego
    assert bundle is not None
    (folder / "batch.rego").write_text(bundle.batch)
    (work / "input.json").write_text(json.dumps({"objects": bodies}))
    query = "data.gitward_batch.results"

    def opa_eval(input_file: Path) -> None:
        cmd = [str(opa), "eval", "-f", "json", "-d", str(folder), "-i", str(input_file), query]
        subprocess.run(cmd, check=True, capture_output=True)

    once = statistics.median(timed(lambda: opa_eval(work / "input.json")) for _ in range(3))
    sample = 20
    for i in range(sample):
        (work / f"one-{i}.json").write_text(json.dumps({"objects": [bodies[i]]}))
    per_object = sum(timed(lambda i=i: opa_eval(work / f"one-{i}.json")) for i in range(sample))
    per_sync = statistics.median(runs)
    print(f"\nRego: {objects} objects x {policies} policies ({len(verdict.denials)} denials)")
    row("opa eval, once on the same input (baseline)", once)
    row("gitward per sync, warm OPA server (median)", per_sync, once)
    row("gitward first check: start OPA + load + check", first, once)
    row(f"opa eval per object (x{objects}, from {sample})", per_object / sample * objects, once)
    print(f"  per object per policy: {per_sync / objects / policies * 1e6:.2f} us")


def write_tree(root: Path, apps: int) -> None:
    (root / "config").mkdir(parents=True)
    docs = []
    for i in range(apps):
        name = f"app-{i:03d}"
        docs.append(
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\n"
            f"metadata: {{name: {name}}}\nspec:\n"
            f"  source: {{repoURL: {root}, path: apps/{name}}}\n"
            f"  destination: {{namespace: bench-{i % 10}}}\n"
        )
        folder = root / "apps" / name
        folder.mkdir(parents=True)
        (folder / "all.yaml").write_text(
            json.dumps(deployment(i) | {"metadata": {"name": name, "namespace": f"bench-{i % 10}"}})
            + "\n---\n"
            + json.dumps(
                {
                    "apiVersion": "v1",
                    "kind": "Service",
                    "metadata": {"name": name, "namespace": f"bench-{i % 10}"},
                    "spec": {"selector": {"app": name}, "ports": [{"port": 80}]},
                }
            )
            + "\n---\n"
            + json.dumps(
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": name, "namespace": f"bench-{i % 10}"},
                    "data": {"key": "value"},
                }
            )
            + "\n"
        )
    (root / "config" / "apps.yaml").write_text("---\n".join(docs))
    git = ["git", "-c", "user.email=b@gitward.dev", "-c", "user.name=bench"]
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run([*git, "commit", "-qm", "bench"], cwd=root, check=True)


def validate_part(work: Path, apps: int, repeat: int) -> None:
    root = work / "tree"
    write_tree(root, apps)
    kubectl = Toolchain().ensure(["kubectl"])["kubectl"]
    cli = [str(GITWARD_CLI), "validate", "--repo", str(root), "--config-path", "config"]
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = subprocess.run([*cli, "-o", "json"], capture_output=True, text=True, check=False)
        runs.append(time.perf_counter() - started)
        if result.returncode != 0:
            sys.exit(f"gitward validate failed ({result.returncode}): {result.stderr[-2000:]}")
    plane = ControlPlane(work / "cluster")
    try:
        state = plane.up("light")
        for i in range(10):
            subprocess.run(
                [str(kubectl), "--kubeconfig", state.kubeconfig, "create", "ns", f"bench-{i}"],
                check=True,
                capture_output=True,
            )
        dry = [
            str(kubectl), "--kubeconfig", state.kubeconfig, "apply", "--dry-run=server",
            "--server-side", "-R", "-f", str(root / "apps"),
        ]  # fmt: skip
        kubectl_runs = [
            timed(lambda: subprocess.run(dry, check=True, capture_output=True))
            for _ in range(repeat)
        ]
    finally:
        plane.down()
    start = statistics.median(
        timed(
            lambda: subprocess.run([str(GITWARD_CLI), "--version"], check=True, capture_output=True)
        )
        for _ in range(3)
    )
    baseline = statistics.median(kubectl_runs)
    print(f"\nvalidate: {apps} apps, {apps * 3} objects, in a Git repository")
    row("kubectl apply --dry-run=server --server-side (baseline)", baseline)
    row("gitward validate --config-path (CLI process, median)", statistics.median(runs), baseline)
    row("  of which CLI start-up (gitward --version)", start, baseline)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=1000)
    parser.add_argument("--policies", type=int, default=10)
    parser.add_argument("--apps", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-validate", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gitward-policy-bench-") as tmp:
        rego_part(Path(tmp), args.objects, args.policies, args.repeat)
        if not args.skip_validate:
            validate_part(Path(tmp), args.apps, max(3, args.repeat // 2))


if __name__ == "__main__":
    main()
