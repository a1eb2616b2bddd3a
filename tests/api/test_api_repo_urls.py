"""normalize_repo_url: every spelling of one repository compares equal, others do not."""

from __future__ import annotations

import pytest

from gitward.api.repo_urls import normalize_repo_url

SAME_REPOSITORY = {
    "github.com/org/repo": [
        "https://github.com/org/repo",
        "https://github.com/org/repo.git",
        "https://github.com/org/repo/",
        "https://github.com/org/repo.git/",
        "http://github.com/org/repo",
        "https://GitHub.COM/org/repo",
        "https://github.com/Org/Repo.git",
        "https://user:s3cret@github.com/org/repo.git",
        "https://x-access-token@github.com/org/repo",
        "https://github.com:443/org/repo",
        "git@github.com:org/repo.git",
        "git@github.com:org/repo",
        "github.com:org/repo.git",
        "ssh://git@github.com/org/repo.git",
        "ssh://git@github.com:22/org/repo",
        "git+ssh://git@github.com/org/repo",
        "git://github.com/org/repo.git",
        "  https://github.com//org/repo.git  ",
        "https://github.com/org/repo.git?ref=main#readme",
    ],
    "gitlab.example.com:2222/group/sub/repo": [
        "ssh://git@gitlab.example.com:2222/group/sub/repo.git",
        "ssh://GIT@GitLab.Example.com:2222/group/sub/repo",
    ],
    "gitlab.example.com:8443/group/sub/repo": [
        "https://gitlab.example.com:8443/group/sub/repo.git",
    ],
    "[2001:db8::1]/org/repo": [
        "https://[2001:db8::1]/org/repo.git",
        "ssh://git@[2001:db8::1]:22/org/repo",
        "git@[2001:db8::1]:org/repo.git",
    ],
    "/srv/git/repo": [
        "/srv/git/repo.git",
        "/srv/git/repo/",
        "file:///srv/git/repo.git",
        "file:///srv/git/repo",
    ],
    "host/srv/git/repo": ["ssh://host/srv/git/repo.git", "host:/srv/git/repo.git"],
}


@pytest.mark.parametrize(
    ("url", "normal"),
    [(url, normal) for normal, urls in SAME_REPOSITORY.items() for url in urls],
)
def test_every_spelling_reduces_to_one_form(url: str, normal: str) -> None:
    assert normalize_repo_url(url) == normal


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("https://github.com/org/repo", "https://github.com/org/repo2"),
        ("https://github.com/org/repo", "https://github.com/other/repo"),
        ("https://github.com/org/repo", "https://gitlab.com/org/repo"),
        ("https://example.com:8443/org/repo", "https://example.com/org/repo"),
        ("https://github.com/org/repo", "https://github.com/org/repo/sub"),
    ],
)
def test_different_repositories_stay_different(a: str, b: str) -> None:
    assert normalize_repo_url(a) != normalize_repo_url(b)


def test_credentials_never_survive() -> None:
    assert "s3cret" not in normalize_repo_url("https://user:s3cret@github.com/org/repo")
    assert "tok" not in normalize_repo_url("ssh://tok@github.com/org/repo")


def test_empty_is_empty() -> None:
    assert normalize_repo_url("  ") == ""
    assert normalize_repo_url("https://host/.git") == "host"
