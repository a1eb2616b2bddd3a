"""`gitward validate` renders every source of a multi-source app, with its $ref values."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.engine.conftest import GitRepo

from .conftest import EXAMPLES

URL = "https://git.example.com/platform.git"
APP = f"""\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {{name: guestbook}}
spec:
  destination: {{namespace: web}}
  sources:
  - repoURL: {URL}
    path: helm-guestbook
    targetRevision: main
    helm:
      valueFiles: [values.yaml, $values/envs/prod.yaml]
      parameters: [{{name: image.tag, value: "0.3"}}]
  - repoURL: {URL}
    targetRevision: main
    ref: values
  - repoURL: {URL}
    path: extra
    targetRevision: main
"""


def test_validate_renders_all_sources_with_ref_values(repo: GitRepo) -> None:
    repo.copy(EXAMPLES / "argocd-example-apps" / "helm-guestbook", "helm-guestbook")
    repo.write(
        {
            "config/app.yaml": APP,
            "envs/prod.yaml": "replicaCount: 3\n",
            "extra/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra}\n",
        }
    )
    repo.commit()
    args = ["--repo", str(repo.path), "--config-path", "config", "--repo-url", URL, "-o", "json"]
    result = subprocess.run(
        [sys.executable, "-m", "gitward", "validate", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    [app] = json.loads(result.stdout)["apps"]
    assert app["error"] is None
    assert app["objects"] == 3  # the chart's Deployment and Service, and extra's ConfigMap
