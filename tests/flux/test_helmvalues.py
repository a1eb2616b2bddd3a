"""Merging Helm values layers as Flux's valuesFrom does (pure)."""

from __future__ import annotations

import pytest

from gitward.render.helmvalues import merge, set_path


def test_mappings_merge_at_any_depth_and_the_rest_is_replaced() -> None:
    base = {"ui": {"color": "red", "message": "a"}, "ports": [1, 2], "replicas": 1}
    layer = {"ui": {"message": "b"}, "ports": [3], "extra": {"x": 1}}
    assert merge(base, layer) == {
        "ui": {"color": "red", "message": "b"},
        "ports": [3],
        "replicas": 1,
        "extra": {"x": 1},
    }
    assert base["ui"] == {"color": "red", "message": "a"}  # inputs are not changed


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("ui.color", {"ui": {"color": "v", "message": "a"}}),
        (
            "annotations.example\\.com/team",
            {"ui": {"message": "a"}, "annotations": {"example.com/team": "v"}},
        ),
    ],
)
def test_a_target_path_sets_one_string_value(path: str, expected: dict[str, object]) -> None:
    assert set_path({"ui": {"message": "a"}}, path, "v") == expected


def test_an_empty_path_segment_is_refused() -> None:
    with pytest.raises(ValueError, match="empty segment"):
        set_path({}, "ui..color", "v")
