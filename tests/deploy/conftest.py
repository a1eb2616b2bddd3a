"""Helpers for the install tests: kubectl against the dev cluster, gitward as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from gitward.devcluster import ClusterState
from gitward.toolchain import Toolchain


def kubectl(cluster: ClusterState, *args: str, stdin: str | None = None, check: bool = True) -> str:
    binary = Toolchain().ensure(["kubectl"])["kubectl"]
    result = subprocess.run(
        [str(binary), "--kubeconfig", cluster.kubeconfig, *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )
    if check:
        assert result.returncode == 0, f"kubectl {' '.join(args)}: {result.stderr}"
    return result.stdout + result.stderr


def gitward(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gitward", *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
        timeout=600,
    )


def delete_install(cluster: ClusterState, namespace: str) -> None:
    """Remove an install: its namespace and its cluster-scoped RBAC objects."""
    kubectl(cluster, "delete", "namespace", namespace, "--wait=false", "--ignore-not-found")
    for kind in ("clusterrole", "clusterrolebinding"):
        for role in ("read", "write"):
            kubectl(cluster, "delete", kind, f"{namespace}:gitward-{role}", "--ignore-not-found")


def bare_repository(path: Path) -> str:
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(path)], check=True)
    return f"file://{path}"
