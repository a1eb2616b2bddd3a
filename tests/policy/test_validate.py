"""`gitward validate`: a config tree in a real Git repository, real OPA, no cluster."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from tests.engine.conftest import GitRepo
from tests.policy import policies as p

URL = "https://git.example.com/platform.git"


def app_doc(name: str, path: str, namespace: str, project: str = "team") -> str:
    return f"""\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {{name: {name}}}
spec:
  project: {project}
  source: {{repoURL: {URL}, path: {path}, targetRevision: main}}
  destination: {{namespace: {namespace}}}
"""


def gitward(*args: str, opa: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GITWARD_OPA": str(opa), "NO_COLOR": "1", "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "gitward", "validate", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )


@pytest.fixture
def tree(repo: GitRepo) -> GitRepo:
    repo.write(
        {
            "config/apps.yaml": "---\n".join(
                [
                    app_doc("web", "apps/web", "team-web"),
                    app_doc("admin", "apps/admin", "team-admin"),
                    app_doc("clean", "apps/clean", "team-clean"),
                ]
            ),
            "config/project.yaml": p.NO_CLUSTER_ROLES_PROJECT,
            "apps/web/web.yaml": p.deployment("web", "nginx:latest", limits=False, replicas=5),
            "apps/admin/role.yaml": "apiVersion: rbac.authorization.k8s.io/v1\n"
            "kind: ClusterRole\nmetadata: {name: extra}\nrules: []\n",
            "apps/clean/api.yaml": p.deployment("api", "nginx:1.27", team=None),
            "policies/no-latest.rego": p.NO_LATEST_REGO,
            "policies/limits.rego": p.LIMITS_REGO,
            "policies/team.rego": p.TEAM_LABEL_REGO,
            "policies/replicas.yaml": p.MAX_REPLICAS_VAP,
        }
    )
    repo.commit("apps and policies")
    return repo


def run_json(tree: GitRepo, opa: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    result = gitward(
        "--repo",
        str(tree.path),
        "--config-path",
        "config",
        "--repo-url",
        URL,
        "--policy",
        str(tree.path / "policies"),
        "-o",
        "json",
        *extra,
        opa=opa,
    )
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout)


def messages(report: dict[str, Any], app: str) -> list[tuple[str, str, str, str]]:
    [entry] = [a for a in report["apps"] if a["name"] == app]
    return [(v["mode"], v["object"], v["policy"], v["message"]) for v in entry["violations"]]


def test_every_app_is_rendered_and_checked_and_the_run_fails(
    tree: GitRepo, opa_binary: Path
) -> None:
    code, report = run_json(tree, opa_binary)
    assert code == 1
    assert report["result"] == "failed"
    assert messages(report, "web") == [
        (
            "deny",
            "Deployment.apps team-web/web",
            "kubernetes.images",
            'container "app" uses the :latest tag',
        ),
        (
            "deny",
            "Deployment.apps team-web/web",
            "kubernetes.limits",
            'container "app" of Deployment web has no resource limits',
        ),
        ("deny", "Deployment.apps team-web/web", "max-replicas", "at most 3 replicas, got 5"),
    ]
    assert messages(report, "admin") == [
        (
            "deny",
            "ClusterRole.rbac.authorization.k8s.io extra",
            "AppProject/team",
            "cluster-scoped kind rbac.authorization.k8s.io/ClusterRole is not permitted in "
            "project 'team' (clusterResourceWhitelist does not list it)",
        ),
    ]
    assert messages(report, "clean") == [
        (
            "warn",
            "Deployment.apps team-clean/api",
            "kubernetes.labels",
            "Deployment api has no team label",
        ),
    ]
    assert report["revision"] == tree.git("rev-parse", "HEAD")


def test_warnings_alone_pass(repo: GitRepo, opa_binary: Path) -> None:
    repo.write(
        {
            "config/apps.yaml": app_doc("clean", "apps/clean", "team-clean", project="default"),
            "apps/clean/api.yaml": p.deployment("api", "nginx:1.27", team=None),
            "policies/team.rego": p.TEAM_LABEL_REGO,
            "policies/no-latest.rego": p.NO_LATEST_REGO,
        }
    )
    repo.commit()
    code, report = run_json(repo, opa_binary)
    assert code == 0
    assert report["counts"] == {
        "apps": 1,
        "objects": 1,
        "denied": 0,
        "warnings": 1,
        "renderErrors": 0,
    }


def test_schema_errors_duplicates_and_render_errors(repo: GitRepo, opa_binary: Path) -> None:
    crd = Path(__file__).with_name("widget-crd.yaml").read_text()
    repo.write(
        {
            "config/apps.yaml": "---\n".join(
                [
                    app_doc("one", "apps/one", "team-x", project="default"),
                    app_doc("two", "apps/two", "team-x", project="default"),
                    app_doc("broken", "apps/broken", "team-x", project="default"),
                ]
            ),
            "apps/one/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shared}\n"
            "data: {a: b}\n---\n" + crd + "---\napiVersion: example.com/v1\nkind: Widget\n"
            "metadata: {name: w}\nspec: {size: 0}\n",
            "apps/two/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shared}\n"
            "datas: {a: b}\n",
            "apps/broken/bad.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x\n",
            "policies/no-latest.rego": p.NO_LATEST_REGO,
        }
    )
    repo.commit()
    code, report = run_json(repo, opa_binary)
    assert code == 1
    by_app = {a["name"]: a for a in report["apps"]}
    assert by_app["broken"]["error"] is not None
    assert "apps/broken/bad.yaml" in by_app["broken"]["error"]
    one = [(v["policy"], v["rule"], v["object"]) for v in by_app["one"]["violations"]]
    assert ("duplicates", "one owner per object", "ConfigMap team-x/shared") in one
    assert ("schema", "spec.size", "Widget.example.com w") in one
    two = [(v["policy"], v["rule"], v["message"]) for v in by_app["two"]["violations"]]
    assert (
        "schema",
        "(object)",
        "Additional properties are not allowed ('datas' was unexpected)",
    ) in two
    assert any(v[0] == "duplicates" and "one" in v[2] for v in two)


def test_junit_and_sarif_for_ci(tree: GitRepo, opa_binary: Path) -> None:
    base = [
        "--repo",
        str(tree.path),
        "--config-path",
        "config",
        "--repo-url",
        URL,
        "--policy",
        str(tree.path / "policies"),
    ]
    junit = gitward(*base, "-o", "junit", opa=opa_binary)
    assert junit.returncode == 1
    suites = ET.fromstring(junit.stdout)  # noqa: S314 - our own output
    web = suites.find("testsuite[@name='web']")
    assert web is not None
    assert web.get("failures") == "1"
    failures = [f.get("message") for f in web.iter("failure")]
    assert "at most 3 replicas, got 5" in failures
    sarif = json.loads(gitward(*base, "-o", "sarif", opa=opa_binary).stdout)
    results = sarif["runs"][0]["results"]
    latest = [r for r in results if "uses the :latest tag" in r["message"]["text"]]
    [location] = latest[0]["locations"]
    assert location["physicalLocation"]["artifactLocation"]["uri"] == "apps/web/web.yaml"
    assert location["physicalLocation"]["region"]["startLine"] == 1
    assert latest[0]["level"] == "error"


def test_malformed_rego_is_an_error_naming_file_and_line(tree: GitRepo, opa_binary: Path) -> None:
    (tree.path / "policies" / "bad.rego").write_text(
        "package bad\n\ndeny contains msg if {\n\tmsg := nope(input)\n}\n"
    )
    result = gitward(
        "--repo",
        str(tree.path),
        "--path",
        "apps/web",
        "--policy",
        str(tree.path / "policies"),
        opa=opa_binary,
    )
    assert result.returncode == 2
    assert "bad.rego:4" in result.stderr
    assert "undefined function nope" in result.stderr


def test_a_project_naming_an_unknown_cluster_is_an_error(tree: GitRepo, opa_binary: Path) -> None:
    tree.write(
        {
            "config/project.yaml": p.NO_CLUSTER_ROLES_PROJECT.replace(
                "    - server: '*'\n", "    - name: prod-eu\n"
            )
        }
    )
    tree.commit()
    result = gitward("--repo", str(tree.path), "--config-path", "config", opa=opa_binary)
    assert result.returncode == 2
    assert "AppProject 'team' names cluster 'prod-eu'" in result.stderr
