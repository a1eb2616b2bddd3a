"""``gitward validate`` refuses a broken RolePolicy, so a pull request can catch it.

serve keeps the last good policy when a revision's is broken (tests/ui/test_roles_*),
which keeps access safe but silently stale: CI should fail first. A real run of the CLI
on a real Git repository; no cluster.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.engine.conftest import GitRepo

APP = """apiVersion: gitward.dev/v1alpha1
kind: Application
metadata: {name: web}
spec:
  source: {repoURL: https://git.example.com/web.git, path: web}
  destination: {namespace: web}
"""
POLICY = """apiVersion: gitward.dev/v1alpha1
kind: RolePolicy
metadata: {name: roles}
spec:
  bindings: [{group: devs, roles: [%s]}]
"""


CONFIG = ("--config-path", "config")


def validate(repo: GitRepo) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gitward", "validate", "--repo", str(repo.path), *CONFIG],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200"},
        timeout=300,
        check=False,
    )


def test_validate_names_the_file_and_field_of_a_broken_role_policy(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.write({"config/web.yaml": APP, "config/roles.yaml": POLICY % "deployer"})
    repo.commit()
    result = validate(repo)
    assert result.returncode == 2
    said = " ".join(result.stderr.split())
    expected = "config/roles.yaml: spec: bindings[1]: unknown role 'deployer'"
    assert f"the RolePolicy would not load: {expected}" in said
