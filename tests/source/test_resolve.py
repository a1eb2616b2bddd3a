"""Resolving revisions against real repositories over file:// and plain paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitward.errors import RevisionNotFoundError, SourceError
from gitward.source import GitRepositorySource

from .gitfixtures import GitRepo, git


@pytest.fixture
def released(repo: GitRepo) -> dict[str, str]:
    """Tags and branches on ``repo``; returns the SHA each name should resolve to."""
    shas = {"first": git(repo.work, "rev-parse", "HEAD")}
    repo.tag("v1.2.0", annotated=True)
    shas["v1.2.1"] = repo.commit({"a.txt": "1.2.1\n"})
    repo.tag("v1.2.1")
    shas["1.3.0"] = repo.commit({"a.txt": "1.3.0\n"})
    repo.tag("1.3.0", annotated=True)
    shas["v2.0.0-rc.1"] = repo.commit({"a.txt": "2.0.0-rc.1\n"})
    repo.tag("v2.0.0-rc.1")
    repo.branch("feature/x")
    shas["feature/x"] = repo.commit({"b.txt": "feature\n"})
    repo.switch("main")
    shas["main"] = shas["v2.0.0-rc.1"]
    return shas


@pytest.mark.parametrize(
    ("requested", "expected"),
    [
        ("HEAD", "main"),
        ("", "main"),
        ("main", "main"),
        ("refs/heads/main", "main"),
        ("feature/x", "feature/x"),
        ("v1.2.0", "first"),  # annotated: peeled to the commit
        ("v1.2.1", "v1.2.1"),  # lightweight
        ("1.3.0", "1.3.0"),
        ("refs/tags/1.3.0", "1.3.0"),
        (">=1.2 <2", "1.3.0"),
        ("^1.2", "1.3.0"),
        ("~1.2", "v1.2.1"),
        ("1.2.x", "v1.2.1"),
        ("*", "1.3.0"),
        ("^2.0.0-rc.0", "v2.0.0-rc.1"),
    ],
)
def test_each_kind_of_revision_resolves_to_a_full_sha(
    source: GitRepositorySource,
    repo: GitRepo,
    released: dict[str, str],
    requested: str,
    expected: str,
) -> None:
    for url in (str(repo.bare), f"file://{repo.bare}"):
        revision = source.resolve(url, requested)
        assert revision.sha == released[expected]
        assert revision.requested == requested
        assert revision.repo_url == url


def test_full_and_short_shas_resolve(
    source: GitRepositorySource, repo: GitRepo, released: dict[str, str]
) -> None:
    sha = released["v1.2.1"]
    assert source.resolve(str(repo.bare), sha).sha == sha
    assert source.resolve(str(repo.bare), sha[:9]).sha == sha
    assert source.resolve(str(repo.bare), sha.upper()).sha == sha


def test_a_new_commit_is_seen_on_the_next_resolve(
    source: GitRepositorySource, repo: GitRepo
) -> None:
    before = source.resolve(str(repo.bare), "main")
    after_sha = repo.commit({"new.txt": "new\n"})
    after = source.resolve(str(repo.bare), "main")
    assert before.sha != after.sha == after_sha
    repo.tag("v9.0.0")
    assert source.resolve(str(repo.bare), ">=9").sha == after_sha


def test_a_deleted_branch_is_pruned_from_the_mirror(
    source: GitRepositorySource, repo: GitRepo
) -> None:
    repo.branch("short-lived")
    repo.commit({"x": "x\n"})
    repo.switch("main")
    source.resolve(str(repo.bare), "short-lived")
    git(repo.work, "push", "-q", "origin", ":short-lived")
    with pytest.raises(RevisionNotFoundError):
        source.resolve(str(repo.bare), "short-lived")


def test_unknown_revision_names_the_repo_and_lists_refs(
    source: GitRepositorySource, repo: GitRepo, released: dict[str, str]
) -> None:
    with pytest.raises(RevisionNotFoundError) as caught:
        source.resolve(str(repo.bare), "no-such-branch")
    text = str(caught.value)
    assert "'no-such-branch'" in text
    assert str(repo.bare) in text
    assert "branch main" in text
    assert "tag v1.2.0" in text
    assert not caught.value.transient


@pytest.mark.parametrize("requested", ["^7", "0" * 40, "deadbeef"])
def test_ranges_and_shas_that_match_nothing_are_not_found(
    source: GitRepositorySource, repo: GitRepo, requested: str
) -> None:
    with pytest.raises(RevisionNotFoundError):
        source.resolve(str(repo.bare), requested)


def test_a_missing_repository_is_a_permanent_source_error(
    source: GitRepositorySource, tmp_path: Path
) -> None:
    with pytest.raises(SourceError) as caught:
        source.resolve(str(tmp_path / "nowhere.git"), "main")
    assert "nowhere.git" in str(caught.value)
    assert not caught.value.transient


def test_a_full_sha_in_the_mirror_resolves_without_the_remote(
    source: GitRepositorySource, repo: GitRepo, tmp_path: Path
) -> None:
    revision = source.resolve(str(repo.bare), "main")
    moved = tmp_path / "moved.git"
    repo.bare.rename(moved)  # the remote is gone
    assert source.resolve(str(repo.bare), revision.sha) == revision.__class__(
        str(repo.bare), revision.sha, revision.sha
    )
    with pytest.raises(SourceError):
        source.resolve(str(repo.bare), "main")


def test_a_missing_local_repository_is_named_not_blamed_on_the_network(tmp_path: Path) -> None:
    source = GitRepositorySource(tmp_path / "cache")
    with pytest.raises(SourceError) as error:
        source.resolve(str(tmp_path / "no-such-repo"), "main")
    assert "no Git repository at" in str(error.value)
    assert not error.value.transient
