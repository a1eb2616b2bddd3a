"""Generators and their combination, over parsed documents and a tree on disk."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gitward.appsets.expand import expand
from gitward.appsets.generators import Context, generate, template_data
from gitward.appsets.model import AppSetSpec
from gitward.appsets.parse import parse_appset
from gitward.errors import ConfigError
from gitward.spec.clusters import ClusterSpec

CLUSTERS = {
    "prod-eu": ClusterSpec("prod-eu", "/k/eu", labels=(("env", "prod"), ("region", "eu"))),
    "prod-us": ClusterSpec("prod-us", "/k/us", labels=(("env", "prod"), ("region", "us"))),
    "staging": ClusterSpec("staging", "/k/st", labels=(("env", "staging"),)),
}


def appset(generators: list[Any], *, go: bool = True, name: str = "{{.name}}") -> AppSetSpec:
    spec: dict[str, Any] = {
        "generators": generators,
        "template": {
            "metadata": {"name": name},
            "spec": {
                "source": {"repoURL": "https://git.example.com/apps.git", "path": "x"},
                "destination": {"namespace": "default"},
            },
        },
    }
    if go:
        spec |= {"goTemplate": True, "goTemplateOptions": ["missingkey=error"]}
    doc = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "ApplicationSet",
        "metadata": {"name": "set"},
        "spec": spec,
    }
    return parse_appset(doc, "sets.yaml")


def ctx(tree: Path | None = None, *, go: bool = True) -> Context:
    return Context(CLUSTERS, lambda _repo, _rev: tree or Path("/nonexistent"), go)


def values(spec: AppSetSpec, tree: Path | None = None) -> list[dict[str, Any]]:
    return [dict(p.values) for p in generate(spec.generators[0], ctx(tree, go=spec.go_template))]


def test_list_elements_are_parameter_sets_in_order() -> None:
    spec = appset([{"list": {"elements": [{"name": "b", "n": 1}, {"name": "a", "n": 2}]}}])
    assert values(spec) == [{"name": "b", "n": 1}, {"name": "a", "n": 2}]
    assert sorted(expand(spec, ctx())) == ["a", "b"]


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ({"matchLabels": {"env": "prod"}}, ["prod-eu", "prod-us"]),
        (
            {"matchExpressions": [{"key": "region", "operator": "In", "values": ["us"]}]},
            ["prod-us"],
        ),
        ({"matchExpressions": [{"key": "region", "operator": "DoesNotExist"}]}, ["staging"]),
        (
            {"matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["prod"]}]},
            ["staging"],
        ),
        ({"matchLabels": {"env": "qa"}}, []),
        ({}, ["in-cluster", "prod-eu", "prod-us", "staging"]),
    ],
)
def test_clusters_are_selected_by_label(selector: dict[str, Any], expected: list[str]) -> None:
    spec = appset([{"clusters": {"selector": selector}}])
    assert [v["name"] for v in values(spec)] == expected


def test_cluster_labels_and_values_are_template_values() -> None:
    gen = {
        "clusters": {
            "selector": {"matchLabels": {"region": "eu"}},
            "values": {"tier": '{{index .metadata.labels "env"}}-1'},
        }
    }
    name = '{{.name}}-{{index .metadata.labels "region"}}-{{.values.tier}}'
    assert list(expand(appset([gen], name=name), ctx())) == ["prod-eu-eu-prod-1"]
    fast = appset(
        [{"clusters": {"selector": {"matchLabels": {"region": "eu"}}}}],
        go=False,
        name="{{name}}-{{metadata.labels.env}}",
    )
    assert list(expand(fast, ctx(go=False))) == ["prod-eu-prod"]


def tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


def test_git_directories_match_globs_minus_excluded(tmp_path: Path) -> None:
    root = tree(
        tmp_path,
        {
            "apps/web/a.yaml": "",
            "apps/api/a.yaml": "",
            "apps/old/a.yaml": "",
            "apps/web/sub/b.yaml": "",
            ".hidden/x.yaml": "",
            "README": "",
        },
    )
    gen = {
        "git": {
            "repoURL": "r",
            "revision": "main",
            "directories": [{"path": "apps/*"}, {"path": "apps/old", "exclude": True}],
        }
    }
    spec = appset([gen], name="{{.path.basename}}-{{index .path.segments 0}}")
    assert list(expand(spec, ctx(root))) == ["api-apps", "web-apps"]
    fast = appset([gen], go=False, name="{{path.basename}}-{{path[0]}}")
    assert list(expand(fast, ctx(root, go=False))) == ["api-apps", "web-apps"]
    assert values(spec, root)[0]["path"]["path"] == "apps/api"


def test_git_files_yield_their_content_and_path(tmp_path: Path) -> None:
    root = tree(
        tmp_path,
        {
            "clusters/eu/config.json": '{"cluster": {"name": "eu", "zone": "a"}}',
            "clusters/us/config.yaml": "cluster: {name: us, zone: b}\n",
            "clusters/many/list.yaml": (
                "- cluster: {name: x1, zone: c}\n- cluster: {name: x2, zone: d}\n"
            ),
        },
    )
    gen = {
        "git": {
            "repoURL": "r",
            "files": [{"path": "clusters/**/*.json"}, {"path": "clusters/*/*.yaml"}],
        }
    }
    spec = appset([gen], name="{{.cluster.name}}-{{.path.basename}}-{{.cluster.zone}}")
    assert list(expand(spec, ctx(root))) == ["eu-eu-a", "x1-many-c", "x2-many-d", "us-us-b"]
    fast = appset([gen], go=False, name="{{cluster.name}}-{{path[1]}}-{{path.basenameNormalized}}")
    assert "us-us-us" in expand(fast, ctx(root, go=False))
    first = values(spec, root)[0]
    assert first["path"] | {"segments": None} == {
        "path": "clusters/eu",
        "basename": "eu",
        "basenameNormalized": "eu",
        "segments": None,
        "filename": "config.json",
        "filenameNormalized": "config.json",
    }


@pytest.mark.parametrize("path", ["aps/*", "apps/missing", "clusters/*/x.yaml"])
def test_a_git_path_that_does_not_exist_is_an_error(tmp_path: Path, path: str) -> None:
    root = tree(tmp_path, {"apps/web/a.yaml": ""})
    kind = "files" if path.endswith(".yaml") else "directories"
    spec = appset([{"git": {"repoURL": "r", kind: [{"path": path}]}}], name="n")
    with pytest.raises(ConfigError, match="does not exist in r at HEAD"):
        expand(spec, ctx(root))


def test_matrix_combines_every_pair_and_the_second_may_use_the_first(tmp_path: Path) -> None:
    root = tree(tmp_path, {"apps/web/a.yaml": "", "apps/api/a.yaml": "", "other/db/a.yaml": ""})
    gen = {
        "matrix": {
            "generators": [
                {
                    "list": {
                        "elements": [{"env": "dev", "dir": "apps"}, {"env": "qa", "dir": "other"}]
                    }
                },
                {"git": {"repoURL": "r", "directories": [{"path": "{{.dir}}/*"}]}},
            ]
        }
    }
    spec = appset([gen], name="{{.env}}-{{.path.basename}}")
    assert list(expand(spec, ctx(root))) == ["dev-api", "dev-web", "qa-db"]


def test_matrix_of_clusters_and_list() -> None:
    gen = {
        "matrix": {
            "generators": [
                {"clusters": {"selector": {"matchLabels": {"env": "prod"}}}},
                {"list": {"elements": [{"app": "web"}, {"app": "api"}]}},
            ]
        }
    }
    assert sorted(expand(appset([gen], name="{{.app}}-{{.name}}"), ctx())) == [
        "api-prod-eu",
        "api-prod-us",
        "web-prod-eu",
        "web-prod-us",
    ]


def test_matrix_with_a_conflicting_key_names_both_elements() -> None:
    gen = {
        "matrix": {
            "generators": [
                {"list": {"elements": [{"name": "a"}]}},
                {"list": {"elements": [{"name": "b"}]}},
            ]
        }
    }
    with pytest.raises(ConfigError, match="'a' from list element 0 but 'b' from list element 0"):
        expand(appset([gen]), ctx())


def test_merge_overrides_base_sets_that_agree_on_the_merge_keys() -> None:
    gen = {
        "merge": {
            "mergeKeys": ["name"],
            "generators": [
                {
                    "clusters": {
                        "selector": {"matchLabels": {"env": "prod"}},
                        "values": {"size": "s"},
                    }
                },
                {
                    "list": {
                        "elements": [
                            {"name": "prod-us", "values": {"size": "xl"}},
                            {"name": "nowhere", "values": {"size": "m"}},
                        ]
                    }
                },
            ],
        }
    }
    spec = appset([gen], name="{{.name}}-{{.values.size}}")
    assert sorted(expand(spec, ctx())) == ["prod-eu-s", "prod-us-xl"]


def test_merge_refuses_two_sets_with_the_same_key() -> None:
    gen = {
        "merge": {
            "mergeKeys": ["name"],
            "generators": [
                {"list": {"elements": [{"name": "a"}]}},
                {"list": {"elements": [{"name": "a", "x": 1}, {"name": "a", "x": 2}]}},
            ],
        }
    }
    with pytest.raises(ConfigError, match="list element 0 and list element 1 share the merge key"):
        expand(appset([gen]), ctx())


def test_duplicate_generated_names_name_both_elements() -> None:
    spec = appset([{"list": {"elements": [{"name": "a"}, {"name": "b"}, {"name": "a"}]}}])
    with pytest.raises(
        ConfigError,
        match=r"'a' is generated twice: by .*list element 0.* "
        r"and by .*list element 2",
    ):
        expand(spec, ctx())


def test_an_unknown_key_names_the_generator_element_and_key() -> None:
    spec = appset([{"list": {"elements": [{"name": "a"}, {"nme": "b"}]}}])
    with pytest.raises(
        ConfigError,
        match=r"spec.generators\[0\] \(list element 1\): unknown "
        r"template key .name",
    ):
        expand(spec, ctx())


def test_generated_apps_are_owned_by_the_set() -> None:
    spec = appset([{"list": {"elements": [{"name": "a"}]}}])
    assert expand(spec, ctx())["a"].owner == "ApplicationSet/set"


def test_a_generator_selector_filters_its_parameter_sets() -> None:
    gen = {
        "list": {"elements": [{"name": "a", "tier": "x"}, {"name": "b", "tier": "y"}]},
        "selector": {"matchLabels": {"tier": "y"}},
    }
    assert list(expand(appset([gen]), ctx())) == ["b"]


@pytest.mark.parametrize(
    ("generator", "message"),
    [
        ({"pullRequest": {}}, "not supported by gitward yet .the pull request generator"),
        ({"lists": {}}, "lists is not a generator kind"),
        ({"list": {}, "clusters": {}}, "exactly one generator"),
        ({"matrix": {"generators": [{"list": {"elements": []}}]}}, "exactly two generators"),
        ({"merge": {"generators": [{"list": {}}, {"list": {}}]}}, "mergeKeys is required"),
        (
            {
                "matrix": {
                    "generators": [
                        {"matrix": {"generators": [{"matrix": {"generators": []}}, {"list": {}}]}},
                        {"list": {}},
                    ]
                }
            },
            "nests matrix too deeply",
        ),
        ({"git": {"repoURL": "r"}}, "needs either directories or files"),
        (
            {"clusters": {"selector": {"matchExpressions": [{"key": "a", "operator": "Near"}]}}},
            "'Near' must be one of",
        ),
        ({"list": {"elements": [], "extra": 1}}, "extra is not a known field"),
    ],
)
def test_bad_generators_are_refused_when_the_set_is_read(
    generator: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        appset([generator])


def test_unsupported_go_template_options_are_refused() -> None:
    doc = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "ApplicationSet",
        "metadata": {"name": "s"},
        "spec": {
            "goTemplate": True,
            "goTemplateOptions": ["missingkey=zero"],
            "generators": [{"list": {"elements": []}}],
            "template": {},
        },
    }
    with pytest.raises(ConfigError, match="always treats a missing key as an error"):
        parse_appset(doc, "s.yaml")


names = st.lists(st.from_regex(r"[a-z][a-z0-9]{0,6}", fullmatch=True), unique=True, max_size=6)


@given(names, names)
def test_matrix_size_is_the_product_of_its_children(first: list[str], second: list[str]) -> None:
    gen = {
        "matrix": {
            "generators": [
                {"list": {"elements": [{"a": a} for a in first]}},
                {"list": {"elements": [{"b": b} for b in second]}},
            ]
        }
    }
    apps = expand(appset([gen], name="{{.a}}-{{.b}}"), ctx())
    assert sorted(apps) == sorted(f"{a}-{b}" for a in first for b in second)


@given(names)
def test_flat_and_nested_parameters_agree(keys: list[str]) -> None:
    nested = {"top": {k: k.upper() for k in keys}}
    flat = template_data(nested, go=False)
    assert all(flat[f"top.{k}"] == k.upper() for k in keys)
