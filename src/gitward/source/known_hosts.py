"""Check an SSH server's host key against an OpenSSH ``known_hosts`` file.

libgit2 would only consult ``~/.ssh/known_hosts`` of the process, but each repository
may name its own file (``RepoCredentials.known_hosts_file``), so :mod:`.remote` hands
the fingerprints libgit2 computed for the server's key to :func:`verify_host_key`.
Supported: plain and hashed (``|1|salt|hash``) host names, ``[host]:port``, comma lists,
``*``/``?`` patterns, ``!`` negation and ``@revoked`` lines. ``@cert-authority`` lines
are ignored (host certificates are not supported), so such hosts count as unknown.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path


class HostKeyVerdict(StrEnum):
    TRUSTED = "trusted"
    UNKNOWN = "unknown"  # no line names this host
    MISMATCH = "mismatch"  # lines name this host, with other keys
    REVOKED = "revoked"


@dataclass(frozen=True)
class Fingerprints:
    """Digests of the raw host key blob, as libgit2 reports them."""

    sha1: bytes
    sha256: bytes

    def matches(self, blob: bytes) -> bool:
        return hmac.compare_digest(hashlib.sha1(blob).digest(), self.sha1) and (  # noqa: S324
            hmac.compare_digest(hashlib.sha256(blob).digest(), self.sha256)
        )

    def show(self) -> str:
        return "SHA256:" + base64.b64encode(self.sha256).decode().rstrip("=")


def host_name(host: str, port: int) -> str:
    """The name OpenSSH records for ``host`` on ``port``."""
    return host if port == 22 else f"[{host}]:{port}"


def verify_host_key(known_hosts: Path, host: str, port: int, key: Fingerprints) -> HostKeyVerdict:
    """Whether the file ``known_hosts`` trusts ``key`` for ``host``:``port``."""
    text = known_hosts.read_text(encoding="utf-8", errors="replace")
    return verify_host_key_in(text, host, port, key)


def verify_host_key_in(text: str, host: str, port: int, key: Fingerprints) -> HostKeyVerdict:
    """Whether ``text``, in the ``known_hosts`` format, trusts ``key`` for ``host``:``port``."""
    name = host_name(host, port)
    seen_host = False
    trusted = False
    for line in text.splitlines():
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        marker = fields.pop(0) if fields[0].startswith("@") else None
        if len(fields) < 3 or marker == "@cert-authority" or not _names(fields[0], name):
            continue
        try:
            blob = base64.b64decode(fields[2], validate=True)
        except (binascii.Error, ValueError):
            continue
        if marker == "@revoked":
            if key.matches(blob):
                return HostKeyVerdict.REVOKED
            continue
        seen_host = True
        trusted = trusted or key.matches(blob)
    if trusted:
        return HostKeyVerdict.TRUSTED
    return HostKeyVerdict.MISMATCH if seen_host else HostKeyVerdict.UNKNOWN


def _names(patterns: str, name: str) -> bool:
    """Whether the host field of a known_hosts line names ``name``."""
    if patterns.startswith("|1|"):
        return _hashed_matches(patterns, name)
    matched = False
    for pattern in patterns.split(","):
        negated = pattern.startswith("!")
        if _glob(pattern.removeprefix("!")).fullmatch(name):
            if negated:
                return False
            matched = True
    return matched


def _glob(pattern: str) -> re.Pattern[str]:
    """OpenSSH host patterns: ``*`` and ``?`` are the only wildcards (``[`` is literal)."""
    return re.compile(re.escape(pattern).replace(r"\*", ".*").replace(r"\?", "."), re.IGNORECASE)


def _hashed_matches(field: str, name: str) -> bool:
    try:
        _, _, salt, digest = field.split("|", 3)
        mac = hmac.new(base64.b64decode(salt), name.encode(), hashlib.sha1).digest()
        return hmac.compare_digest(mac, base64.b64decode(digest))
    except (ValueError, binascii.Error):
        return False
