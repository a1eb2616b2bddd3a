"""What health evaluation costs: bundled CEL rules against the built-in per-kind checks.

    .venv/bin/python benchmarks/health_bench.py [--objects 10000] [--repeat 5]

A benchmark, not a test: it prints figures and ratios measured in the same run; nothing
fails. No cluster is needed.

Objects: the bundled rule library's own fixtures (every operator kind it covers, in
every state, with and without status) and the built-in checks' fixtures
(tests/observe/fixtures: Deployments, Pods, StatefulSets, Jobs, APIServices...), each
set repeated to ``--objects`` objects of mixed kinds.

Measured (best of ``--repeat``, objects per second):

1. baseline: the built-in per-kind Python checks over the built-in kinds' objects;
2. rules: :class:`HealthEvaluator` with the bundled library over the operator kinds'
   objects (library lookup, no-status and generation checks, one CEL evaluation);
3. mixed: the same evaluator over both sets interleaved, as an app holding both sees it;
4. one-time costs: reading and indexing the rule files (once per process), compiling
   one rule on its kind's first use and then all of them (as a long-running controller
   that meets every kind ends up doing), and building an evaluator for an app with its
   own rules.
"""

from __future__ import annotations

import argparse
import itertools
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from gitward.healthrules import load_library
from gitward.model import GroupKind, Health, HealthRule
from gitward.observe.health import HealthEvaluator, builtin_health

ROOT = Path(__file__).resolve().parents[1]
LIBRARY = ROOT / "src" / "gitward" / "healthrules" / "library"
BUILTIN = ROOT / "tests" / "observe" / "fixtures"


def documents(paths: Sequence[Path]) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for path in paths:
        docs += [d for d in yaml.load_all(path.read_text(), Loader=yaml.CSafeLoader) if d]
    return docs


def repeated(objects: list[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    return list(itertools.islice(itertools.cycle(objects), count))


def rate(
    check: Callable[[Mapping[str, Any]], Health], objects: list[dict[str, Any]], repeat: int
) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for obj in objects:
            check(obj)
        best = min(best, time.perf_counter() - start)
    return len(objects) / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    start = time.perf_counter()
    library = load_library()
    load_ms = (time.perf_counter() - start) * 1000
    start = time.perf_counter()
    library.lookup(GroupKind("cert-manager.io", "Certificate"))
    first_ms = (time.perf_counter() - start) * 1000
    start = time.perf_counter()
    assert not library.compile_all(), library.errors
    compile_ms = (time.perf_counter() - start) * 1000
    operator_kinds = documents(sorted(LIBRARY.glob("*/fixtures/*.yaml")))
    builtin_kinds = documents(sorted(BUILTIN.glob("*.yaml")))
    n = args.objects
    crs, builtins = repeated(operator_kinds, n), repeated(builtin_kinds, n)
    mixed = [o for pair in zip(crs[: n // 2], builtins[: n // 2], strict=True) for o in pair]

    start = time.perf_counter()
    app_rule = HealthRule(kind="Widget", group="example.com", healthy="status.phase == 'Up'")
    HealthEvaluator([app_rule], library)
    app_ms = (time.perf_counter() - start) * 1000

    evaluator = HealthEvaluator((), library)
    baseline = rate(builtin_health, builtins, args.repeat)
    builtin_via_evaluator = rate(evaluator.health_of, builtins, args.repeat)
    rules = rate(evaluator.health_of, crs, args.repeat)
    both = rate(evaluator.health_of, mixed, args.repeat)

    kinds = len({(o["apiVersion"], o["kind"]) for o in operator_kinds})
    print(
        f"library: {len(library.rules)} rules, read and indexed in {load_ms:.0f} ms; "
        f"one rule compiled on first use in {first_ms:.1f} ms, the rest in {compile_ms:.0f} ms"
    )
    print(f"an app's evaluator with one rule of its own: built in {app_ms:.2f} ms")
    print(f"objects: {n} per run ({kinds} operator kinds, {len(builtin_kinds)} built-in fixtures)")
    print(f"{'':42} {'objects/s':>12} {'µs/object':>10} {'vs baseline':>12}")
    for label, value in (
        ("built-in per-kind checks (baseline)", baseline),
        ("built-in kinds through the evaluator", builtin_via_evaluator),
        ("bundled CEL rules (operator kinds)", rules),
        ("mixed: half operator, half built-in", both),
    ):
        print(f"{label:42} {value:12,.0f} {1e6 / value:10.1f} {value / baseline:11.2f}x")


if __name__ == "__main__":
    main()
