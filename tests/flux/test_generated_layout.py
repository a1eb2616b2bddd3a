"""A Flux Kustomization whose path has no kustomization file, built as Flux builds it:
every .yaml/.yml of the tree, each subfolder holding a kustomization built by the real
kustomize; a file that is not Kubernetes YAML is an error naming it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from gitward.errors import ConfigError, RenderError
from gitward.model import KustomizeOptions, Resource, SourceSpec
from gitward.ports import RenderRequest
from gitward.render import ManifestRenderer, RenderTools
from gitward.spec.declarations import parse_declarations
from gitward.spec.flux.appdoc import application
from gitward.toolchain import Toolchain

from .test_chart_kinds import OCI_REPOSITORY
from .test_spec import GIT_REPOSITORY, KUSTOMIZATION


@pytest.fixture(scope="module")
def tools() -> RenderTools:
    """The real kustomize and helm."""
    chain = Toolchain()
    return RenderTools(kustomize=chain.path("kustomize"), helm=chain.path("helm"))


def cm(name: str) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  v: '1'\n"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A cluster folder as Flux users lay it out: loose files at two depths, a folder
    built by Kustomize (its own base outside the path), a hidden folder, a README."""
    files = {
        "clusters/prod/ns.yaml": cm("top"),
        "clusters/prod/README.md": "# prod\n",
        "clusters/prod/infra/deep/cm.yml": cm("deep"),
        "clusters/prod/infra/notes.txt": "not a manifest\n",
        "clusters/prod/apps/kustomization.yaml": "resources: [../../../base]\nnamePrefix: app-\n",
        "clusters/prod/apps/ignored.yaml": cm("not-listed-by-the-kustomization"),
        "clusters/prod/.hidden/x.yaml": cm("hidden"),
        "base/kustomization.yaml": "resources: [cm.yaml]\n",
        "base/cm.yaml": cm("base"),
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


def flux_source() -> SourceSpec:
    """The source the Flux documents declare (path ./clusters/prod, generate on)."""
    kustomization = yaml.safe_load(KUSTOMIZATION)
    kustomization["spec"]["path"] = "./clusters/prod"
    declared = parse_declarations(
        [("s.yaml", yaml.safe_load(GIT_REPOSITORY)), ("k.yaml", kustomization)]
    )
    return declared.apps["podinfo"].source


def render(tools: RenderTools, root: Path, source: SourceSpec) -> list[Resource]:
    renderer = ManifestRenderer(tools, timeout=30.0, cache_size=0)
    request = RenderRequest(root=root, sha="0" * 40, source=source, app_name="a")
    return renderer.render(request)


def names(resources: list[Resource]) -> list[str]:
    return sorted(r.key.name for r in resources)


def test_the_whole_tree_and_kustomize_subfolders_as_flux_generates_them(
    tools: RenderTools, tree: Path
) -> None:
    source = flux_source()
    assert source.kustomize == KustomizeOptions(generate=True)
    assert names(render(tools, tree, source)) == ["app-base", "deep", "top"]


def test_a_path_with_its_own_kustomization_is_built_by_it(tools: RenderTools, tree: Path) -> None:
    (tree / "clusters/prod/kustomization.yaml").write_text("resources: [ns.yaml]\n")
    assert names(render(tools, tree, flux_source())) == ["top"]


def test_an_application_without_generate_reads_only_the_folder_itself(
    tools: RenderTools, tree: Path
) -> None:
    (tree / "clusters/prod/infra/deep/cm.yml").unlink()
    plain = SourceSpec(repo_url="file:///x", path="clusters/prod")
    assert names(render(tools, tree, plain)) == ["top"]


def test_a_yaml_file_that_is_not_kubernetes_is_an_error_naming_it(
    tools: RenderTools, tree: Path
) -> None:
    (tree / "clusters/prod/infra/values.yaml").write_text("replicas: 3\n")
    with pytest.raises(RenderError, match=r"clusters/prod/infra/values.yaml"):
        render(tools, tree, flux_source())


def test_images_on_a_path_without_kustomization_are_refused_clearly(
    tools: RenderTools, tree: Path
) -> None:
    edited = KustomizeOptions(images=("nginx:1.27",), generate=True)
    with pytest.raises(RenderError, match="need a kustomization file in the path"):
        render(
            tools, tree, SourceSpec(repo_url="file:///x", path="clusters/prod", kustomize=edited)
        )


def test_an_application_may_ask_for_the_flux_layout() -> None:
    doc = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "prod"},
        "spec": {
            "source": {
                "repoURL": "https://g.example/r.git",
                "path": "clusters/prod",
                "kustomize": {"generate": True},
            },
            "destination": {"namespace": "default"},
        },
    }
    source = parse_declarations([("a.yaml", doc)]).apps["prod"].source
    assert source.kustomize == KustomizeOptions(generate=True)


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def test_files_flux_leaves_out_of_its_artifact_are_not_applied(
    tools: RenderTools, tree: Path
) -> None:
    """Flux's defaults (a CI file next to the manifests) and the repository's
    .sourceignore files (root and nested, each for its own folder; ``!`` takes a file
    back) leave the same files out as Flux's source-controller does."""
    write(
        tree,
        {
            ".sourceignore": "# test data is not deployed\nfixtures/\n*.draft.yaml\n",
            "clusters/prod/cloudbuild.yaml": "steps: [{name: gcr.io/cloud-builders/docker}]\n",
            "clusters/prod/fixtures/cm.yaml": cm("fixture"),
            "clusters/prod/wip.draft.yaml": cm("draft"),
            "clusters/prod/infra/.sourceignore": "deep/\n!keep.draft.yaml\n",
            "clusters/prod/infra/keep.draft.yaml": cm("kept-draft"),
            "clusters/prod/infra/other/deep/cm.yaml": cm("deep-under-infra"),
            "clusters/prod/other/deep/cm.yaml": cm("deep-elsewhere"),
            "clusters/prod/fixtures/kustomization.yaml": "resources: [cm.yaml]\n",
        },
    )
    assert names(render(tools, tree, flux_source())) == [
        "app-base",
        "deep-elsewhere",  # infra/.sourceignore's "deep/" applies under infra/ only
        "kept-draft",
        "top",
    ]


def test_a_path_whose_every_file_is_ignored_is_an_error_not_an_empty_app(
    tools: RenderTools, tmp_path: Path
) -> None:
    """Applying nothing would prune everything the app had: say why nothing was read."""
    write(tmp_path, {".sourceignore": "clusters/\n", "clusters/prod/cm.yaml": cm("x")})
    with pytest.raises(RenderError) as failed:
        render(tools, tmp_path, flux_source())
    assert "cm.yaml: left out by Flux's .sourceignore rules" in str(failed.value)


def test_an_application_without_generate_ignores_no_file(tools: RenderTools, tree: Path) -> None:
    """.sourceignore is Flux's: a plain directory app reads every manifest."""
    write(tree, {".sourceignore": "*.yaml\n"})
    source = SourceSpec(repo_url="https://example.invalid/r.git", path="clusters/prod")
    assert names(render(tools, tree, source)) == ["top"]


def flux_source_ignoring(patterns: str) -> SourceSpec:
    repository = yaml.safe_load(GIT_REPOSITORY)
    repository["spec"]["ignore"] = patterns
    kustomization = yaml.safe_load(KUSTOMIZATION)
    kustomization["spec"]["path"] = "./clusters/prod"
    declared = parse_declarations([("s.yaml", repository), ("k.yaml", kustomization)])
    return declared.apps["podinfo"].source


def test_the_git_repositorys_ignore_patterns_come_last_and_may_take_files_back(
    tools: RenderTools, tree: Path
) -> None:
    """GitRepository spec.ignore: patterns from the repository's root, after Flux's
    defaults and the .sourceignore files, so they decide."""
    write(
        tree,
        {
            ".sourceignore": "*.extra.yaml\n",
            "clusters/prod/back.extra.yaml": cm("taken-back"),
            "clusters/prod/cloudbuild.yaml": cm("cloudbuild-as-a-manifest"),
        },
    )
    source = flux_source_ignoring("/clusters/prod/infra/\n!back.extra.yaml\n!cloudbuild.yaml\n")
    assert source.kustomize == KustomizeOptions(
        generate=True, ignore="/clusters/prod/infra/\n!back.extra.yaml\n!cloudbuild.yaml\n"
    )
    assert names(render(tools, tree, source)) == [
        "app-base",
        "cloudbuild-as-a-manifest",
        "taken-back",
        "top",
    ]


def test_the_ignore_patterns_survive_the_import_as_an_application() -> None:
    """`gitward import` writes them as the Application's kustomize.ignore, which reads
    back as the same app; ignore without generate is refused."""
    source = flux_source_ignoring("fixtures/\n")
    app = parse_declarations(
        [("s.yaml", yaml.safe_load(GIT_REPOSITORY)), ("k.yaml", yaml.safe_load(KUSTOMIZATION))]
    ).apps["podinfo"]
    written = application(replace(app, source=source))
    assert written["spec"]["source"]["kustomize"] == {"generate": True, "ignore": "fixtures/\n"}
    again = parse_declarations([("app.yaml", written)]).apps["podinfo"]
    assert again.source.kustomize == source.kustomize
    del written["spec"]["source"]["kustomize"]["generate"]
    with pytest.raises(ConfigError, match=r"kustomize\.ignore.*set generate: true"):
        parse_declarations([("app.yaml", written)])


def test_an_oci_repositorys_ignore_patterns_reach_its_kustomizations() -> None:
    """Flux applies OCIRepository spec.ignore to the extracted artifact the same way."""
    repository = yaml.safe_load(OCI_REPOSITORY)
    repository["spec"]["ignore"] = "tests/\n"
    kustomization = yaml.safe_load(KUSTOMIZATION)
    kustomization["metadata"]["namespace"] = "default"
    kustomization["spec"]["sourceRef"] = {"kind": "OCIRepository", "name": "podinfo"}
    declared = parse_declarations([("s.yaml", repository), ("k.yaml", kustomization)])
    assert declared.apps["podinfo"].source.kustomize == KustomizeOptions(
        generate=True, ignore="tests/\n"
    )
