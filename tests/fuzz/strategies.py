"""Strategies shared by the fuzz tests: JSON-like values, YAML texts, mutated payloads."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
)
KEYS = st.sampled_from(
    [
        "apiVersion",
        "kind",
        "metadata",
        "name",
        "namespace",
        "generateName",
        "labels",
        "annotations",
        "spec",
        "items",
        "data",
        "source",
        "destination",
        "syncPolicy",
        "automated",
        "repoURL",
        "path",
        "targetRevision",
        "helm",
        "directory",
        "include",
        "exclude",
        "recurse",
        "valueFiles",
        "dependsOn",
        "ref",
        "commits",
        "repository",
        "push",
        "changes",
        "new",
        "target",
        "hash",
        "after",
        "before",
    ]
) | st.text(max_size=12)


def json_values(max_leaves: int = 40) -> st.SearchStrategy[Any]:
    """JSON-like documents whose keys are often the ones gitward reads."""
    return st.recursive(
        SCALARS,
        lambda children: (
            st.lists(children, max_size=5) | st.dictionaries(KEYS, children, max_size=6)
        ),
        max_leaves=max_leaves,
    )


YAML_TOKENS = st.sampled_from(
    [
        "apiVersion: v1\n",
        "kind: ConfigMap\n",
        "kind: List\n",
        "items:\n",
        "metadata:\n",
        "  name: a\n",
        "  generateName: a-\n",
        "  annotations: {argocd.argoproj.io/hook: PreSync}\n",
        "---\n",
        "- ",
        "&a ",
        "*a",
        "&b [*a, *a]\n",
        "<<: *a\n",
        "!!binary aGk=\n",
        "!!python/object:os.system\n",
        "? ",
        ": ",
        "{",
        "}",
        "[",
        "]",
        "'",
        '"',
        "|\n",
        ">-\n",
        "  ",
        "\t",
        "\n",
        "%YAML 1.1\n",
        "%TAG ! tag:x,2000:\n",
        "2001-12-14t21:59:43.10-05:00",
        "0o17",
        "=",
        "~",
        "\x00",
        "\ufeff",
    ]
)


def yaml_texts() -> st.SearchStrategy[str]:
    """Texts assembled from YAML's structural pieces, plus arbitrary text."""
    return st.lists(YAML_TOKENS | st.text(max_size=10), max_size=40).map("".join) | st.text(
        max_size=200
    )


def mutate(value: Any, data: st.DataObject, depth: int = 0) -> Any:
    """``value`` with some leaves and subtrees replaced by arbitrary JSON values."""
    if depth > 6 or data.draw(st.integers(0, 9), label="keep?") == 0:
        return data.draw(json_values(10), label="replacement")
    if isinstance(value, dict):
        return {k: mutate(v, data, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [mutate(v, data, depth + 1) for v in value]
    return value
