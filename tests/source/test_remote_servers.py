"""The source stage against real servers: smart HTTP with basic auth, and SSH with keys."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from gitward.errors import RevisionNotFoundError, SourceError
from gitward.model import RepoCredentials
from gitward.source import GitRepositorySource

from .conftest import PASSWORD, USERNAME
from .gitfixtures import GitRepo, HttpGitServer, SshGitServer, free_port

GOOD = RepoCredentials(username=USERNAME, password=PASSWORD)


def test_http_resolve_checkout_and_fetch_of_a_new_commit(
    source: GitRepositorySource, repo: GitRepo, http_server: HttpGitServer
) -> None:
    url = http_server.url(repo)
    first = source.resolve(url, "main", GOOD)
    tree = source.checkout(first, GOOD)
    assert (tree / "app" / "deploy.yaml").is_file()
    second_sha = repo.commit({"app/more.yaml": "kind: Secret\n"})
    repo.tag("v1.0.0", annotated=True)
    assert source.resolve(url, "main", GOOD).sha == second_sha
    assert source.resolve(url, "^1", GOOD).sha == second_sha


def test_http_cache_hit_needs_no_server(
    source: GitRepositorySource, repo: GitRepo, http_server: HttpGitServer
) -> None:
    url = http_server.url(repo)
    revision = source.resolve(url, "main", GOOD)
    tree = source.checkout(revision, GOOD)
    requests = http_server.requests
    http_server.stop()
    assert source.resolve(url, revision.sha, GOOD) == revision.__class__(
        url, revision.sha, revision.sha
    )
    assert source.checkout(revision, GOOD) == tree
    assert http_server.requests == requests
    with pytest.raises(SourceError) as caught:
        source.resolve(url, "main", GOOD)
    assert caught.value.transient  # connection refused: retry later


def test_credentials_in_the_url_are_used_and_never_shown(
    source: GitRepositorySource, repo: GitRepo, http_server: HttpGitServer
) -> None:
    url = http_server.url(repo).replace("http://", f"http://{USERNAME}:{PASSWORD}@")
    revision = source.resolve(url, "main")
    assert PASSWORD not in revision.repo_url
    assert USERNAME not in revision.repo_url
    assert PASSWORD not in repr(revision)


@pytest.mark.parametrize(
    "credentials",
    [
        RepoCredentials(username=USERNAME, password="wrong-" + PASSWORD[::-1]),
        RepoCredentials(password="wrong-" + PASSWORD[::-1]),
        None,
    ],
)
def test_wrong_or_missing_password_is_a_permanent_error_without_the_secret(
    source: GitRepositorySource,
    repo: GitRepo,
    http_server: HttpGitServer,
    credentials: RepoCredentials | None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(SourceError) as caught:
        source.resolve(http_server.url(repo), "main", credentials)
    text = str(caught.value)
    assert not caught.value.transient
    assert http_server.url(repo) in text
    assert "credentials" in text
    assert PASSWORD[::-1] not in text
    assert PASSWORD[::-1] not in caplog.text
    assert http_server.requests < 10  # the rejected password is not replayed


def test_unknown_revision_over_http_lists_refs(
    source: GitRepositorySource, repo: GitRepo, http_server: HttpGitServer
) -> None:
    with pytest.raises(RevisionNotFoundError, match="branch main"):
        source.resolve(http_server.url(repo), "v9", GOOD)


def test_connection_refused_is_transient(source: GitRepositorySource) -> None:
    with pytest.raises(SourceError) as caught:
        source.resolve(f"http://127.0.0.1:{free_port()}/app.git", "main")
    assert caught.value.transient


def _ssh_credentials(server: SshGitServer, known_hosts: Path) -> RepoCredentials:
    return RepoCredentials(
        ssh_private_key_file=str(server.user_key), known_hosts_file=str(known_hosts)
    )


def test_ssh_with_a_known_host_key(
    source: GitRepositorySource, repo: GitRepo, ssh_server: SshGitServer, tmp_path: Path
) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(ssh_server.known_hosts_line())
    credentials = _ssh_credentials(ssh_server, known)
    revision = source.resolve(ssh_server.url(repo), "main", credentials)
    assert revision.repo_url == ssh_server.url(repo)
    assert (source.checkout(revision, credentials) / "README.md").is_file()
    newer = repo.commit({"x.yaml": "x: 1\n"})
    assert source.resolve(ssh_server.url(repo), "HEAD", credentials).sha == newer


@pytest.mark.parametrize("case", ["empty", "other-key", "other-port", "no-file"])
def test_ssh_refuses_an_unknown_or_changed_host_key(
    source: GitRepositorySource,
    repo: GitRepo,
    ssh_server: SshGitServer,
    tmp_path: Path,
    case: str,
) -> None:
    line = ssh_server.known_hosts_line()
    known = tmp_path / "known_hosts"
    if case == "empty":
        known.write_text("")
    elif case == "other-key":
        other = SshGitServer(tmp_path / "other-sshd")
        other.stop()
        known.write_text(line.split()[0] + " " + " ".join(other.known_hosts_line().split()[1:]))
    elif case == "other-port":
        known.write_text(line.replace(f":{ssh_server.port}", f":{ssh_server.port + 1}"))
    credentials = _ssh_credentials(ssh_server, known)
    if case == "no-file":  # falls back to ~/.ssh/known_hosts, which lacks this port
        credentials = RepoCredentials(ssh_private_key_file=str(ssh_server.user_key))
    with pytest.raises(SourceError, match="host key") as caught:
        source.resolve(ssh_server.url(repo), "main", credentials)
    assert not caught.value.transient
    assert "known_hosts" in str(caught.value)
    if case == "other-key":
        assert "mismatch" in str(caught.value)


def test_ssh_with_a_key_the_server_does_not_know_fails_auth(
    source: GitRepositorySource, repo: GitRepo, ssh_server: SshGitServer, tmp_path: Path
) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(ssh_server.known_hosts_line())
    stranger = SshGitServer.make_key(tmp_path / "stranger")
    credentials = RepoCredentials(ssh_private_key_file=str(stranger), known_hosts_file=str(known))
    with pytest.raises(SourceError, match=r"credentials|authentic") as caught:
        source.resolve(ssh_server.url(repo), "main", credentials)
    assert not caught.value.transient


def test_ssh_with_a_key_and_known_hosts_given_as_text_as_a_secret_holds_them(
    source: GitRepositorySource, repo: GitRepo, ssh_server: SshGitServer
) -> None:
    credentials = RepoCredentials(
        ssh_private_key=ssh_server.user_key.read_text(),
        known_hosts=ssh_server.known_hosts_line(),
    )
    assert "BEGIN OPENSSH PRIVATE KEY" not in repr(credentials)
    revision = source.resolve(ssh_server.url(repo), "main", credentials)
    assert (source.checkout(revision, credentials) / "README.md").is_file()


def test_ssh_known_hosts_text_that_lacks_the_server_is_refused(
    source: GitRepositorySource, repo: GitRepo, ssh_server: SshGitServer
) -> None:
    other_port = ssh_server.known_hosts_line().replace(
        f":{ssh_server.port}", f":{ssh_server.port + 1}"
    )
    credentials = RepoCredentials(
        ssh_private_key=ssh_server.user_key.read_text(), known_hosts=other_port
    )
    with pytest.raises(SourceError, match=r"host key .* is unknown in the Secret.s known_hosts"):
        source.resolve(ssh_server.url(repo), "main", credentials)
