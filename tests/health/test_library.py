"""Every bundled rule's fixtures, through `gitward health` as a user runs it.

A fixture is an object as the operator leaves it, annotated with the status gitward must
report (``health.gitward.dev/expect``) and text its message must contain
(``health.gitward.dev/expect-message``). The command runs once over the whole library;
each fixture is then one test case.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitward.healthrules import load_library
from gitward.model import GroupKind
from gitward.observe.health import LibraryRule

LIBRARY = Path(__file__).parents[2] / "src" / "gitward" / "healthrules" / "library"
EXPECT = "health.gitward.dev/expect"
EXPECT_MESSAGE = "health.gitward.dev/expect-message"


def fixture_files() -> list[Path]:
    return sorted(LIBRARY.glob("*/fixtures/*.yaml"))


def fixtures() -> list[tuple[Path, int, dict[str, Any]]]:
    found = []
    for path in fixture_files():
        docs = [d for d in yaml.load_all(path.read_text(), Loader=yaml.CSafeLoader) if d]
        found += [(path, i, doc) for i, doc in enumerate(docs)]
    return found


FIXTURES = fixtures()


def run_health(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    env.pop("GITWARD_HEALTH_RULES", None)
    return subprocess.run(
        [sys.executable, "-m", "gitward", "health", *args],
        capture_output=True,
        text=True,
        input=stdin,
        env=env,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def verdicts() -> dict[tuple[str, int], dict[str, str]]:
    """`gitward health -o json` over every fixture folder, keyed by (file, document)."""
    result = run_health(*(a for p in fixture_files() for a in ("-f", str(p))), "-o", "json")
    assert result.returncode == 0, result.stderr
    by_file: dict[str, list[dict[str, str]]] = defaultdict(list)
    for entry in json.loads(result.stdout):
        by_file[entry["file"]].append(entry)
    return {(f, i): e for f, entries in by_file.items() for i, e in enumerate(entries)}


@pytest.mark.parametrize(
    ("path", "index", "obj"),
    FIXTURES,
    ids=[f"{p.parent.parent.name}/{p.stem}-{i}" for p, i, _ in FIXTURES],
)
def test_fixture(
    verdicts: dict[tuple[str, int], dict[str, str]], path: Path, index: int, obj: dict[str, Any]
) -> None:
    annotations = obj["metadata"]["annotations"]
    got = verdicts[str(path), index]
    assert (got["kind"], got["name"]) == (obj["kind"], obj["metadata"]["name"])
    assert got["status"] == annotations[EXPECT], got["message"]
    assert annotations[EXPECT_MESSAGE].lower() in got["message"].lower()
    assert got["rule"].startswith("bundled ") or got["rule"] == "generic", got["rule"]


def test_every_bundled_rule_compiles() -> None:
    """The bundled rules compile on first use in a sync; here all of them, so that a
    broken one fails CI instead of a user's sync."""
    library = load_library()
    assert [str(e) for e in library.compile_all()] == []
    assert len(library.rules) > 100


def is_static(rule: LibraryRule) -> bool:
    """A kind without a status to judge (a ReferenceGrant): its rule is simply Healthy."""
    return not rule.expects_status and rule.rule.healthy == "true"


def test_every_kind_has_the_four_fixtures() -> None:
    """Healthy, Progressing, Degraded and "no status yet" for each kind with a status.

    A kind without a status needs one fixture per rule file instead.
    """
    library = load_library()
    seen: dict[GroupKind, set[str]] = defaultdict(set)
    files_seen: set[str] = set()
    for _, _, obj in FIXTURES:
        group = obj["apiVersion"].rpartition("/")[0]
        key = GroupKind(group, obj["kind"])
        found = library.lookup(key)
        assert found is not None, f"fixture for {key}, which has no bundled rule"
        rule = found.entry.rule
        expected = obj["metadata"]["annotations"][EXPECT]
        seen[GroupKind(rule.group, rule.kind)].add("no status" if "status" not in obj else expected)
        files_seen.add(rule.origin)
    four = {"Healthy", "Progressing", "Degraded", "no status"}
    missing = {
        str(gk): sorted(four - seen[gk])
        for gk, rule in library.rules.items()
        if not is_static(rule) and four - seen[gk]
    }
    assert missing == {}
    assert {r.rule.origin for r in library.rules.values()} == files_seen


def test_the_library_covers_at_least_sixty_kinds() -> None:
    kinds = [
        gk
        for gk, rule in load_library().rules.items()
        if "*" not in gk.group + gk.kind and not is_static(rule)
    ]
    assert len(kinds) >= 60, len(kinds)


def test_docs_list_every_bundled_kind() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "health.md").read_text()
    table = docs[docs.index("## Covered kinds") :]
    for gk in load_library().rules:
        assert f"`{gk.group}`" in table, gk
        assert gk.kind in table, gk
