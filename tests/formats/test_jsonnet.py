"""Jsonnet directory sources, evaluated by go-jsonnet in a child process: Argo CD's
jsonnet-guestbook examples, ext vars, top-level arguments, libs; imports confined to the
repository; a file that never finishes is stopped."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from gitward.errors import PathEscapeError, RenderError
from gitward.model import DirectoryOptions, JsonnetOptions, JsonnetVariable, Resource, SourceSpec
from gitward.ports import RenderRequest
from gitward.render import ManifestRenderer, RenderTools

from .conftest import EXAMPLES


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(EXAMPLES / "argocd-example-apps", root)
    return root


def render(
    renderer: ManifestRenderer, root: Path, path: str, jsonnet: JsonnetOptions | None = None
) -> list[Resource]:
    options = DirectoryOptions(jsonnet=jsonnet) if jsonnet else None
    source = SourceSpec(repo_url="file:///x", path=path, directory=options)
    return renderer.render(RenderRequest(root=root, sha="0" * 40, source=source, app_name="a"))


def test_argo_cd_jsonnet_guestbook_renders_its_service_and_deployment(
    renderer: ManifestRenderer, tree: Path
) -> None:
    started = time.perf_counter()
    resources = render(renderer, tree, "jsonnet-guestbook")
    elapsed = time.perf_counter() - started
    assert sorted((r.key.kind, r.key.name) for r in resources) == [
        ("Deployment", "jsonnet-guestbook-ui"),
        ("Service", "jsonnet-guestbook-ui"),
    ]
    by_kind = {r.key.kind: r for r in resources}
    deploy = by_kind["Deployment"].body
    assert deploy["spec"]["template"]["spec"]["containers"][0]["image"] == (
        "gcr.io/google-samples/gb-frontend:v5"
    )
    assert by_kind["Service"].body["spec"]["type"] == "LoadBalancer"
    assert str(by_kind["Deployment"].source).startswith("jsonnet-guestbook/guestbook-ui.jsonnet")
    print(f"jsonnet-guestbook rendered in {elapsed * 1000:.0f} ms")


def test_top_level_arguments_as_strings_and_code(renderer: ManifestRenderer, tree: Path) -> None:
    tlas = (
        JsonnetVariable("name", "tla-ui"),
        JsonnetVariable("replicas", "1 + 2", code=True),
        JsonnetVariable("type", "ClusterIP"),
    )
    resources = render(renderer, tree, "jsonnet-guestbook-tla", JsonnetOptions(tlas=tlas))
    deploy = next(r for r in resources if r.key.kind == "Deployment")
    assert (deploy.key.name, deploy.body["spec"]["replicas"]) == ("tla-ui", 3)
    service = next(r for r in resources if r.key.kind == "Service")
    assert service.body["spec"]["type"] == "ClusterIP"


def test_ext_vars_and_libs_inside_the_repository(renderer: ManifestRenderer, tree: Path) -> None:
    (tree / "vendor").mkdir()
    (tree / "vendor" / "cm.libsonnet").write_text(
        "{ cm(name, data): { apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: name}, "
        "data: data } }"
    )
    (tree / "app").mkdir()
    (tree / "app" / "main.jsonnet").write_text(
        "local lib = import 'cm.libsonnet';\n"
        "{ apiVersion: 'v1', kind: 'List', items: [lib.cm(std.extVar('env'), "
        "{ n: std.toString(std.extVar('n')) })] }\n"
    )
    ext = (JsonnetVariable("env", "prod"), JsonnetVariable("n", "6 * 7", code=True))
    [cm] = render(renderer, tree, "app", JsonnetOptions(ext_vars=ext, libs=("vendor",)))
    assert (cm.key.name, cm.body["data"]) == ("prod", {"n": "42"})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("importstr '/etc/passwd'", "import '/etc/passwd' is an absolute path"),
        ("import '../../../../../../etc/hostname'", "leads outside the repository"),
        ("import 'nowhere.libsonnet'", "import 'nowhere.libsonnet' not found"),
    ],
)
def test_imports_outside_the_repository_are_refused(
    renderer: ManifestRenderer, tree: Path, text: str, message: str
) -> None:
    (tree / "bad").mkdir()
    (tree / "bad" / "x.jsonnet").write_text(text)
    with pytest.raises(RenderError, match=message) as caught:
        render(renderer, tree, "bad")
    assert "bad/x.jsonnet" in str(caught.value)
    assert "root:" not in str(caught.value)  # nothing of /etc/passwd is read


def test_a_symlink_out_of_the_repository_is_refused(renderer: ManifestRenderer, tree: Path) -> None:
    (tree / "bad").mkdir()
    (tree / "bad" / "p.libsonnet").symlink_to("/etc/passwd")
    (tree / "bad" / "x.jsonnet").write_text("importstr 'p.libsonnet'")
    with pytest.raises(RenderError, match="leads outside the repository"):
        render(renderer, tree, "bad")


def test_a_lib_path_outside_the_repository_is_refused(
    renderer: ManifestRenderer, tree: Path
) -> None:
    with pytest.raises(PathEscapeError, match=r"libs entry '\.\./\.\.' leads outside"):
        render(renderer, tree, "jsonnet-guestbook", JsonnetOptions(libs=("../..",)))


def test_a_file_that_loops_forever_is_stopped_at_the_deadline(
    tools: RenderTools, tree: Path
) -> None:
    # 10^10 additions in constant memory: only the deadline can stop it.
    (tree / "loop").mkdir()
    (tree / "loop" / "x.jsonnet").write_text(
        "local inner(a) = std.foldl(function(b, j) b + 1, std.range(1, 100000), a);\n"
        "std.foldl(function(a, i) inner(a), std.range(1, 100000), 0)\n"
    )
    renderer = ManifestRenderer(tools, timeout=3.0, cache_size=0)
    started = time.monotonic()
    with pytest.raises(RenderError, match=r"loop/x.jsonnet did not finish within 3 s"):
        render(renderer, tree, "loop")
    assert time.monotonic() - started < 20


def test_a_recursion_without_end_is_reported_without_the_go_runtime_dump(
    tools: RenderTools, tree: Path
) -> None:
    # tailstrict recursion deepens go-jsonnet's own Go stack until the runtime aborts.
    (tree / "deep").mkdir()
    (tree / "deep" / "x.jsonnet").write_text("local f(x) = f(x + 1) tailstrict;\nf(0)\n")
    renderer = ManifestRenderer(tools, timeout=300.0, cache_size=0)
    with pytest.raises(RenderError) as caught:
        render(renderer, tree, "deep")
    message = str(caught.value)
    assert "deep/x.jsonnet overflowed the evaluator's stack and was stopped" in message
    assert "recursion that never ends" in message
    assert "goroutine" not in message
    assert len(message.splitlines()) <= 3


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("'just a string'", "item 0"),
        ("{ apiVersion: 'v1' }", "kind"),
        ("error 'no cluster named ' + 'x'", "RUNTIME ERROR: no cluster named x"),
    ],
)
def test_output_that_is_not_objects_is_an_error(
    renderer: ManifestRenderer, tree: Path, text: str, message: str
) -> None:
    (tree / "bad").mkdir()
    (tree / "bad" / "x.jsonnet").write_text(text)
    with pytest.raises(RenderError, match=message):
        render(renderer, tree, "bad")


def test_output_larger_than_the_bound_is_stopped(renderer: ManifestRenderer, tree: Path) -> None:
    (tree / "big").mkdir()
    kib = "x" * 1024
    (tree / "big" / "x.jsonnet").write_text(
        f"local s = '{kib}';\n{{ apiVersion: 'v1', kind: 'ConfigMap', metadata: {{name: 'big'}},"
        " data: {a: std.makeArray(17 * 1024, function(i) s)} }"
    )
    with pytest.raises(RenderError, match="jsonnet wrote more than 16 MiB and was stopped"):
        render(renderer, tree, "big")
