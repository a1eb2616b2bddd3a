"""Fixtures for the sync engine: real Git repositories and an Engine on the real cluster."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gitward import compose
from gitward.devcluster import ClusterState
from gitward.kube.client import KubeClient
from gitward.model import AppSpec, Destination, SourceSpec, SyncPolicy
from gitward.reconcile.pipeline import Engine

TESTDATA = Path(__file__).resolve().parents[3] / "shared" / "testdata"


class GitRepo:
    """A real Git repository the test writes to and commits in."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str) -> str:
        result = subprocess.run(
            ["git", "-c", "user.email=test@gitward.dev", "-c", "user.name=test", *args],
            cwd=self.path,
            capture_output=True,
            text=True,
            check=True,
        )
        return result.stdout.strip()

    def write(self, files: dict[str, str]) -> None:
        for name, text in files.items():
            target = self.path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)

    def copy(self, source: Path, dest: str) -> None:
        shutil.copytree(source, self.path / dest, dirs_exist_ok=True)
        for path in (self.path / dest).rglob("*"):
            path.chmod(0o755 if path.is_dir() else 0o644)

    def remove(self, name: str) -> None:
        self.git("rm", "-q", "-r", name)

    def commit(self, message: str = "change") -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    return GitRepo(tmp_path / "repo")


@pytest.fixture
async def cluster(control_plane: ClusterState) -> AsyncIterator[KubeClient]:
    async with KubeClient.from_kubeconfig(control_plane.kubeconfig) as client:
        yield client


@pytest.fixture
def engine(cluster: KubeClient, tmp_path: Path) -> Engine:
    return compose.engine(compose.Settings(cache_dir=tmp_path / "cache"), cluster)


def app(
    repo: GitRepo,
    path: str,
    namespace: str,
    name: str = "app",
    *,
    policy: SyncPolicy | None = None,
    **source: object,
) -> AppSpec:
    # The inventory is per app name and lives in the cluster: keep names unique per test.
    return AppSpec(
        name=f"{name}-{namespace}",
        source=SourceSpec(repo_url=str(repo.path), path=path, **source),  # type: ignore[arg-type]
        destination=Destination(namespace=namespace),
        sync_policy=policy or SyncPolicy(),
    )
