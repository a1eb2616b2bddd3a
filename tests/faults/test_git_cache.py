"""Git's cache survives a bad server: a stalled fetch is cut by its deadline, a corrupt
pack is refused, and what a killed fetch leaves behind does not block the next one.

Against a real smart-HTTP server (``git http-backend``) that misbehaves on purpose; no
cluster needed. After each fault the mirror must pass ``git fsck`` and the next good
fetch must bring the new commit.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from gitward.errors import SourceError
from gitward.source import GitRepositorySource
from gitward.source.mirror import Mirror
from gitward.source.urls import parse_repo_url
from tests.engine.conftest import GitRepo
from tests.support.git_server import FaultyGitServer

DEADLINE = 10.0  # generous for a loaded machine; the slow server needs minutes


@pytest.fixture
def server(tmp_path: Path) -> Iterator[FaultyGitServer]:
    running = FaultyGitServer(tmp_path)
    yield running
    running.stop()


def fsck(mirror: Path) -> None:
    done = subprocess.run(
        ["git", "--git-dir", str(mirror), "fsck", "--full", "--strict"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def setup(tmp_path: Path, server: FaultyGitServer) -> tuple[GitRepo, str, GitRepositorySource]:
    repo = GitRepo(tmp_path / "repo")
    repo.write({"app/cm.yaml": "a: 1\n"})
    repo.commit("v1")
    source = GitRepositorySource(tmp_path / "cache", fetch_timeout=DEADLINE)
    url = server.url(repo.path / ".git")
    source.resolve(url, "main")  # the mirror exists and holds v1
    return repo, url, source


@pytest.mark.parametrize("mode", ["slow", "corrupt", "down"])
def test_a_failed_fetch_leaves_a_sound_mirror_and_the_next_one_works(
    tmp_path: Path, server: FaultyGitServer, mode: str
) -> None:
    repo, url, source = setup(tmp_path, server)
    repo.write({"app/cm.yaml": "a: 2\n" + "b: x\n" * 2000})
    new = repo.commit("v2")

    server.set_mode(mode)  # type: ignore[arg-type]
    with pytest.raises(SourceError) as caught:
        source.resolve(url, "main")
    assert caught.value.transient  # gitward retries it
    expected = {
        "slow": f"within the fetch deadline of {DEADLINE:g}s",
        "corrupt": "damaged data",
        "down": "failed to connect",
    }[mode]
    assert expected in str(caught.value)
    mirror = Mirror(tmp_path / "cache", parse_repo_url(url)).path
    fsck(mirror)

    server.set_mode("ok")
    assert source.resolve(url, "main").sha == new
    tree = source.checkout(source.resolve(url, new))
    assert (tree / "app" / "cm.yaml").read_text().startswith("a: 2\n")
    fsck(mirror)


def test_lock_files_of_a_fetch_killed_mid_way_do_not_block_the_next(
    tmp_path: Path, server: FaultyGitServer
) -> None:
    """What ``kill -9`` of gitward during a fetch leaves behind: ref locks, a temp pack."""
    repo, url, source = setup(tmp_path, server)
    mirror = Mirror(tmp_path / "cache", parse_repo_url(url)).path
    (mirror / "refs" / "heads" / "main.lock").write_text("0" * 40 + "\n")
    (mirror / "packed-refs.lock").write_text("")
    (mirror / "objects" / "pack" / "pack_git2_a1b2c3").write_bytes(b"PACK\x00\x00")
    repo.write({"app/cm.yaml": "a: 2\n"})
    new = repo.commit("v2")

    assert source.resolve(url, "main").sha == new
    assert not list(mirror.glob("**/*.lock"))
    fsck(mirror)
