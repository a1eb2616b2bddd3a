"""Repository URLs: which transport, what is safe to show, where the mirror lives.

A repository URL may carry credentials (``https://user:token@host/repo``). Everything
the source stage logs, raises or returns uses the *safe* form, with the userinfo of
HTTP URLs removed and the password of any URL removed; the mirror directory is named
by a hash of that safe form so that changing a token does not start a second mirror.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import unquote, urlsplit, urlunsplit

from gitward.errors import SourceError

_SCP_LIKE = re.compile(r"^(?:(?P<user>[^@/:\s]+)@)?(?P<host>[^@/:\s]+):(?P<path>(?!//).+)$")
_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]*@")


class Transport(StrEnum):
    LOCAL = "local"  # a path or file:// URL
    HTTP = "http"  # http:// or https:// (smart HTTP)
    SSH = "ssh"  # ssh:// or scp-like user@host:path


@dataclass(frozen=True)
class RepoURL:
    """A parsed repository URL; ``url`` is what libgit2 connects to."""

    url: str  # for libgit2, credentials removed
    safe: str  # for people: no password, no HTTP userinfo
    transport: Transport
    host: str | None = None
    port: int | None = None
    username: str | None = None  # from the URL, if any
    password: str | None = None  # from the URL, if any (HTTP only)

    @property
    def cache_key(self) -> str:
        """A stable directory name for this repository's mirror."""
        normal = self.safe.rstrip("/")
        return hashlib.sha256(normal.encode()).hexdigest()[:32]


def parse_repo_url(raw: str) -> RepoURL:
    """Split ``raw`` into transport, host and credentials; refuse what we cannot fetch."""
    text = raw.strip()
    if not text:
        raise SourceError("the repository URL is empty", hint="set spec.source.repoURL")
    if "://" in text:
        return _parse_with_scheme(text)
    scp = _SCP_LIKE.match(text)
    if scp and not text.startswith(("/", ".")):
        user, host, path = scp.group("user"), scp.group("host"), scp.group("path")
        url = f"{user}@{host}:{path}" if user else f"{host}:{path}"
        return RepoURL(url, url, Transport.SSH, host=host, port=22, username=user)
    return RepoURL(text, text, Transport.LOCAL)


def _parse_with_scheme(text: str) -> RepoURL:
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    if scheme == "file":
        return RepoURL(text, text, Transport.LOCAL)
    if scheme in ("http", "https"):
        url = urlunsplit((scheme, netloc, parts.path, parts.query, ""))
        return RepoURL(url, url, Transport.HTTP, host, parts.port, user, password)
    if scheme in ("ssh", "git+ssh", "ssh+git"):
        with_user = f"{user}@{netloc}" if user else netloc
        url = urlunsplit(("ssh", with_user, parts.path, "", ""))
        return RepoURL(url, url, Transport.SSH, host, parts.port or 22, user)
    raise SourceError(
        f"repository URL {scrub_text(text)!r} uses the unsupported scheme {scheme!r}",
        hint="use a local path, file://, https://, ssh:// or user@host:path",
    )


def scrub_text(text: str, secrets: tuple[str | None, ...] = ()) -> str:
    """``text`` with URL userinfo and every given secret replaced, for messages and logs."""
    cleaned = _USERINFO.sub(r"\g<scheme>", text)
    for secret in secrets:
        if secret:
            cleaned = cleaned.replace(secret, "***")
    return cleaned
