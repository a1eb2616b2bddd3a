"""Semver ranges over tags: the dialect Argo CD and Flux users write, pre-releases opt-in."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gitward.source import RangeError, Version, parse_range

TAGS = [
    "v0.1.0",
    "v0.2.3",
    "v0.2.9",
    "1.0.0",
    "v1.2.0",
    "v1.2.7",
    "v1.3.0-rc.1",
    "v1.4.1",
    "v2.0.0",
    "v2.1.0-beta.2",
    "release-3",
    "latest",
]


@pytest.mark.parametrize(
    ("text", "best"),
    [
        (">=1.2 <2", "v1.4.1"),
        (">=1.2, <2", "v1.4.1"),
        ("^1.2", "v1.4.1"),
        ("^1.2.7", "v1.4.1"),
        ("^0.2", "v0.2.9"),
        ("^0.1", "v0.1.0"),
        ("~1.2", "v1.2.7"),
        ("~1.2.3", "v1.2.7"),
        ("~1", "v1.4.1"),
        ("1.2.x", "v1.2.7"),
        ("1.2.*", "v1.2.7"),
        ("1.x", "v1.4.1"),
        ("1.2", "v1.2.7"),
        ("*", "v2.0.0"),
        ("x", "v2.0.0"),
        ("1.2.0", "v1.2.0"),
        ("=1.0.0", "1.0.0"),
        ("v1.2.0", "v1.2.0"),
        (">1.2", "v2.0.0"),
        ("<1.2", "1.0.0"),
        ("<=1.2", "v1.2.7"),
        (">1.2.0 <1.4", "v1.2.7"),
        ("!=2.0.0", "v1.4.1"),
        ("1.2 - 1.3", "v1.2.7"),
        ("1.0.0 - 1.4.1", "v1.4.1"),
        ("^3 || ~0.2", "v0.2.9"),
        ("^1.3.0-rc.0", "v1.4.1"),
        (">=1.3.0-rc.0 <1.4", "v1.3.0-rc.1"),
        (">=2.1.0-alpha", "v2.1.0-beta.2"),
        ("^5", None),
        (">=3", None),
    ],
)
def test_range_picks_the_highest_matching_tag(text: str, best: str | None) -> None:
    assert parse_range(text).best(TAGS) == best


@pytest.mark.parametrize("text", ["", "main", "feature/x", "1.2.3.4", ">=", "!=1.2", "^", "a-b"])
def test_text_that_is_no_range_is_refused(text: str) -> None:
    with pytest.raises(RangeError):
        parse_range(text)


def test_pre_releases_are_excluded_unless_the_range_names_one() -> None:
    assert parse_range("^1.2").best(["v1.2.0", "v1.9.0-rc.1"]) == "v1.2.0"
    assert parse_range("*").best(["v1.9.0-rc.1"]) is None
    assert parse_range("^1.9.0-rc.0").best(["v1.2.0", "v1.9.0-rc.1"]) == "v1.9.0-rc.1"


def test_equal_versions_prefer_the_shorter_tag() -> None:
    assert parse_range("^1").best(["v1.0.0", "1.0.0", "1.0"]) == "1.0"


def test_version_precedence_follows_semver_2() -> None:
    order = [
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
        "1.0.1",
        "1.1.0",
        "2.0.0",
    ]
    parsed = [Version.parse(v) for v in order]
    assert all(p is not None for p in parsed)
    assert parsed == sorted(parsed, key=lambda v: v or Version(0))


versions = st.builds(
    Version,
    st.integers(0, 5),
    st.integers(0, 5),
    st.integers(0, 5),
)


@given(versions)
def test_caret_allows_a_version_and_its_compatible_successors(v: Version) -> None:
    caret = parse_range(f"^{v}")
    assert caret.allows(v)
    if v.major > 0:
        assert caret.allows(Version(v.major, v.minor, v.patch + 1))
        assert caret.allows(Version(v.major, v.minor + 1, 0))
    assert not caret.allows(Version(v.major + 1, 0, 0))


@given(versions)
def test_tilde_stays_within_the_minor(v: Version) -> None:
    tilde = parse_range(f"~{v}")
    assert tilde.allows(v)
    assert tilde.allows(Version(v.major, v.minor, v.patch + 3))
    assert not tilde.allows(Version(v.major, v.minor + 1, 0))


@given(st.lists(versions, min_size=1, max_size=12), st.sampled_from(["*", ">=1", "^2", "~1.1"]))
def test_best_is_the_maximum_of_the_allowed_versions(vs: list[Version], text: str) -> None:
    wanted = parse_range(text)
    tags = [f"v{v}" for v in vs]
    allowed = [v for v in vs if wanted.allows(v)]
    best = wanted.best(tags)
    assert (best is None) == (not allowed)
    if best is not None:
        assert Version.parse(best) == max(allowed)


def test_numbers_too_long_for_int_are_not_versions_nor_ranges() -> None:
    # Found by fuzzing: int() refuses over 4300 digits with a ValueError, which escaped.
    huge = "9" * 5000
    assert Version.parse(f"v{huge}.0.0") is None
    assert Version.parse(f"1.0.0-{huge}") is None
    with pytest.raises(RangeError):
        parse_range(f"^{huge}")
    assert parse_range(">=1.0").best([f"v{huge}", "v1.2.0"]) == "v1.2.0"
