"""The typed diff and the unified text diff."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gitward.model import FieldChange
from gitward.plan.diff import diff, unified_diff


@pytest.mark.parametrize(
    ("before", "after", "changes"),
    [
        ({"a": 1}, {"a": 1}, []),
        ({"a": 1}, {"a": 2}, [FieldChange("/a", 1, 2)]),
        ({"a": 1}, {}, [FieldChange("/a", 1, None)]),
        ({}, {"a": {"b": 1}}, [FieldChange("/a", None, {"b": 1})]),
        ({"a": 1}, {"a": 1.0}, []),
        ({"a": True}, {"a": 1}, [FieldChange("/a", True, 1)]),
        ({"a": None}, {}, [FieldChange("/a", None, None)]),
        (
            {"l": [1, 2]},
            {"l": [1, 3, 4]},
            [FieldChange("/l/1", 2, 3), FieldChange("/l/2", None, 4)],
        ),
        ({"l": [1, 2]}, {"l": [1]}, [FieldChange("/l/1", 2, None)]),
        ({"m": {"a/b": 1}}, {"m": {"a/b": 2}}, [FieldChange("/m/a~1b", 1, 2)]),
        ({"x": [1]}, {"x": {"0": 1}}, [FieldChange("/x", [1], {"0": 1})]),
    ],
)
def test_diff_table(before: Any, after: Any, changes: list[FieldChange]) -> None:
    assert list(diff(before, after)) == changes


def test_named_list_items_pair_by_name() -> None:
    before = {"containers": [{"name": "web", "image": "web:1"}]}
    after = {
        "containers": [{"name": "init", "image": "busybox"}, {"name": "web", "image": "web:2"}]
    }
    assert diff(before, after) == (
        FieldChange("/containers/0", None, {"name": "init", "image": "busybox"}),
        FieldChange("/containers/1/image", "web:1", "web:2"),
    )


def test_removed_named_item_uses_its_old_index() -> None:
    before = {"ports": [{"name": "http", "port": 80}, {"name": "metrics", "port": 9090}]}
    after = {"ports": [{"name": "http", "port": 80}]}
    assert diff(before, after) == (
        FieldChange("/ports/1", {"name": "metrics", "port": 9090}, None),
    )


def test_duplicate_names_fall_back_to_positions() -> None:
    before = {"l": [{"name": "a", "v": 1}, {"name": "a", "v": 2}]}
    after = {"l": [{"name": "a", "v": 1}, {"name": "a", "v": 3}]}
    assert diff(before, after) == (FieldChange("/l/1/v", 2, 3),)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=3),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3)
    ),
    max_leaves=12,
)


@given(json_values)
def test_a_value_has_no_diff_with_itself(value: Any) -> None:
    assert diff(value, value) == ()


@given(json_values, json_values)
def test_different_values_always_have_a_diff(a: Any, b: Any) -> None:
    if a != b:
        assert diff(a, b) != ()


def test_unified_diff_is_sorted_yaml() -> None:
    before = {"spec": {"replicas": 1, "b": 1}, "kind": "Deployment"}
    after = {"kind": "Deployment", "spec": {"b": 1, "replicas": 2}}
    text = unified_diff(before, after, "Deployment shop/web")
    assert text.splitlines()[:2] == [
        "--- Deployment shop/web (live)",
        "+++ Deployment shop/web (desired)",
    ]
    assert "-  replicas: 1\n" in text
    assert "+  replicas: 2\n" in text
    assert text.index("kind:") < text.index("spec:")


def test_unified_diff_of_equal_objects_is_empty() -> None:
    assert unified_diff({"a": 1}, {"a": 1}, "x") == ""


def test_unified_diff_of_a_new_object() -> None:
    assert "+a: 1\n" in unified_diff(None, {"a": 1}, "x")
