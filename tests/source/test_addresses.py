"""SSRF: repository URLs on link-local and cloud-metadata addresses are refused, at once.

The check runs before any connection, so a refused URL fails immediately with a
permanent error (a fetch from an unroutable link-local address would hang until its
timeout instead). Loopback stays allowed: the other source tests fetch from 127.0.0.1.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gitward.errors import SourceError
from gitward.source import GitRepositorySource
from gitward.source.addresses import AddressPolicy, resolve_host
from gitward.source.urls import parse_repo_url
from tests.fuzz.budget import within


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "https://user:token@169.254.169.254/repo.git",
        "http://[fd00:ec2::254]/latest/",
        "http://[::ffff:169.254.169.254]/repo.git",
        "http://100.100.100.200/latest/meta-data/",
        "http://2852039166/repo.git",  # 169.254.169.254 written as one number
        "http://0251.0376.0251.0376/repo.git",  # ... and in octal
        "ssh://git@169.254.10.1/repo.git",
        "ssh://git@[fe80::1]/repo.git",
    ],
)
def test_metadata_and_link_local_addresses_are_refused_before_connecting(
    tmp_path: Path, url: str
) -> None:
    source = GitRepositorySource(tmp_path / "cache")
    with within(what=f"refusing {url}"), pytest.raises(SourceError) as caught:
        source.resolve(url, "main")
    assert "refused address" in str(caught.value)
    assert not caught.value.transient
    assert "token" not in str(caught.value)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/repo.git",
        "http://localhost/repo.git",
        "https://10.1.2.3/repo.git",
        "https://192.168.1.10/repo.git",
        "https://[::1]/repo.git",
        "/srv/git/repo.git",
        "file:///srv/git/repo.git",
    ],
)
def test_loopback_private_and_local_repositories_are_allowed(url: str) -> None:
    AddressPolicy().check(parse_repo_url(url))


def test_a_host_name_is_checked_by_every_address_it_resolves_to() -> None:
    assert "127.0.0.1" in resolve_host("localhost") or "::1" in resolve_host("localhost")
    strict = AddressPolicy(deny=("127.0.0.0/8", "::1/128"))
    with pytest.raises(SourceError, match="refused address"):
        strict.check(parse_repo_url("http://localhost/repo.git"))


def test_deny_adds_networks_and_allow_makes_exceptions() -> None:
    internal = parse_repo_url("https://10.0.0.5/repo.git")
    AddressPolicy().check(internal)
    with pytest.raises(SourceError):
        AddressPolicy(deny=("10.0.0.0/8",)).check(internal)
    AddressPolicy(deny=("10.0.0.0/8",), allow=("10.0.0.0/24",)).check(internal)
    AddressPolicy(allow=("169.254.7.0/24",)).check(parse_repo_url("http://169.254.7.7/r.git"))


def test_an_unresolvable_host_is_left_to_the_fetch() -> None:
    AddressPolicy().check(parse_repo_url("https://does-not-exist.invalid/repo.git"))
