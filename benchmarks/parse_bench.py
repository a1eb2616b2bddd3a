"""Speed of gitward's manifest parser against plain libyaml, on the shared test data.

    .venv/bin/python benchmarks/parse_bench.py [--rounds 5]

Reads every ``.yaml``/``.yml`` file of ``../shared/testdata`` once into memory (outside
the timing), then parses all of them ``--rounds`` times with

- ``yaml.compose_all`` with ``CSafeLoader``: libyaml alone (nodes, no Python objects);
- ``yaml.load_all`` with ``CSafeLoader``: the same-run baseline, libyaml with PyYAML's
  plain safe constructor and no checks;
- :func:`gitward.render.parse.parse_yaml`: gitward's loader with its alias budget, size
  limit, kubectl-like scalars and object checks.

Prints the best round of each in MB/s and the ratio. A benchmark, not a test: nothing
fails. Run it before and after a change to the parser to see what the change cost.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import yaml

from gitward.errors import GitwardError
from gitward.render.parse import file_locator, parse_yaml

TESTDATA = Path(__file__).resolve().parents[2] / "shared" / "testdata"


def _manifests() -> list[tuple[str, str]]:
    """Every YAML file of the test data that holds Kubernetes objects (not values files,
    Chart.yaml or Helm templates), with its text."""
    found = []
    for path in sorted(p for p in TESTDATA.rglob("*") if p.suffix in (".yaml", ".yml")):
        name, text = str(path.relative_to(TESTDATA)), path.read_text(encoding="utf-8")
        try:
            parse_yaml(text, label=name, locate=file_locator(name))
        except GitwardError:
            continue
        found.append((name, text))
    return found


class _PlainLoader(yaml.CSafeLoader):
    """libyaml's safe loader, reading YAML 1.1's ``=`` as text (CRDs hold one)."""


_PlainLoader.add_constructor("tag:yaml.org,2002:value", yaml.CSafeLoader.construct_scalar)


def _compose(files: list[tuple[str, str]]) -> None:
    for _, text in files:
        list(yaml.compose_all(text, Loader=yaml.CSafeLoader))


def _plain(files: list[tuple[str, str]]) -> None:
    for _, text in files:
        list(yaml.load_all(text, Loader=_PlainLoader))


def _gitward(files: list[tuple[str, str]]) -> None:
    for name, text in files:
        parse_yaml(text, label=name, locate=file_locator(name))


def _best(
    run: Callable[[list[tuple[str, str]]], None], files: list[tuple[str, str]], rounds: int
) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        run(files)
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    files = _manifests()
    size = sum(len(t.encode()) for _, t in files) / 1e6
    print(f"{len(files)} files, {size:.1f} MB of YAML from {TESTDATA}")
    compose = _best(_compose, files, args.rounds)
    base = _best(_plain, files, args.rounds)
    ours = _best(_gitward, files, args.rounds)
    print(f"libyaml compose   : {compose * 1000:7.1f} ms  {size / compose:6.1f} MB/s")
    print(f"plain CSafeLoader : {base * 1000:7.1f} ms  {size / base:6.1f} MB/s")
    print(f"gitward parse_yaml: {ours * 1000:7.1f} ms  {size / ours:6.1f} MB/s")
    print(f"ratio gitward / plain: {ours / base:.2f}x")


if __name__ == "__main__":
    main()
