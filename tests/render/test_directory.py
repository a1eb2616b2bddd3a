"""The directory renderer through ManifestRenderer: files, recursion, globs, safety, order."""

from __future__ import annotations

import json
import random
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gitward.errors import DuplicateObjectError, PathEscapeError, RenderError
from gitward.model import DirectoryOptions, SourceLocation, SourceSpec
from gitward.render import ManifestRenderer, RenderTools

from .helpers import REPO_URL, Write, configmap, names, render


def directory(
    path: str = "app",
    *,
    recurse: bool = False,
    include: str | None = None,
    exclude: str | None = None,
) -> SourceSpec:
    options = DirectoryOptions(recurse=recurse, include=include, exclude=exclude)
    return SourceSpec(REPO_URL, path=path, directory=options)


@pytest.fixture
def tree(write: Write) -> None:
    write("app/a.yaml", configmap("a"))
    write("app/b.yml", configmap("b") + "---\n" + configmap("b2"))
    write(
        "app/c.json", json.dumps({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "c"}})
    )
    write("app/README.md", "# not a manifest\n")
    write("app/values.txt", "ignored: true\n")
    write("app/sub/d.yaml", configmap("d"))
    write("app/sub/deeper/e.yaml", configmap("e"))
    write("app/.hidden/h.yaml", configmap("hidden"))
    write("app/.git/config.yaml", configmap("git"))
    write("other/x.yaml", configmap("x"))


@pytest.mark.usefixtures("tree")
def test_top_level_only_by_default(renderer: ManifestRenderer, repo: Path) -> None:
    found = render(renderer, repo, SourceSpec(REPO_URL, path="app"))
    assert names(found) == ["a", "b", "b2", "c"]
    assert [str(r.source) for r in found] == [
        "app/a.yaml:1",
        "app/b.yml:1",
        "app/b.yml:8",
        "app/c.json:1",
    ]


@pytest.mark.usefixtures("tree")
def test_recursion_skips_hidden_directories(renderer: ManifestRenderer, repo: Path) -> None:
    found = render(renderer, repo, directory(recurse=True))
    assert names(found) == ["a", "b", "b2", "d", "e", "c"]  # ConfigMaps, then the Secret
    assert found[4].source == SourceLocation("app/sub/deeper/e.yaml", 1, 0)


@pytest.mark.usefixtures("tree")
@pytest.mark.parametrize(
    ("include", "exclude", "expected"),
    [
        ("*.yaml", None, ["a", "d", "e"]),  # * crosses directories, as in Argo CD
        ("{a.yaml,sub/*.yaml}", None, ["a", "d", "e"]),
        ("{a.yaml,c.json}", None, ["a", "c"]),
        (None, "sub/*", ["a", "b", "b2", "c"]),
        (None, "{*.json,sub/deeper/*}", ["a", "b", "b2", "d"]),
        ("*.yaml", "sub/deeper/*", ["a", "d"]),
    ],
)
def test_include_and_exclude_globs(
    renderer: ManifestRenderer,
    repo: Path,
    include: str | None,
    exclude: str | None,
    expected: list[str],
) -> None:
    found = render(renderer, repo, directory(recurse=True, include=include, exclude=exclude))
    assert sorted(names(found)) == sorted(expected)


def test_root_of_the_repository_and_normalised_paths(
    renderer: ManifestRenderer, repo: Path, write: Write
) -> None:
    write("top.yaml", configmap("top"))
    write("app/a.yaml", configmap("a"))
    assert [str(r.source) for r in render(renderer, repo, SourceSpec(REPO_URL))] == ["top.yaml:1"]
    found = render(renderer, repo, SourceSpec(REPO_URL, path="./app/../app/"))
    assert [str(r.source) for r in found] == ["app/a.yaml:1"]


def test_duplicates_name_both_files(renderer: ManifestRenderer, repo: Path, write: Write) -> None:
    write("app/one.yaml", configmap("same", "ns"))
    write("app/two.yaml", configmap("other") + "---\n" + configmap("same", "ns"))
    with pytest.raises(DuplicateObjectError) as caught:
        render(renderer, repo, SourceSpec(REPO_URL, path="app"))
    message = str(caught.value)
    assert "ConfigMap ns/same" in message
    assert "app/one.yaml:1" in message
    assert "app/two.yaml:8" in message


def test_same_name_in_other_namespace_or_kind_is_no_duplicate(
    renderer: ManifestRenderer, repo: Path, write: Write
) -> None:
    write("app/a.yaml", configmap("same", "one") + "---\n" + configmap("same", "two"))
    write("app/b.yaml", "apiVersion: v1\nkind: Secret\nmetadata: {name: same, namespace: one}\n")
    assert len(render(renderer, repo, SourceSpec(REPO_URL, path="app"))) == 3


def test_errors_name_the_file(renderer: ManifestRenderer, repo: Path, write: Write) -> None:
    write("app/good.yaml", configmap("good"))
    write("app/bad.yaml", configmap("ok") + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {}\n")
    with pytest.raises(RenderError) as caught:
        render(renderer, repo, SourceSpec(REPO_URL, path="app"))
    assert caught.value.location == "app/bad.yaml:8"


def test_not_utf8_is_a_render_error(renderer: ManifestRenderer, repo: Path) -> None:
    (repo / "app").mkdir()
    (repo / "app" / "latin1.yaml").write_bytes(b"data: caf\xe9\n")
    with pytest.raises(RenderError, match="not UTF-8"):
        render(renderer, repo, SourceSpec(REPO_URL, path="app"))


def test_missing_application_path(renderer: ManifestRenderer, repo: Path) -> None:
    with pytest.raises(RenderError, match="not a directory"):
        render(renderer, repo, SourceSpec(REPO_URL, path="nowhere"))


def test_application_path_may_not_climb_out(renderer: ManifestRenderer, repo: Path) -> None:
    with pytest.raises(PathEscapeError):
        render(renderer, repo, SourceSpec(REPO_URL, path="../"))


def test_symlinked_file_leading_outside_is_refused(
    renderer: ManifestRenderer, repo: Path, write: Write, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text(configmap("stolen"))
    write("app/a.yaml", configmap("a"))
    (repo / "app" / "link.yaml").symlink_to(outside)
    with pytest.raises(PathEscapeError, match=r"app/link\.yaml"):
        render(renderer, repo, SourceSpec(REPO_URL, path="app"))


def test_symlinked_directory_leading_outside_is_refused(
    renderer: ManifestRenderer, repo: Path, write: Write, tmp_path: Path
) -> None:
    (tmp_path / "elsewhere").mkdir()
    write("app/a.yaml", configmap("a"))
    (repo / "app" / "sub").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    with pytest.raises(PathEscapeError):
        render(renderer, repo, directory(recurse=True))


def test_symlink_inside_the_repository_is_followed(
    renderer: ManifestRenderer, repo: Path, write: Write
) -> None:
    write("shared/common.yaml", configmap("common"))
    write("app/a.yaml", configmap("a"))
    (repo / "app" / "common.yaml").symlink_to(repo / "shared" / "common.yaml")
    found = render(renderer, repo, SourceSpec(REPO_URL, path="app"))
    assert names(found) == ["a", "common"]
    assert str(found[1].source) == "app/common.yaml:1"


# --------------------------------------------------------------------------- determinism

FILE_NAMES = st.lists(
    st.from_regex(r"[a-z][a-z0-9-]{0,8}\.(yaml|yml|json)", fullmatch=True),
    min_size=1,
    max_size=8,
    unique_by=lambda name: name.rsplit(".", 1)[0],
)


def _write_tree(root: Path, files: list[str], order: list[int]) -> None:
    for index in order:
        name = files[index]
        sub = root / "app" / ("nested" if index % 3 == 0 else "")
        sub.mkdir(parents=True, exist_ok=True)
        stem = name.rsplit(".", 1)[0]
        kinds = ["ConfigMap", "Secret"] if index % 2 else ["Secret", "ConfigMap"]
        if name.endswith(".json"):
            body = {"apiVersion": "v1", "kind": kinds[0], "metadata": {"name": stem}}
            (sub / name).write_text(json.dumps(body))
        else:
            docs = [
                f'apiVersion: v1\nkind: {kind}\nmetadata: {{name: "{stem}"}}\n' for kind in kinds
            ]
            (sub / name).write_text("---\n".join(docs))


def _rendered(tools: RenderTools, files: list[str], order: list[int]) -> list[tuple[str, str]]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _write_tree(root, files, order)
        renderer = ManifestRenderer(tools, cache_size=0)
        found = render(renderer, root, directory(recurse=True))
        return [(str(r.key), str(r.source)) for r in found]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(files=FILE_NAMES, seed=st.randoms(use_true_random=False))
def test_output_does_not_depend_on_file_creation_order(
    tools: RenderTools, files: list[str], seed: random.Random
) -> None:
    forward = list(range(len(files)))
    shuffled = forward.copy()
    seed.shuffle(shuffled)
    expected = _rendered(tools, files, forward)
    assert _rendered(tools, files, shuffled) == expected
    assert [key for key, _ in expected] == sorted(
        (key for key, _ in expected), key=lambda shown: (shown.split()[0], shown.split()[-1])
    )


def test_jsonnet_libraries_alone_are_an_error_naming_the_ignored_files(
    renderer: ManifestRenderer, repo: Path, write: Write
) -> None:
    # Libraries are read through imports only: a path holding nothing else renders nothing.
    write("jsonnet-guestbook/params.libsonnet", "{ replicas: 1 }\n")
    write("jsonnet-guestbook/README.md", "# guestbook\n")
    with pytest.raises(RenderError, match="nothing to render") as caught:
        render(renderer, repo, SourceSpec(REPO_URL, path="jsonnet-guestbook"))
    message = str(caught.value)
    assert "params.libsonnet: a Jsonnet library, read through imports" in message
    assert "README.md: documentation" in message
    assert caught.value.location == "jsonnet-guestbook"
    assert caught.value.hint is not None


@pytest.mark.parametrize(
    ("case"),
    [
        ({"app/deploy.tf": "resource {}\n"}, DirectoryOptions(), "deploy.tf: not YAML or JSON"),
        (
            {"app/a.yaml": configmap("a")},
            DirectoryOptions(include="*.json"),
            "a.yaml: left out by directory.include",
        ),
        (
            {"app/a.yaml": configmap("a")},
            DirectoryOptions(exclude="a*"),
            "a.yaml: left out by directory.exclude",
        ),
        (
            {"app/sub/a.yaml": configmap("a")},
            DirectoryOptions(),
            "sub/: a subdirectory with manifests, read only with recurse",
        ),
    ],
)
def test_a_path_that_renders_nothing_says_why(
    renderer: ManifestRenderer,
    repo: Path,
    write: Write,
    case: tuple[dict[str, str], DirectoryOptions, str],
) -> None:
    files, options, why = case
    for name, text in files.items():
        write(name, text)
    with pytest.raises(RenderError, match="nothing to render") as caught:
        render(renderer, repo, SourceSpec(REPO_URL, path="app", directory=options))
    assert why in str(caught.value)


@pytest.mark.parametrize(
    "files",
    [
        {"app/empty.yaml": "# nothing to deploy on purpose\n"},
        {"app/README.md": "emptied\n", "app/LICENSE": "MIT\n", "app/docs/notes.txt": "x\n"},
        {"app/.gitkeep": ""},
    ],
)
def test_a_path_emptied_on_purpose_renders_no_objects(
    renderer: ManifestRenderer, repo: Path, write: Write, files: dict[str, str]
) -> None:
    for name, text in files.items():
        write(name, text)
    assert render(renderer, repo, SourceSpec(REPO_URL, path="app")) == []
