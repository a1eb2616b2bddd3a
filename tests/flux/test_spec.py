"""Flux documents from Flux's own examples, read as gitward apps; unknown fields refused."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from gitward.errors import ConfigError
from gitward.model import Decryption, PostBuild, VariableSource
from gitward.spec.declarations import parse_declarations

# The shape of Flux's "podinfo" getting-started example.
GIT_REPOSITORY = """
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: podinfo
  namespace: flux-system
spec:
  interval: 1m0s
  url: https://github.com/stefanprodan/podinfo
  ref:
    branch: master
"""
KUSTOMIZATION = """
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: podinfo
  namespace: flux-system
spec:
  interval: 30m0s
  path: ./kustomize
  prune: true
  retryInterval: 2m0s
  sourceRef:
    kind: GitRepository
    name: podinfo
  targetNamespace: default
  timeout: 3m0s
  wait: true
  postBuild:
    substitute:
      cluster_env: "prod"
      cluster_region: "eu-central-1"
    substituteFrom:
      - kind: ConfigMap
        name: cluster-vars
      - kind: Secret
        name: cluster-secret-vars
        optional: true
"""


def docs(*texts: str) -> list[tuple[str, Any]]:
    return [(f"flux-{i}.yaml", yaml.safe_load(t)) for i, t in enumerate(texts)]


def test_podinfo_kustomization_becomes_an_app_with_its_git_source() -> None:
    # Kustomization first: the order of files does not matter.
    app = parse_declarations(docs(KUSTOMIZATION, GIT_REPOSITORY)).apps["podinfo"]
    assert app.source.repo_url == "https://github.com/stefanprodan/podinfo"
    assert app.source.target_revision == "refs/heads/master"
    assert app.source.path == "kustomize"
    assert app.destination.namespace == "default"
    policy = app.sync_policy
    assert (policy.automated, policy.self_heal, policy.prune) == (True, True, True)
    assert app.post_build == PostBuild(
        substitute=(("cluster_env", "prod"), ("cluster_region", "eu-central-1")),
        substitute_from=(
            VariableSource("ConfigMap", "cluster-vars"),
            VariableSource("Secret", "cluster-secret-vars", optional=True),
        ),
        namespace="flux-system",
        target_namespace="default",
    )


@pytest.mark.parametrize(
    ("ref", "revision"),
    [
        ({"branch": "main"}, "refs/heads/main"),
        ({"tag": "6.0.0"}, "refs/tags/6.0.0"),
        ({"semver": ">=6.0.0 <7.0.0", "tag": "6.0.0"}, ">=6.0.0 <7.0.0"),
        ({"name": "refs/pull/1/head", "semver": "6.x"}, "refs/pull/1/head"),
        ({"commit": "A" * 40, "branch": "main"}, "a" * 40),
        (None, "refs/heads/master"),
    ],
)
def test_git_reference_follows_fluxs_precedence(ref: dict[str, str] | None, revision: str) -> None:
    source = yaml.safe_load(GIT_REPOSITORY)
    source["spec"].pop("ref")
    if ref is not None:
        source["spec"]["ref"] = ref
    found = parse_declarations([("s.yaml", source), *docs(KUSTOMIZATION)])
    assert found.apps["podinfo"].source.target_revision == revision


def test_file_url_is_kept_as_a_git_url() -> None:
    source = yaml.safe_load(GIT_REPOSITORY)
    source["spec"]["url"] = "file:///srv/git/podinfo"
    app = parse_declarations([("s.yaml", source), *docs(KUSTOMIZATION)]).apps["podinfo"]
    assert app.source.repo_url == "file:///srv/git/podinfo"


def test_depends_on_names_other_kustomizations() -> None:
    app = yaml.safe_load(KUSTOMIZATION)
    app["spec"]["dependsOn"] = [{"name": "infra"}, {"name": "crds", "namespace": "flux-system"}]
    infra = yaml.safe_load(KUSTOMIZATION)
    infra["metadata"]["name"] = "infra"
    crds = yaml.safe_load(KUSTOMIZATION)
    crds["metadata"]["name"] = "crds"
    found = parse_declarations([*docs(GIT_REPOSITORY), ("a", app), ("b", infra), ("c", crds)])
    assert found.apps["podinfo"].depends_on == ("infra", "crds")


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("spec", "prunne"), True, "flux-1.yaml: Kustomization spec.prunne is not a known field"),
        (
            ("spec", "serviceAccountName"),
            "deployer",
            "flux-1.yaml: Kustomization spec.serviceAccountName is not supported by gitward "
            "(impersonating a service account",
        ),
        (
            ("spec", "postBuild", "substituteFrom"),
            [{"kind": "ConfigMap", "name": "x", "optonal": True}],
            "flux-1.yaml: Kustomization spec.postBuild.substituteFrom[0].optonal is not a known",
        ),
        (
            ("spec", "postBuild", "substitute"),
            {"replicas": 3},
            "spec.postBuild.substitute must be a mapping of strings (quote numbers",
        ),
        (("spec", "interval"), "ten minutes", "spec.interval 'ten minutes' is not a duration"),
        (
            ("spec", "healthChecks"),
            [{"kind": "Deployment", "name": "x"}],
            "spec.healthChecks is not supported by gitward",
        ),
        (
            ("spec", "sourceRef", "name"),
            "nope",
            "spec.sourceRef.name names GitRepository flux-system/nope, which is not declared "
            "(known: GitRepository flux-system/podinfo)",
        ),
    ],
)
def test_fields_gitward_does_not_implement_are_named(
    path: tuple[str, ...], value: object, message: str
) -> None:
    doc = yaml.safe_load(KUSTOMIZATION)
    doc["spec"]["wait"] = False
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(ConfigError) as raised:
        parse_declarations([("flux-0.yaml", yaml.safe_load(GIT_REPOSITORY)), ("flux-1.yaml", doc)])
    assert message in str(raised.value)


def test_an_unknown_git_repository_field_names_file_and_field() -> None:
    source = yaml.safe_load(GIT_REPOSITORY)
    source["spec"]["recurseSubmodules"] = True
    with pytest.raises(ConfigError, match=r"^src\.yaml: GitRepository spec.recurseSubmodules is"):
        parse_declarations([("src.yaml", source), *docs(KUSTOMIZATION)])


def test_an_unknown_flux_kind_is_refused() -> None:
    bucket = {"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "Bucket", "metadata": {}}
    with pytest.raises(ConfigError) as raised:
        parse_declarations([("b.yaml", bucket)])
    assert str(raised.value).startswith("b.yaml: Bucket in source.toolkit.fluxcd.io/v1 is not")


def test_images_patches_and_name_affixes_become_kustomize_options() -> None:
    doc = yaml.safe_load(KUSTOMIZATION)
    doc["spec"].update(
        {
            "images": [
                {"name": "podinfo", "newName": "registry.local/podinfo", "newTag": "6.13.0"},
                {"name": "redis", "digest": "sha256:" + "a" * 64},
            ],
            "patches": [
                {"patch": "- op: remove\n  path: /spec/replicas", "target": {"kind": "Deployment"}}
            ],
            "namePrefix": "prod-",
        }
    )
    app = parse_declarations([*docs(GIT_REPOSITORY), ("k.yaml", doc)]).apps["podinfo"]
    kustomize = app.source.kustomize
    assert kustomize is not None
    assert kustomize.images == ("podinfo=registry.local/podinfo:6.13.0", "redis@sha256:" + "a" * 64)
    assert kustomize.name_prefix == "prod-"
    [patch] = kustomize.patches
    assert json.loads(patch) == {
        "patch": "- op: remove\n  path: /spec/replicas",
        "target": {"kind": "Deployment"},
    }


def test_decryption_secret_is_read_from_the_kustomizations_namespace() -> None:
    doc = yaml.safe_load(KUSTOMIZATION)
    doc["spec"]["decryption"] = {"provider": "sops", "secretRef": {"name": "sops-age"}}
    app = parse_declarations([*docs(GIT_REPOSITORY), ("k.yaml", doc)]).apps["podinfo"]
    assert app.decryption == Decryption("sops", "sops-age", namespace="flux-system")
    assert app.destination.namespace == "default"  # the objects still go to targetNamespace


def test_git_credentials_secret_is_read_from_the_git_repositorys_namespace() -> None:
    source = yaml.safe_load(GIT_REPOSITORY)
    source["spec"]["secretRef"] = {"name": "podinfo-auth"}
    app = parse_declarations([("s.yaml", source), *docs(KUSTOMIZATION)]).apps["podinfo"]
    assert (app.source.secret_ref, app.source.secret_namespace) == ("podinfo-auth", "flux-system")
    assert app.destination.namespace == "default"  # the objects still go to targetNamespace
