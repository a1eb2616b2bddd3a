"""Flux's ``${var}`` syntax, expanded as its post-build step expands it.

The expected outputs follow Flux's documented behaviour (defaults, ``$$`` escapes, a
bare ``$name`` left alone); operators gitward does not implement are refused by name.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gitward.render.envsubst import SubstitutionError, substitute

VARS = {"env": "prod", "empty": "", "region": "eu-west-1", "Name": "podInfo"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("replicas: ${env}", "replicas: prod"),
        ("${env}-${region}", "prod-eu-west-1"),
        ("${missing}", ""),
        ("${missing:=eu}", "eu"),
        ("${missing:-eu}", "eu"),
        ("${missing=eu}", "eu"),
        ("${missing-eu}", "eu"),
        ("${empty:=eu}", "eu"),
        ("${empty:-eu}", "eu"),
        ("${empty=eu}", ""),
        ("${empty-eu}", ""),
        ("${env:=eu}", "prod"),
        ("${missing:=${region}-b}", "eu-west-1-b"),
        ("${missing:=${other:=x}}", "x"),
        ("$${env}", "${env}"),
        ("$$env", "$env"),
        ("echo $HOME $1 $", "echo $HOME $1 $"),
        ("${Name^^} ${Name,,} ${Name^} ${Name,} ${#region}", "PODINFO podinfo PodInfo podInfo 9"),
        ("no variables at all", "no variables at all"),
        ("{braces} and }", "{braces} and }"),
    ],
)
def test_expands_like_flux(text: str, expected: str) -> None:
    assert substitute(text, VARS) == expected


@pytest.mark.parametrize(
    "text",
    ["${region:0:2}", "${region/west/east}", "${region#eu}", "${region:?unset}", "${1abc}"],
)
def test_operators_gitward_lacks_are_refused_by_name(text: str) -> None:
    with pytest.raises(SubstitutionError) as raised:
        substitute(text, VARS)
    assert text.removeprefix("$") in str(raised.value)
    assert "eu-west-1" not in str(raised.value)  # a value is never shown


def test_an_unclosed_expression_is_an_error() -> None:
    with pytest.raises(SubstitutionError, match="not closed"):
        substitute("image: app:${tag", VARS)


@given(st.text(alphabet=st.characters(blacklist_characters="$")))
def test_text_without_a_dollar_is_unchanged(text: str) -> None:
    assert substitute(text, VARS) == text


@given(st.from_regex(r"[_a-zA-Z][_a-zA-Z0-9]{0,10}", fullmatch=True), st.text(max_size=20))
def test_a_set_variable_expands_to_its_value(name: str, value: str) -> None:
    assert substitute(f"<${{{name}}}>", {name: value}) == f"<{value}>"
