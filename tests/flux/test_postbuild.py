"""The post-build step on rendered objects: target namespace, substitution, opt-out."""

from __future__ import annotations

import pytest

from gitward.errors import RenderError
from gitward.model import PostBuild, Resource
from gitward.render.postbuild import post_build

SUBSTITUTE = PostBuild(substitute=(("replicas", "3"),), namespace="flux-system")


def deployment(**metadata: object) -> Resource:
    return Resource.of(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "podinfo-${env:=dev}", **metadata},
            "spec": {"replicas": "${replicas}"},
        }
    )


def test_values_are_substituted_and_parsed_again_as_yaml() -> None:
    [out] = post_build([deployment()], SUBSTITUTE, {"replicas": "3"})
    assert out.body["spec"]["replicas"] == 3  # a number, as Flux re-reads the YAML
    assert out.key.name == "podinfo-dev"  # the identity follows the new name


@pytest.mark.parametrize("where", ["labels", "annotations"])
def test_the_disabled_annotation_or_label_keeps_the_object_as_written(where: str) -> None:
    marked = deployment(**{where: {"kustomize.toolkit.fluxcd.io/substitute": "disabled"}})
    [out] = post_build([marked], SUBSTITUTE, {"replicas": "3"})
    assert out.body == marked.body


def test_without_variables_declared_nothing_is_substituted() -> None:
    [out] = post_build([deployment()], PostBuild(), {})
    assert out.body["spec"]["replicas"] == "${replicas}"


def test_target_namespace_replaces_a_namespace_written_in_the_object() -> None:
    spec = PostBuild(target_namespace="apps")
    moved, unnamed = post_build([deployment(namespace="other"), deployment()], spec, {})
    assert moved.key.namespace == "apps"
    assert unnamed.key.namespace == ""  # filled with the destination namespace later


def test_a_value_that_breaks_the_yaml_is_reported_without_the_value() -> None:
    secret_value = "s3cr3t: [unclosed"
    with pytest.raises(RenderError) as raised:
        post_build([deployment()], SUBSTITUTE, {"replicas": secret_value})
    assert "not valid YAML" in str(raised.value)
    assert "s3cr3t" not in str(raised.value)
