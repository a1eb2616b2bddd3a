"""Hostile manifests: alias bombs, recursive aliases and huge files are refused by name.

Before the bounds of :mod:`gitward.loading`, the 1 KB alias bomb below parsed at once
into shared Python objects, and the first stage to expand it (``orjson.dumps`` for
``gitward render -o json``, a deep copy for ``sync``) grew to gigabytes and died with
SIGSEGV.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from gitward.errors import RenderError
from gitward.model import SourceSpec
from gitward.render import ManifestRenderer
from gitward.render.parse import file_locator, parse_json, parse_yaml
from gitward.render.process import run_tool

from .helpers import REPO_URL, Write, configmap, names, render


def alias_bomb(levels: int = 9, width: int = 9) -> str:
    """A ConfigMap whose data expands to ``width ** levels`` strings: 9**9 is 387 million."""
    lines = ["apiVersion: v1", "kind: ConfigMap", "metadata:", "  name: lol", "data:"]
    lines.append('  a0: &a0 "lol"')
    for level in range(1, levels + 1):
        refs = ", ".join([f"*a{level - 1}"] * width)
        lines.append(f"  a{level}: &a{level} [{refs}]")
    return "\n".join(lines) + "\n"


def yaml_objects(text: str, path: str = "app/x.yaml") -> list[object]:
    return [r.body for r in parse_yaml(text, label=path, locate=file_locator(path))]


def test_an_alias_bomb_is_refused_naming_the_file_and_line() -> None:
    text = alias_bomb()
    assert len(text) < 1024
    with pytest.raises(RenderError, match="alias bomb") as caught:
        yaml_objects(text, "apps/web/bomb.yaml")
    assert caught.value.location is not None
    assert caught.value.location.startswith("apps/web/bomb.yaml:")
    assert caught.value.hint is not None
    assert "anchors" in caught.value.hint


def test_the_alias_budget_counts_the_whole_stream_not_each_document() -> None:
    # Each document alone stays under the budget; together they would not.
    one = alias_bomb(levels=6, width=9)  # 9**6 = 531441 strings of 3 characters
    with pytest.raises(RenderError, match="alias bomb"):
        yaml_objects("---\n".join([one] * 4))


@pytest.mark.parametrize(
    "text",
    [
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: &d {x: [*d]}\n",
        "apiVersion: v1\nkind: List\nitems: &i [*i]\n",
        "&doc {apiVersion: v1, kind: ConfigMap, metadata: {name: a}, self: *doc}\n",
    ],
)
def test_a_recursive_alias_is_refused(text: str) -> None:
    with pytest.raises(RenderError, match="infinitely deep") as caught:
        yaml_objects(text)
    assert caught.value.location == "app/x.yaml:1" or "app/x.yaml:" in str(caught.value.location)


def test_anchors_used_as_intended_still_work() -> None:
    text = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n"
        "  template:\n    spec:\n      containers:\n"
        "      - name: a\n        env: &env [{name: MODE, value: prod}, {name: LOG, value: info}]\n"
        "      - name: b\n        env: *env\n"
        "      - name: c\n        env: *env\n"
    )
    (body,) = yaml_objects(text)
    assert isinstance(body, dict)
    containers = body["spec"]["template"]["spec"]["containers"]
    assert [c["env"][0]["value"] for c in containers] == ["prod", "prod", "prod"]
    assert json.loads(json.dumps(body)) == body  # expands to plain JSON


def test_a_huge_text_is_refused_before_it_is_parsed() -> None:
    text = configmap("big").replace("k: v", "blob: " + "x" * (17 * 1024 * 1024))
    with pytest.raises(RenderError, match=r"more than the limit of 16\.0 MiB") as caught:
        yaml_objects(text, "app/big.yaml")
    assert caught.value.location == "app/big.yaml"
    with pytest.raises(RenderError, match="more than the limit"):
        parse_json("[" + " " * (17 * 1024 * 1024) + "]", label="a.json", locate=file_locator("a"))


def test_deeply_nested_json_is_a_render_error() -> None:
    with pytest.raises(RenderError, match="nested too deeply"):
        parse_json("[" * 100_000 + "]" * 100_000, label="a.json", locate=file_locator("a.json"))


def test_a_100_mb_file_is_refused_without_reading_it(
    renderer: ManifestRenderer, repo: Path, write: Write
) -> None:
    write("app/ok.yaml", configmap("ok"))
    huge = repo / "app" / "huge.yaml"
    with huge.open("wb") as handle:  # sparse: 100 MB on paper, nothing on disk
        handle.truncate(100 * 1024 * 1024)
    with pytest.raises(RenderError, match=r"the file is 100\.0 MiB") as caught:
        render(renderer, repo, SourceSpec(REPO_URL, path="app"))
    assert caught.value.location == "app/huge.yaml"


def test_the_bomb_in_a_committed_file_fails_the_render_by_name(
    renderer: ManifestRenderer, repo: Path, write: Write
) -> None:
    write("app/ok.yaml", configmap("ok"))
    write("app/lol.yaml", alias_bomb())
    with pytest.raises(RenderError, match="alias bomb") as caught:
        render(renderer, repo, SourceSpec(REPO_URL, path="app"))
    assert str(caught.value.location).startswith("app/lol.yaml:")
    (repo / "app" / "lol.yaml").unlink()
    assert names(render(renderer, repo, SourceSpec(REPO_URL, path="app"))) == ["ok"]


@pytest.mark.parametrize(
    "value",
    ["99999999999999999999", "-9223372036854775809", "9" * 5000, "0x" + "f" * 40],
)
def test_integers_kubernetes_cannot_hold_are_render_errors(value: str) -> None:
    # Found by fuzzing: beyond int64, orjson refused the body later with a TypeError;
    # beyond 4300 digits, Python's int() raised a ValueError out of the parser.
    text = configmap("n").replace("k: v", "k: v\nreplicas: " + value)
    with pytest.raises(RenderError, match="integer"):
        yaml_objects(text)
    if value.lstrip("-").isdigit():
        with pytest.raises(RenderError, match="integer"):
            parse_json(
                '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "n"}, '
                f'"spec": {{"replicas": {value}}}}}',
                label="a.json",
                locate=file_locator("a.json"),
            )


def test_the_largest_int64_is_still_accepted() -> None:
    (body,) = yaml_objects(configmap("n").replace("k: v", "k: 9223372036854775807"))
    assert isinstance(body, dict)
    assert body["data"]["k"] == 2**63 - 1


def test_a_render_program_writing_without_end_is_stopped(tmp_path: Path) -> None:
    # A template that loops forever: helm or kustomize printing gigabytes. The output is
    # read as it comes and the run is killed past the limit (here 1 MiB of `yes`).
    env = {"PATH": "/usr/bin:/bin"}
    with pytest.raises(RenderError, match="wrote more than 1 MiB and was stopped"):
        run_tool(
            ["yes", "apiVersion: v1"],
            what="helm template",
            location="charts/loop",
            env=env,
            cwd=tmp_path,
            timeout=60,
            max_output=1024 * 1024,
        )


def test_a_render_program_keeps_its_output_and_the_end_of_its_errors(tmp_path: Path) -> None:
    script = "import sys; sys.stdout.write('x' * 300000); sys.stderr.write('e' * 3000000 + 'END')"
    assert (
        run_tool(
            [sys.executable, "-c", script], what="t", location="a", env={}, cwd=tmp_path, timeout=60
        )
        == "x" * 300000
    )
    failing = script + "; sys.exit(3)"
    with pytest.raises(RenderError, match="END"):
        run_tool(
            [sys.executable, "-c", failing],
            what="t",
            location="a",
            env={},
            cwd=tmp_path,
            timeout=60,
        )
