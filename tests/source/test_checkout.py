"""Checked-out trees: read-only, made once per SHA, never written or read outside."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import pytest

from gitward.errors import PathEscapeError, SourceError
from gitward.model import Revision
from gitward.source import GitRepositorySource, app_directory

from .gitfixtures import GitRepo, git


def test_checkout_writes_files_links_and_modes_read_only(
    source: GitRepositorySource, repo: GitRepo
) -> None:
    (repo.work / "run.sh").write_text("#!/bin/sh\n")
    (repo.work / "run.sh").chmod(0o755)
    repo.symlink("app/link.yaml", "deploy.yaml")
    tree = source.checkout(source.resolve(str(repo.bare), "main"))

    assert (tree / "app" / "deploy.yaml").read_text() == "kind: ConfigMap\n"
    assert (tree / "app" / "link.yaml").readlink() == Path("deploy.yaml")
    assert stat.S_IMODE((tree / "run.sh").stat().st_mode) == 0o555
    assert stat.S_IMODE((tree / "README.md").stat().st_mode) == 0o444
    for directory in (tree, tree / "app"):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o555
    assert not (tree / ".git").exists()
    assert [p.name for p in tree.parent.iterdir()] == [tree.name]  # no staging left over


def test_a_second_checkout_touches_neither_network_nor_mirror(
    source: GitRepositorySource, repo: GitRepo, tmp_path: Path
) -> None:
    revision = source.resolve(str(repo.bare), "main")
    first = source.checkout(revision)
    for mirror in (tmp_path / "cache" / "mirrors").glob("*.git"):
        mirror.rename(mirror.with_suffix(".gone"))
    repo.bare.rename(tmp_path / "gone.git")
    assert source.checkout(revision) == first


def test_concurrent_checkouts_of_one_sha_share_one_tree(
    source: GitRepositorySource, repo: GitRepo, tmp_path: Path
) -> None:
    revision = source.resolve(str(repo.bare), "main")
    others = [GitRepositorySource(tmp_path / "cache") for _ in range(6)]
    results: list[Path] = []
    threads = [
        threading.Thread(target=lambda s=s: results.append(s.checkout(revision))) for s in others
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 6
    assert len(set(results)) == 1
    assert sorted(p.name for p in results[0].parent.iterdir()) == [revision.sha]


def test_checkout_fetches_a_commit_the_mirror_lacks(
    source: GitRepositorySource, repo: GitRepo, tmp_path: Path
) -> None:
    sha = git(repo.work, "rev-parse", "HEAD")
    fresh = GitRepositorySource(tmp_path / "other-cache")
    tree = fresh.checkout(Revision(str(repo.bare), sha, sha))
    assert (tree / "README.md").is_file()


def test_checkout_refuses_a_sha_that_is_not_one(source: GitRepositorySource) -> None:
    with pytest.raises(SourceError):
        source.checkout(Revision("/x", "main", "../../etc"))


def _evil_commit(repo: GitRepo, name: bytes) -> str:
    """A commit whose tree holds an entry git itself refuses to write (``..``, ``.git``)."""
    blob = git(repo.bare, "hash-object", "-w", "--stdin", stdin=b"pwned\n")
    entry = b"100644 " + name + b"\x00" + bytes.fromhex(blob)
    tree = git(repo.bare, "hash-object", "-w", "-t", "tree", "--literally", "--stdin", stdin=entry)
    outer = b"40000 sub\x00" + bytes.fromhex(tree)
    root = git(repo.bare, "hash-object", "-w", "-t", "tree", "--literally", "--stdin", stdin=outer)
    commit = git(repo.bare, "commit-tree", root, "-m", "evil")
    git(repo.bare, "update-ref", "refs/heads/evil", commit)
    return commit


@pytest.mark.parametrize("name", [b"..", b".git", b".GIT", b"a/b"])
def test_tree_entries_that_could_escape_are_refused(
    source: GitRepositorySource, repo: GitRepo, tmp_path: Path, name: bytes
) -> None:
    sha = _evil_commit(repo, name)
    revision = source.resolve(str(repo.bare), "evil")
    assert revision.sha == sha
    with pytest.raises(PathEscapeError) as caught:
        source.checkout(revision)
    assert revision.short in str(caught.value)
    trees = tmp_path / "cache" / "trees"
    assert list(trees.iterdir()) == []  # nothing half-written is left
    assert not (tmp_path / "cache" / "pwned").exists()


def test_app_directory_accepts_paths_inside(source: GitRepositorySource, repo: GitRepo) -> None:
    tree = source.checkout(source.resolve(str(repo.bare), "main"))
    assert app_directory(tree, "app") == tree / "app"
    assert app_directory(tree, "./app/") == tree / "app"
    assert app_directory(tree, ".") == tree


@pytest.mark.parametrize("path", ["..", "../app", "app/../..", "/etc", "/"])
def test_app_directory_refuses_paths_outside(
    source: GitRepositorySource, repo: GitRepo, path: str
) -> None:
    tree = source.checkout(source.resolve(str(repo.bare), "main"))
    with pytest.raises(PathEscapeError):
        app_directory(tree, path)


def test_escaping_symlinks_are_refused_only_where_the_app_reads(
    source: GitRepositorySource, repo: GitRepo
) -> None:
    repo.commit({"other/x.yaml": "a: 1\n"})
    repo.symlink("other/passwd", "../../../../../../etc/passwd")
    repo.symlink("escape", "/etc")
    tree = source.checkout(source.resolve(str(repo.bare), "main"))
    assert (tree / "escape").readlink() == Path("/etc")  # written as a link, not followed
    assert app_directory(tree, "app") == tree / "app"  # the app never reads them
    with pytest.raises(PathEscapeError):
        app_directory(tree, "other")
    with pytest.raises(PathEscapeError):
        app_directory(tree, "escape")
    with pytest.raises(PathEscapeError):
        app_directory(tree, ".")


def test_app_directory_must_be_a_directory(source: GitRepositorySource, repo: GitRepo) -> None:
    tree = source.checkout(source.resolve(str(repo.bare), "main"))
    with pytest.raises(SourceError, match="not a directory"):
        app_directory(tree, "README.md")
