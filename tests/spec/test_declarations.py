"""A set of declarations: apps and clusters together, checked as a whole."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gitward.errors import ConfigError
from gitward.spec.declarations import parse_declarations, read_documents


def app(name: str, depends_on: tuple[str, ...] = (), cluster: str | None = None) -> Any:
    spec: dict[str, Any] = {
        "source": {"repoURL": "https://git.example.com/r.git", "path": name},
        "destination": {"namespace": name},
    }
    if depends_on:
        spec["dependsOn"] = list(depends_on)
    if cluster:
        spec["destination"]["name"] = cluster
    return {
        "apiVersion": "gitward.dev/v1alpha1",
        "kind": "Application",
        "metadata": {"name": name},
        "spec": spec,
    }


CLUSTER = {
    "apiVersion": "gitward.dev/v1alpha1",
    "kind": "Cluster",
    "metadata": {"name": "prod", "labels": {"env": "prod"}},
    "spec": {"kubeconfig": "/etc/prod.kubeconfig", "context": "prod"},
}


def test_apps_and_clusters_are_read_together() -> None:
    result = parse_declarations(
        [
            ("apps.yaml", app("web", ("db",), cluster="prod")),
            ("apps.yaml", app("db")),
            ("clusters.yaml", CLUSTER),
        ]
    )
    assert sorted(result.apps) == ["db", "web"]
    assert result.clusters["prod"].context == "prod"
    assert result.clusters["prod"].labels == (("env", "prod"),)


@pytest.mark.parametrize(
    ("documents", "message"),
    [
        (
            [("a.yaml", app("web")), ("b.yaml", app("web"))],
            "Application 'web' is declared twice: in a.yaml and b.yaml",
        ),
        ([("a.yaml", app("web", ("ghost",)))], "dependsOn names unknown app 'ghost'"),
        (
            [
                ("a.yaml", app("a", ("b",))),
                ("b.yaml", app("b", ("c",))),
                ("c.yaml", app("c", ("a",))),
            ],
            "dependsOn forms a cycle: a -> b -> c -> a",
        ),
        ([("a.yaml", app("a", ("a",)))], "dependsOn forms a cycle: a -> a"),
        (
            [("x.yaml", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}})],
            "x.yaml: ConfigMap in v1 is not a gitward declaration",
        ),
        ([("c.yaml", {**CLUSTER, "spec": {"kubeconfig": "/k", "inCluster": True}})], "choose one"),
    ],
)
def test_mistakes_name_the_file(documents: list[tuple[str, Any]], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_declarations(documents)


def test_a_declaration_file_with_an_alias_bomb_is_refused_by_name(tmp_path: Path) -> None:
    lines = ["apiVersion: gitward.dev/v1alpha1", "kind: Application", 'x0: &x0 "lol"']
    lines += [f"x{n}: &x{n} [{', '.join([f'*x{n - 1}'] * 9)}]" for n in range(1, 10)]
    path = tmp_path / "apps" / "bomb.yaml"
    path.parent.mkdir()
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ConfigError, match=r"apps/bomb\.yaml:\d+: YAML aliases expand") as caught:
        read_documents(path, "apps/bomb.yaml")
    assert caught.value.hint is not None


def test_a_huge_declaration_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as handle:
        handle.truncate(100 * 1024 * 1024)
    with pytest.raises(ConfigError, match=r"huge\.yaml: the file is 100\.0 MiB"):
        read_documents(path, "huge.yaml")


def test_declaration_documents_are_read_as_before(tmp_path: Path) -> None:
    path = tmp_path / "two.yaml"
    path.write_text("---\napiVersion: v1\n---\n---\nkind: Cluster\n")
    assert read_documents(path) == [{"apiVersion": "v1"}, {"kind": "Cluster"}]
