"""Tag selection by Flux's policies: tables of tags in, one tag out."""

from __future__ import annotations

import pytest
import re2
from hypothesis import given
from hypothesis import strategies as st

from gitward.errors import ConfigError
from gitward.imageauto.policy import excluded, expand, select
from gitward.model.images import DEFAULT_EXCLUSIONS, ImagePolicy, Order, PolicyKind, TagFilter

TAGS = ["1.0.0", "v1.2.0", "1.10.1", "1.11.0-rc.1", "2.0.0", "latest", "main-abc-17", "main-def-9"]


def policy(
    kind: PolicyKind, *, range_: str = "", order: Order = Order.ASC, filt: TagFilter | None = None
) -> ImagePolicy:
    return ImagePolicy("apps", "web", "apps/web", kind, range_, order, filt)


@pytest.mark.parametrize(
    ("range_", "expected"),
    [
        ("1.x", "1.10.1"),  # numeric order, not string order; the rc is not picked
        (">=1.0.0", "2.0.0"),
        ("~1.2", "v1.2.0"),  # a "v" prefix is a version too; the tag keeps it
        (">=1.11.0-rc.0 <2", "1.11.0-rc.1"),  # pre-releases only when the range names one
        ("3.x", None),
    ],
)
def test_semver_picks_the_highest_allowed_version(range_: str, expected: str | None) -> None:
    assert select(policy(PolicyKind.SEMVER, range_=range_), TAGS) == expected


@pytest.mark.parametrize(
    ("kind", "order", "tags", "expected"),
    [
        (PolicyKind.ALPHABETICAL, Order.ASC, ["a", "c", "b"], "c"),
        (PolicyKind.ALPHABETICAL, Order.DESC, ["b", "a", "c"], "a"),
        (PolicyKind.ALPHABETICAL, Order.ASC, ["2024-01-09", "2024-01-10"], "2024-01-10"),
        (PolicyKind.NUMERICAL, Order.ASC, ["9", "10", "2"], "10"),  # not "9"
        (PolicyKind.NUMERICAL, Order.DESC, ["9", "10", "2"], "2"),
        (PolicyKind.NUMERICAL, Order.ASC, ["1.5", "latest", "1.25"], "1.5"),  # not numbers: skipped
        (PolicyKind.NUMERICAL, Order.ASC, ["latest"], None),
    ],
)
def test_alphabetical_and_numerical_orders(
    kind: PolicyKind, order: Order, tags: list[str], expected: str | None
) -> None:
    assert select(policy(kind, order=order), tags) == expected


def test_filter_extracts_the_compared_value_and_selects_the_whole_tag() -> None:
    by_build = TagFilter(r"^main-[a-f0-9]+-(?P<ts>[0-9]+)", "$ts")

    assert select(policy(PolicyKind.NUMERICAL, filt=by_build), TAGS) == "main-abc-17"


def test_filter_with_semver_compares_the_extracted_version() -> None:
    tags = ["prod-1.2.0", "prod-1.10.0", "dev-9.0.0"]
    prod = TagFilter(r"^prod-(?P<version>.*)$", "${version}")

    assert select(policy(PolicyKind.SEMVER, range_=">=1", filt=prod), tags) == "prod-1.10.0"


@pytest.mark.parametrize(
    ("template", "expected"),
    [("$ts", "17"), ("${ts}-x", "17-x"), ("$1", "abc"), ("$$ts", "$ts"), ("$nope", "")],
)
def test_extract_expands_like_go(template: str, expected: str) -> None:
    match = re2.compile(r"main-(\w+?)-(?P<ts>\d+)").search("main-abc-17")
    assert expand(template, match) == expected


def test_bad_patterns_and_ranges_name_the_policy() -> None:
    with pytest.raises(ConfigError, match=r"ImagePolicy apps/web filterTags.pattern: '\('"):
        select(policy(PolicyKind.ALPHABETICAL, filt=TagFilter("(")), TAGS)
    with pytest.raises(ConfigError, match="ImagePolicy apps/web: semver range 'one'"):
        select(policy(PolicyKind.SEMVER, range_="one"), TAGS)


def test_signature_tags_are_excluded_by_default() -> None:
    tags = ["1.0.0", "sha256-abc.sig", "1.1.0"]
    assert excluded(tags, DEFAULT_EXCLUSIONS, "r") == ["1.0.0", "1.1.0"]


@given(st.lists(st.text(alphabet="abc019.-", min_size=1, max_size=6), min_size=1, max_size=12))
def test_selection_does_not_depend_on_tag_order(tags: list[str]) -> None:
    for kind in PolicyKind:
        rule = policy(kind, range_=">=0")
        assert select(rule, tags) == select(rule, list(reversed(tags)))
        picked = select(rule, tags)
        assert picked is None or picked in tags
