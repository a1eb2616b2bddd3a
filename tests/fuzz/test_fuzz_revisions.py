"""Fuzzing revisions: semver ranges and tags, and refs resolved in a real repository.

``targetRevision`` and tag names are user input: a range either parses or raises
RangeError (which the source stage turns into "no such revision"); a tag name is a
version or not; resolving any text in a real Git repository names a commit or nothing.
"""

from __future__ import annotations

from pathlib import Path

import pygit2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gitward.source.refs import resolve_in
from gitward.source.semver import RangeError, Version, parse_range
from tests.fuzz.budget import within

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PIECES = st.sampled_from(
    [
        "^",
        "~",
        "~>",
        ">=",
        "<=",
        ">",
        "<",
        "=",
        "!=",
        "||",
        " - ",
        ",",
        " ",
        "v",
        ".",
        "-",
        "+",
        "x",
        "*",
        "0",
        "1",
        "2",
        "10",
        "rc",
        "alpha.1",
        "9" * 30,
        "9" * 5000,
    ]
)
RANGES = st.lists(PIECES | st.text(max_size=5), max_size=14).map("".join) | st.text(max_size=40)


@FUZZ
@given(RANGES, st.lists(RANGES, max_size=6))
def test_a_range_parses_or_is_a_range_error_and_picks_a_listed_tag(
    text: str, tags: list[str]
) -> None:
    with within(what=f"the range {text[:60]!r}"):
        try:
            wanted = parse_range(text)
        except RangeError:
            return
        best = wanted.best(tags)
        assert best is None or best in tags


@FUZZ
@given(RANGES)
def test_any_tag_name_is_a_version_or_none(tag: str) -> None:
    with within(what=f"the tag {tag[:60]!r}"):
        version = Version.parse(tag)
        assert version is None or str(version)


@pytest.fixture(scope="module")
def repository(tmp_path_factory: pytest.TempPathFactory) -> pygit2.Repository:
    path = Path(tmp_path_factory.mktemp("fuzz-repo"))
    git = pygit2.init_repository(str(path))
    signature = pygit2.Signature("fuzz", "fuzz@example.com")
    tree = git.TreeBuilder().write()
    commit = git.create_commit("refs/heads/main", signature, signature, "one", tree, [])
    for name in ("v1.0.0", "v1.2.3", "v2.0.0-rc.1", "1.10.0"):
        git.references.create(f"refs/tags/{name}", commit)
    git.set_head("refs/heads/main")
    return git


@FUZZ
@given(RANGES | st.sampled_from(["HEAD", "main", "refs/heads/main", "^1.0", "abc1234"]))
def test_resolving_any_revision_names_a_commit_or_nothing(
    repository: pygit2.Repository, wanted: str
) -> None:
    with within(what=f"resolving {wanted[:60]!r}"):
        found = resolve_in(repository, wanted)
    assert found is None or len(found) == 40
