"""Repository URLs lose their credentials; known_hosts lines match as OpenSSH matches them."""

from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path

import pytest

from gitward.errors import SourceError
from gitward.source import Transport, parse_repo_url, scrub_text
from gitward.source.known_hosts import Fingerprints, HostKeyVerdict, verify_host_key


@pytest.mark.parametrize(
    ("raw", "safe", "transport"),
    [
        ("/srv/git/app.git", "/srv/git/app.git", Transport.LOCAL),
        ("file:///srv/git/app.git", "file:///srv/git/app.git", Transport.LOCAL),
        ("https://example.com/org/app.git", "https://example.com/org/app.git", Transport.HTTP),
        ("https://bob:hunter2@example.com/app", "https://example.com/app", Transport.HTTP),
        ("https://tok@example.com:8443/app", "https://example.com:8443/app", Transport.HTTP),
        ("ssh://git@example.com:2222/org/app", "ssh://git@example.com:2222/org/app", Transport.SSH),
        ("ssh://git:pw@example.com/org/app", "ssh://git@example.com/org/app", Transport.SSH),
        ("git@github.com:org/app.git", "git@github.com:org/app.git", Transport.SSH),
    ],
)
def test_safe_url_carries_no_secret(raw: str, safe: str, transport: Transport) -> None:
    parsed = parse_repo_url(raw)
    assert (parsed.safe, parsed.transport) == (safe, transport)
    assert parsed.url == safe


def test_the_mirror_key_ignores_credentials() -> None:
    a = parse_repo_url("https://bob:one@example.com/app.git")
    b = parse_repo_url("https://example.com/app.git/")
    assert a.cache_key == b.cache_key
    assert a.password == "one"


def test_unsupported_schemes_are_refused_without_echoing_secrets() -> None:
    with pytest.raises(SourceError) as caught:
        parse_repo_url("ftp://bob:hunter2@example.com/app")
    assert "hunter2" not in str(caught.value)


def test_scrub_text_removes_userinfo_and_secrets() -> None:
    text = "failed https://bob:hunter2@host/x with hunter2 and tok-123"
    assert scrub_text(text, ("tok-123", None)) == "failed https://host/x with hunter2 and ***"
    assert "hunter2" not in scrub_text(text, ("hunter2",))


BLOB = b"\x00\x00\x00\x0bssh-ed25519" + bytes(range(32))
OTHER = b"\x00\x00\x00\x0bssh-ed25519" + bytes(32)
KEY = Fingerprints(hashlib.sha1(BLOB).digest(), hashlib.sha256(BLOB).digest())  # noqa: S324


def _line(hosts: str, blob: bytes = BLOB, marker: str = "") -> str:
    return f"{marker} {hosts} ssh-ed25519 {base64.b64encode(blob).decode()}\n".lstrip()


def _hashed(name: str) -> str:
    salt = b"0123456789abcdefghij"
    digest = hmac.new(salt, name.encode(), hashlib.sha1).digest()
    return f"|1|{base64.b64encode(salt).decode()}|{base64.b64encode(digest).decode()}"


@pytest.mark.parametrize(
    ("content", "host", "port", "verdict"),
    [
        (_line("example.com"), "example.com", 22, HostKeyVerdict.TRUSTED),
        (_line("a.org,example.com"), "example.com", 22, HostKeyVerdict.TRUSTED),
        (_line("[example.com]:2222"), "example.com", 2222, HostKeyVerdict.TRUSTED),
        (_line("example.com"), "example.com", 2222, HostKeyVerdict.UNKNOWN),
        (_line("*.example.com"), "git.example.com", 22, HostKeyVerdict.TRUSTED),
        (_line("*.example.com,!git.example.com"), "git.example.com", 22, HostKeyVerdict.UNKNOWN),
        (_line(_hashed("[127.0.0.1]:2200")), "127.0.0.1", 2200, HostKeyVerdict.TRUSTED),
        (_line("example.com", OTHER), "example.com", 22, HostKeyVerdict.MISMATCH),
        (
            _line("example.com", OTHER) + _line("example.com"),
            "example.com",
            22,
            HostKeyVerdict.TRUSTED,
        ),
        (
            _line("example.com") + _line("*", BLOB, "@revoked"),
            "example.com",
            22,
            HostKeyVerdict.REVOKED,
        ),
        ("# comment\n\n" + _line("other.org"), "example.com", 22, HostKeyVerdict.UNKNOWN),
        (_line("example.com", BLOB, "@cert-authority"), "example.com", 22, HostKeyVerdict.UNKNOWN),
    ],
)
def test_known_hosts_verdicts(
    tmp_path: Path, content: str, host: str, port: int, verdict: HostKeyVerdict
) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(content)
    assert verify_host_key(known, host, port, KEY) is verdict
