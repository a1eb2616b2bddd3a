"""Fuzzing include/exclude globs: a compiled glob or a RenderError, and matching never hangs."""

from __future__ import annotations

import fnmatch

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gitward.errors import RenderError
from gitward.render.globs import compile_glob
from tests.fuzz.budget import within

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
GLOB_PIECES = st.sampled_from(
    ["*", "?", "[", "]", "!", "-", "{", "}", ",", "\\", "a", "b", "/", "."]
)
GLOBS = st.lists(GLOB_PIECES | st.text(max_size=3), max_size=40).map("".join)
PATHS = st.lists(st.sampled_from(["a", "b", "/", ".", "-", "yaml", "*"]), max_size=60).map("".join)


@FUZZ
@given(GLOBS, st.lists(PATHS, max_size=5))
def test_any_glob_compiles_or_is_a_render_error_and_matches_quickly(
    pattern: str, paths: list[str]
) -> None:
    with within(what=f"the glob {pattern[:60]!r}"):
        try:
            glob = compile_glob(pattern)
        except RenderError:
            return
        for path in paths:
            glob.matches(path)


@FUZZ
@given(
    st.lists(st.sampled_from(["*", "?", "a", "b", ".", "/"]), max_size=12).map("".join),
    PATHS,
)
def test_simple_globs_agree_with_fnmatch(pattern: str, path: str) -> None:
    # Without classes or braces, and with * crossing "/", Argo CD's globs are fnmatch's.
    assert compile_glob(pattern).matches(path) is fnmatch.fnmatchcase(path, pattern)
