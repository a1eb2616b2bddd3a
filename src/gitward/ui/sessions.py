"""Browser sessions of the web UI: who is signed in, until when, and their CSRF token.

Before: a person proved who they are (an API token in the login form, or an OIDC ID
token from the single sign-on provider). After: every page and action reads the
:class:`Session` named by the ``gitward_session`` cookie.

The cookie carries a random 256-bit id; the server keeps only its SHA-256, so a memory
dump does not yield usable cookies (like the API's token digests). The cookie is
HttpOnly (no script can read it), SameSite=Strict (no other site can make the browser
send it) and Secure under TLS. Each session has its own CSRF token, which every form
and htmx request must echo (:func:`check_csrf`): SameSite alone is not enough against a
same-site attacker or an old browser. Sessions live in memory: a restart signs everyone
out, which is acceptable for a controller's UI and keeps no credential on disk.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace

from gitward.api.auth import Principal

COOKIE = "gitward_session"
LOGIN_COOKIE = "gitward_login"  # the CSRF token of the login form (no session yet)
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf"
DEFAULT_TTL = 8 * 3600.0


@dataclass(frozen=True)
class Session:
    principal: Principal
    csrf: str
    expires: float  # clock seconds
    groups: tuple[str, ...] = ()  # from the OIDC provider, for the role policy
    via: str = "token"  # "token" or "sso"


class Sessions:
    """Sessions by the digest of their cookie; expired ones are dropped when looked up."""

    def __init__(self, clock: Callable[[], float], ttl: float = DEFAULT_TTL) -> None:
        self._clock = clock
        self.ttl = ttl
        self._by_digest: dict[bytes, Session] = {}

    def create(
        self, principal: Principal, *, groups: tuple[str, ...] = (), via: str = "token"
    ) -> tuple[str, Session]:
        """A new session and the cookie value that names it (shown to no one else)."""
        self._sweep()
        cookie = secrets.token_urlsafe(32)
        session = Session(
            principal, secrets.token_urlsafe(32), self._clock() + self.ttl, groups, via
        )
        self._by_digest[_digest(cookie)] = session
        return cookie, session

    def get(self, cookie: str | None) -> Session | None:
        """The live session the cookie names, or None (unknown, or expired and dropped)."""
        if not cookie:
            return None
        key = _digest(cookie)
        session = self._by_digest.get(key)
        if session is None:
            return None
        if session.expires <= self._clock():
            del self._by_digest[key]
            return None
        return session

    def drop(self, cookie: str | None) -> None:
        if cookie:
            self._by_digest.pop(_digest(cookie), None)

    def revoke(self, name: str) -> int:
        """Drop every session of the principal ``name``; how many there were."""
        gone = [k for k, s in self._by_digest.items() if s.principal.name == name]
        for key in gone:
            del self._by_digest[key]
        return len(gone)

    def update(self, cookie: str, principal: Principal) -> None:
        """Give a session new roles (a role policy reload)."""
        key = _digest(cookie)
        if key in self._by_digest:
            self._by_digest[key] = replace(self._by_digest[key], principal=principal)

    def __len__(self) -> int:
        return len(self._by_digest)

    def _sweep(self) -> None:
        now = self._clock()
        for key in [k for k, s in self._by_digest.items() if s.expires <= now]:
            del self._by_digest[key]


def check_csrf(expected: str, presented: str | None) -> bool:
    """True if the request echoed the session's CSRF token (compared in constant time)."""
    return bool(presented) and hmac.compare_digest(expected.encode(), (presented or "").encode())


def safe_next(target: str | None) -> str:
    """Where to go after login: a path on this server only, never another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _digest(cookie: str) -> bytes:
    return hashlib.sha256(cookie.encode("utf-8", "surrogateescape")).digest()
