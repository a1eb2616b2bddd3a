"""`gitward preview --live`: head compared with the real dev cluster by server-side dry-run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from lightkube import Client
from lightkube.resources.core_v1 import ConfigMap

from gitward.devcluster import ClusterState
from tests.engine.conftest import GitRepo

pytestmark = pytest.mark.cluster

OLD = "live-old-plaintext-9f1"
NEW = "live-new-plaintext-7c2"


def gitward(*args: str, cluster: ClusterState, cache: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "KUBECONFIG": cluster.kubeconfig,
        "GITWARD_CACHE_DIR": str(cache),
        "NO_COLOR": "1",
    }
    return subprocess.run(
        [sys.executable, "-m", "gitward", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )


def files(settings: str, password: str) -> dict[str, str]:
    return {
        "app/a.yaml": f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: a}}\n"
        f"data: {{mode: {settings}}}\n",
        "app/b.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\ndata: {k: v}\n",
        "app/s.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n"
        f"stringData: {{password: {password}}}\n",
    }


def objects(report: dict[str, Any]) -> list[tuple[str, str]]:
    [app] = report["apps"]
    return [(o["action"], o["object"]) for o in app["objects"]]


def test_live_mode_shows_what_merge_changes_in_the_cluster(
    repo: GitRepo, control_plane: ClusterState, kube: Client, namespace: str, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    repo.write(files("blue", OLD))
    base = repo.commit("base")
    source = ("--repo", str(repo.path), "--path", "app", "-n", namespace)
    synced = gitward("sync", *source, "--revision", base, cluster=control_plane, cache=cache)
    assert synced.returncode == 0, synced.stderr
    repo.write(files("green", NEW))
    head = repo.commit("head")
    kube.delete(ConfigMap, "b", namespace=namespace)  # someone removed it by hand
    args = ("preview", *source, "--base", base, "--head", head, "-o", "json")

    offline = gitward(*args, cluster=control_plane, cache=cache)
    live = gitward(*args, "--live", cluster=control_plane, cache=cache)

    assert offline.returncode == 0, offline.stderr
    assert live.returncode == 0, live.stderr
    offline_report, live_report = json.loads(offline.stdout), json.loads(live.stdout)
    assert live_report["mode"] == "live"
    changed = [
        ("update", f"ConfigMap {namespace}/a"),
        ("update", f"Secret {namespace}/s"),
    ]
    assert objects(offline_report) == changed
    # Git did not change b, but merging re-creates it: only the live comparison knows.
    assert sorted(objects(live_report)) == sorted(
        [*changed, ("create", f"ConfigMap {namespace}/b")]
    )
    [a] = [o for o in live_report["apps"][0]["objects"] if o["name"] == "a"]
    assert "-  mode: blue\n+  mode: green" in a["diff"]
    assert "(live)" in a["diff"]
    for result in (offline, live):
        for plaintext in (OLD, NEW):
            assert plaintext not in result.stdout + result.stderr
