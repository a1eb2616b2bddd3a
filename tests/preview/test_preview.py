"""`gitward preview` on two commits of a real Git repository with three apps, no cluster."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from tests.engine.conftest import GitRepo
from tests.policy import policies as p

URL = "https://git.example.com/platform.git"
OLD_PASSWORD = "hunter2-old-plaintext"
NEW_PASSWORD = "s3cr3t-new-plaintext"


def app_doc(name: str, namespace: str) -> str:
    return f"""\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {{name: {name}}}
spec:
  source: {{repoURL: {URL}, path: apps/{name}, targetRevision: main}}
  destination: {{name: prod-eu, namespace: {namespace}}}
"""


CLUSTER = """\
apiVersion: gitward.dev/v1alpha1
kind: Cluster
metadata: {name: prod-eu}
spec: {context: prod-eu}
"""


def secret(password: str) -> str:
    return f"""\
apiVersion: v1
kind: Secret
metadata: {{name: db-credentials}}
stringData: {{password: {password}, user: admin}}
"""


def config_map(name: str, value: str) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\ndata: {{k: {value}}}\n"


@pytest.fixture
def commits(repo: GitRepo) -> tuple[GitRepo, str, str]:
    """Base: three apps. Head: web's image and replicas change, api's Secret value
    changes, one ConfigMap is added and one removed in api; db is untouched."""
    repo.write(
        {
            "config/apps.yaml": "---\n".join(app_doc(n, f"team-{n}") for n in ("web", "api", "db")),
            "config/cluster.yaml": CLUSTER,
            "apps/web/web.yaml": p.deployment("web", "nginx:1.27"),
            "apps/api/secret.yaml": secret(OLD_PASSWORD),
            "apps/api/old.yaml": config_map("old-settings", "one"),
            "apps/api/same.yaml": config_map("same", "x"),
            "apps/db/db.yaml": p.deployment("db", "postgres:17"),
            "policies/replicas.yaml": p.MAX_REPLICAS_VAP,
        }
    )
    base = repo.commit("base")
    repo.write(
        {
            "apps/web/web.yaml": p.deployment("web", "nginx:1.28", replicas=5),
            "apps/api/secret.yaml": secret(NEW_PASSWORD),
            "apps/api/new.yaml": config_map("new-settings", "two"),
        }
    )
    repo.remove("apps/api/old.yaml")
    head = repo.commit("head")
    return repo, base, head


def preview(repo: GitRepo, base: str, head: str, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    args = ["--repo", str(repo.path), "--base", base, "--head", head, "--repo-url", URL]
    return subprocess.run(
        [sys.executable, "-m", "gitward", "preview", *args, "--config-path", "config", *extra],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )


def objects(report: dict[str, Any], app: str) -> list[tuple[str, str]]:
    [entry] = [a for a in report["apps"] if a["name"] == app]
    return [(o["action"], o["object"]) for o in entry["objects"]]


def test_json_reports_exactly_the_changed_apps_and_objects(
    commits: tuple[GitRepo, str, str],
) -> None:
    repo, base, head = commits
    result = preview(repo, base, head, "-o", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["base"], report["head"], report["mode"]) == (base, head, "render")
    assert [a["name"] for a in report["apps"]] == ["api", "web"]
    assert report["unchangedApps"] == 1
    assert report["clusters"] == ["prod-eu"]
    assert objects(report, "api") == [
        ("create", "ConfigMap team-api/new-settings"),
        ("prune", "ConfigMap team-api/old-settings"),
        ("update", "Secret team-api/db-credentials"),
    ]
    assert objects(report, "web") == [("update", "Deployment.apps team-web/web")]
    [web] = [a for a in report["apps"] if a["name"] == "web"]
    assert "-      - image: nginx:1.27" in web["objects"][0]["diff"]
    assert "+      - image: nginx:1.28" in web["objects"][0]["diff"]
    [api] = [a for a in report["apps"] if a["name"] == "api"]
    secret_diff = api["objects"][2]["diff"]
    assert "password: ++++" in secret_diff  # the change is shown, masked
    for plaintext in (OLD_PASSWORD, NEW_PASSWORD, "admin"):
        assert plaintext not in result.stdout
        assert plaintext not in result.stderr


def test_markdown_is_a_pr_comment_with_the_policy_verdict(
    commits: tuple[GitRepo, str, str],
) -> None:
    repo, base, head = commits
    result = preview(repo, base, head, "--policy", str(repo.path / "policies"))
    assert result.returncode == 1, result.stderr  # web's 5 replicas are denied
    text = result.stdout
    first = text.splitlines()[0]
    assert first == (
        "### gitward preview: 2 app(s) change, 4 object(s) (1 created, 2 updated, 1 deleted) "
        "on `prod-eu`; policy: **denied**"
    )
    assert text.count("<details>") == 2
    assert text.count("</details>") == 2
    assert "| web (changed) | prod-eu | team-web | ~1 | ❌ 1 denied |" in text
    assert "| api (changed) | prod-eu | team-api | +1 ~2 -1 |" not in text
    assert "| api (changed) | prod-eu | team-api | +1 ~1 -1 | ✅ passed |" in text
    assert "- **deny** `Deployment.apps team-web/web`: at most 3 replicas, got 5" in text
    assert "db" not in [line.split("|")[1].strip() for line in text.splitlines() if "|" in line]
    for plaintext in (OLD_PASSWORD, NEW_PASSWORD):
        assert plaintext not in text
        assert plaintext not in result.stderr


def test_markdown_stays_under_its_size_limit_and_says_what_it_left_out(
    commits: tuple[GitRepo, str, str],
) -> None:
    repo, base, head = commits
    result = preview(repo, base, head, "--max-chars", "1500")
    assert result.returncode == 0, result.stderr
    assert len(result.stdout) <= 1500
    assert "**Truncated:**" in result.stdout
    assert "(diff left out: size limit)" in result.stdout
    assert result.stdout.count("<details>") == 2  # every app is still listed


def test_no_changes_between_equal_commits(commits: tuple[GitRepo, str, str]) -> None:
    repo, _, head = commits
    result = preview(repo, head, head, "-o", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["apps"] == []
    assert report["unchangedApps"] == 3
