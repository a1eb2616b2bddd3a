"""Targets: which clusters an app reaches, named how, customised how (pure)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from gitward.errors import ConfigError
from gitward.fleet.targets import expand, instance_name, merge_values
from gitward.model import AppSpec
from gitward.spec.application import parse_application
from gitward.spec.clusters import ClusterSpec

CLUSTERS = {
    "eu-1": ClusterSpec("eu-1", labels=(("env", "prod"), ("region", "eu"))),
    "us-1": ClusterSpec("us-1", labels=(("env", "prod"), ("region", "us"))),
    "dev": ClusterSpec("dev", labels=(("env", "dev"),)),
}


def app(targets: list[dict[str, Any]], **spec: Any) -> AppSpec:
    doc = {
        "apiVersion": "gitward.dev/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "web"},
        "spec": {
            "source": {
                "repoURL": "https://git.example.com/r.git",
                "path": "web",
                "helm": {"values": "image: {tag: v1}\nreplicas: 1\n"},
            },
            "destination": {"namespace": "web"},
            "targets": targets,
            **spec,
        },
    }
    return parse_application(doc, "apps.yaml")


def test_a_selector_reaches_exactly_the_matching_clusters_with_their_customisation() -> None:
    web = app(
        [
            {
                "name": "eu",
                "clusterSelector": {"matchLabels": {"region": "eu"}},
                "namespace": "web-eu",
                "helm": {"values": {"replicas": 3}},
            },
            {
                "clusterSelector": {
                    "matchExpressions": [{"key": "env", "operator": "In", "values": ["prod"]}]
                },
                "kustomize": {"dir": "overlays/prod"},
            },
        ]
    )
    result = expand({"web": web}, CLUSTERS)
    assert sorted(result.apps) == ["web.eu-1", "web.us-1"]
    eu, us = result.apps["web.eu-1"], result.apps["web.us-1"]
    assert (eu.destination.name, eu.destination.namespace) == ("eu-1", "web-eu")
    assert eu.source.helm is not None
    assert yaml.safe_load(eu.source.helm.values or "") == {"image": {"tag": "v1"}, "replicas": 3}
    assert (us.destination.namespace, us.source.path) == ("web", "web/overlays/prod")
    assert eu.owner == us.owner == "Application/web"
    assert eu.targets == ()
    assert result.problems == {}


def test_relabelling_a_cluster_moves_the_app() -> None:
    web = app([{"clusterSelector": {"matchLabels": {"env": "dev"}}}])
    assert sorted(expand({"web": web}, CLUSTERS).apps) == ["web.dev"]
    moved = {
        **CLUSTERS,
        "dev": ClusterSpec("dev"),
        "us-1": ClusterSpec("us-1", labels=(("env", "dev"),)),
    }
    assert sorted(expand({"web": web}, moved).apps) == ["web.us-1"]


@pytest.mark.parametrize(
    ("targets", "problem"),
    [
        (
            [{"clusterSelector": {"matchLabels": {"env": "qa"}}}],
            "targets[0] clusterSelector env=qa: matches no cluster",
        ),
        (
            [{"name": "x", "clusterName": "mars"}],
            "targets[0] (x) clusterName 'mars': no such cluster is declared "
            "(known: dev, eu-1, us-1)",
        ),
    ],
)
def test_a_target_matching_nothing_is_reported_on_the_app(
    targets: list[dict[str, Any]], problem: str
) -> None:
    result = expand({"web": app(targets)}, CLUSTERS)
    assert result.apps == {}
    assert result.problems["web"] == (
        problem,
        "no target matches any cluster: the app is deployed nowhere",
    )


def test_one_bad_target_does_not_stop_the_good_ones() -> None:
    result = expand({"web": app([{"clusterName": "mars"}, {"clusterName": "dev"}])}, CLUSTERS)
    assert sorted(result.apps) == ["web.dev"]
    assert len(result.problems["web"]) == 1


def test_a_cluster_takes_the_first_target_that_matches_it() -> None:
    web = app(
        [
            {"clusterName": "eu-1", "namespace": "first"},
            {"clusterSelector": {}, "namespace": "rest"},
        ]
    )
    result = expand({"web": web}, CLUSTERS)
    assert result.apps["web.eu-1"].destination.namespace == "first"
    assert result.apps["web.dev"].destination.namespace == "rest"


def test_in_cluster_is_a_target_by_name_only() -> None:
    result = expand({"web": app([{"clusterName": "in-cluster"}])}, CLUSTERS)
    assert list(result.apps) == ["web.in-cluster"]
    assert not expand({"web": app([{"clusterSelector": {}}])}, {}).apps


@pytest.mark.parametrize(
    ("targets", "extra", "message"),
    [
        ([{"clusterName": "a", "clusterSelector": {}}], {}, "clusterName or clusterSelector"),
        ([{}], {}, "clusterName or clusterSelector: give exactly one"),
        (
            [{"clusterSelector": {"matchExpressions": [{"key": "a", "operator": "Near"}]}}],
            {},
            "'Near' is not one of In, NotIn, Exists, DoesNotExist",
        ),
        (
            [{"clusterSelector": {"matchExpressions": [{"key": "a", "operator": "In"}]}}],
            {},
            "must list at least one value for In",
        ),
        ([{"clusterName": "a", "kustomize": {"dir": "../x"}}], {}, "must be a relative path"),
        (
            [{"clusterName": "a"}],
            {"destination": {"name": "dev"}},
            "sets both spec.targets and destination.name",
        ),
        (
            [{"clusterName": "a"}],
            {"rollout": {"stages": [{"name": "c"}]}},
            "clusterSelector is required",
        ),
        (
            [{"clusterName": "a"}],
            {"rollout": {"stages": [{"name": "c", "clusterSelector": {}}], "maxUnavailable": 0}},
            "maxUnavailable must be a whole number",
        ),
    ],
)
def test_bad_targets_are_errors_naming_the_field(
    targets: list[dict[str, Any]], extra: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=r"apps\.yaml") as caught:
        app(targets, **extra)
    assert message in str(caught.value)


APP_NAMES = st.from_regex(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", fullmatch=True)
CLUSTER_NAMES = st.from_regex(r"[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?", fullmatch=True)


@given(APP_NAMES, CLUSTER_NAMES, CLUSTER_NAMES)
def test_instance_names_are_stable_valid_labels_and_distinct(
    app_name: str, cluster: str, other: str
) -> None:
    name = instance_name(app_name, cluster)
    assert name == instance_name(app_name, cluster)
    assert len(name) <= 63
    assert all(c.isalnum() or c in "-." for c in name)
    assert name[0].isalnum()
    assert name[-1].isalnum()
    assert (name == instance_name(app_name, other)) == (cluster == other)


def test_a_short_pair_is_named_plainly_and_a_long_one_with_a_hash() -> None:
    assert instance_name("web", "eu-1") == "web.eu-1"
    long = instance_name("a" * 40, "b" * 40)
    assert len(long) == 63
    assert long.startswith("a" * 26 + ".")


def test_helm_values_merge_key_by_key() -> None:
    merged = yaml.safe_load(merge_values("a: {b: 1, c: 2}\nl: [1]\n", "a: {c: 3}\nl: [2]\n"))
    assert merged == {"a": {"b": 1, "c": 3}, "l": [2]}


def test_two_pairs_that_meet_on_one_name_are_a_problem_not_a_silent_overwrite() -> None:
    dotted = {"a.b": ClusterSpec("a.b"), "b": ClusterSpec("b")}
    first = app([{"clusterName": "b"}])
    web_a = dataclasses.replace(first, name="web.a")
    web = dataclasses.replace(app([{"clusterName": "a.b"}]), name="web")
    result = expand({"web": web, "web.a": web_a}, dotted)
    assert sorted(result.apps) == ["web.a.b"]
    assert "instance 'web.a.b' on 'b': another app has that name" in str(result.problems)
