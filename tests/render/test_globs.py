"""Argo CD include/exclude globs: ``*`` crosses ``/``, braces give alternatives."""

from __future__ import annotations

import pytest

from gitward.errors import RenderError
from gitward.render.globs import PathFilter, compile_glob
from tests.fuzz.budget import within


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("*.yaml", "a.yaml", True),
        ("*.yaml", "sub/a.yaml", True),  # no separators, as Argo CD matches
        ("*.yaml", "a.yml", False),
        ("a?.json", "ab.json", True),
        ("a?.json", "abc.json", False),
        ("{a.yaml,b/*.yaml}", "a.yaml", True),
        ("{a.yaml,b/*.yaml}", "b/x.yaml", True),
        ("{a.yaml,b/*.yaml}", "c.yaml", False),
        ("{dev,prod}/{*.yaml,*.json}", "prod/x.json", True),
        ("{dev,prod}/{*.yaml,*.json}", "test/x.json", False),
        ("{a,{b,c}}.yaml", "c.yaml", True),
        ("[ab].yaml", "b.yaml", True),
        ("[!ab].yaml", "b.yaml", False),
        ("[!ab].yaml", "c.yaml", True),
        ("config.yaml", "sub/config.yaml", False),  # literal: the whole path must match
        ("a+b(c).yaml", "a+b(c).yaml", True),  # regex characters are literal
        ("\\*.yaml", "*.yaml", True),
        ("\\*.yaml", "x.yaml", False),
    ],
)
def test_glob(pattern: str, path: str, matches: bool) -> None:
    assert compile_glob(pattern).matches(path) is matches


@pytest.mark.parametrize("pattern", ["{a,b", "[ab"])
def test_unclosed_glob_is_a_clear_error(pattern: str) -> None:
    with pytest.raises(RenderError, match="never closed"):
        compile_glob(pattern)


def test_exclude_wins_over_include() -> None:
    selected = PathFilter(include="*.yaml", exclude="{secret*,*/secret*}")
    assert selected.selects("app.yaml")
    assert not selected.selects("secret.yaml")
    assert not selected.selects("sub/secret-db.yaml")
    assert not selected.selects("app.json")
    assert PathFilter(None, None).selects("anything.json")


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        ("[z-a].yaml", "backwards"),
        ("{" * 40 + "a" + "}" * 40, "nested more than"),
        ("{a,b}" * 11, "more than 1024 alternatives"),
    ],
)
def test_malformed_or_explosive_globs_are_render_errors(pattern: str, problem: str) -> None:
    with pytest.raises(RenderError, match=problem):
        compile_glob(pattern)


def test_a_pathological_glob_is_answered_at_once() -> None:
    # With the old regex translation this took minutes (exponential backtracking).
    glob = compile_glob("*a" * 12 + "*b")
    with within(what="matching a pathological glob"):
        assert not glob.matches("a" * 200)
        assert glob.matches("a" * 200 + "b")


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("[a-c]x", "bx", True),
        ("[a-c]x", "dx", False),
        ("[!a-c]x", "dx", True),
        ("[a\\-c]x", "-x", True),
        ("[a\\-c]x", "bx", False),
        ("**.yaml", "a/b/c.yaml", True),
        ("*", "", True),
        ("?", "", False),
    ],
)
def test_classes_ranges_and_stars(pattern: str, path: str, matches: bool) -> None:
    assert compile_glob(pattern).matches(path) is matches
