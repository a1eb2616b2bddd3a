"""Fuzzing the manifest parser: any text is objects or a RenderError, quickly.

Properties: :func:`parse_yaml` and :func:`parse_json` either return resources that are
plain JSON (``orjson`` can serialise them: no recursion, no Python-only types) or raise
:class:`~gitward.errors.RenderError`; never another exception, never a hang (each input
runs within :func:`tests.fuzz.budget.within`).
"""

from __future__ import annotations

import json

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gitward.errors import GitwardError, RenderError
from gitward.loading import MAX_ALIAS_EXPANSION, MAX_TEXT_BYTES
from gitward.render.parse import file_locator, parse_json, parse_yaml
from tests.fuzz.budget import within
from tests.fuzz.strategies import json_values, yaml_texts

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check(parse: object, text: str) -> None:
    assert callable(parse)
    refused: RenderError | None = None
    with within(what=f"parsing {text[:60]!r}"):
        try:
            resources = parse(text, label="app/f.yaml", locate=file_locator("app/f.yaml"))
        except RenderError as e:
            refused, resources = e, []
        for resource in resources:
            orjson.dumps(resource.body)  # plain JSON: expandable, finite, no odd types
    if refused is not None:
        assert refused.location is not None
        assert str(refused).startswith("app/f.yaml")


@FUZZ
@given(yaml_texts())
def test_any_yaml_text_is_objects_or_a_render_error(text: str) -> None:
    _check(parse_yaml, text)


@FUZZ
@given(json_values())
def test_any_json_document_as_yaml_or_json(value: object) -> None:
    text = json.dumps(value)
    _check(parse_yaml, text)
    _check(parse_json, text)


@FUZZ
@given(st.text(max_size=300))
def test_any_text_as_json(text: str) -> None:
    _check(parse_json, text)


@settings(max_examples=25, deadline=None)
@given(st.integers(2, 12), st.integers(2, 12))
def test_alias_bombs_of_any_shape_are_refused_or_small(levels: int, width: int) -> None:
    lines = ["apiVersion: v1", "kind: ConfigMap", "metadata: {name: b}", "data:", "  a0: &a0 x"]
    lines += [f"  a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * width)}]" for n in range(1, levels + 1)]
    text = "\n".join(lines) + "\n"
    refused: GitwardError | None = None
    with within(what=f"a {levels}x{width} alias bomb"):
        try:
            (resource,) = parse_yaml(text, label="b.yaml", locate=file_locator("b.yaml"))
        except GitwardError as e:
            refused = e
        else:
            assert len(orjson.dumps(resource.body)) < 8 * 1024 * 1024  # within the budget
    if refused is not None:
        assert "alias bomb" in str(refused)
        assert width**levels * 8 > MAX_ALIAS_EXPANSION  # only documents that expand a lot


def test_a_100_mb_document_is_refused_quickly() -> None:
    text = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata: {x: "
        + ("y" * (100 * 1024 * 1024))
        + "}\n"
    )
    assert len(text) > MAX_TEXT_BYTES
    for parse in (parse_yaml, parse_json):
        with (
            within(what="refusing a 100 MB document"),
            pytest.raises(RenderError, match=r"more than the limit of 16\.0 MiB"),
        ):
            parse(text, label="big.yaml", locate=file_locator("big.yaml"))
