"""One comparable form for the many spellings of a repository URL.

A Git provider's push webhook names its repository in several forms (HTTPS clone URL,
SSH URL, web page), and a user's ``Application`` may spell its ``repoURL`` in yet another
(with or without ``.git``, with a username, scp-like ``git@host:org/repo``). The webhook
handler needs to know which applications a push concerns, so every form is reduced to
``host[:port]/path``:

- the scheme and any credentials are dropped (``https://``, ``ssh://git@``, ``git@``):
  they say how to reach a repository, not which one it is;
- default ports are dropped (443, 80, 22, 9418), other ports are kept;
- the trailing ``.git`` and slashes are dropped, repeated slashes collapse;
- everything is lowercased. GitHub, GitLab, Gitea and Bitbucket treat owner and
  repository names case-insensitively, and a false match only costs one extra refresh
  while a missed one leaves an application stale until its next poll.

Local paths and ``file://`` URLs reduce to the same absolute path, so tests and local
setups match too. The result is for comparison only, never for fetching.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

_SCP_LIKE = re.compile(r"^(?:[^@/\s]+@)?(?P<host>\[[^\]/]+\]|[^@/:\s\[\]]+):(?P<path>(?!//).*)$")
_DEFAULT_PORTS = {"http": 80, "https": 443, "ssh": 22, "git+ssh": 22, "ssh+git": 22, "git": 9418}


def normalize_repo_url(url: str) -> str:
    """Reduce ``url`` to ``host[:port]/path`` (or ``/path`` for local repositories)."""
    text = url.strip()
    if not text:
        return ""
    if "://" in text:
        return _with_scheme(text)
    scp = _SCP_LIKE.match(text)
    if scp and not text.startswith(("/", ".")):
        return _join(scp.group("host").lower(), scp.group("path"))
    return "/" + _clean_path(text)


def _with_scheme(text: str) -> str:
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme == "file":
        return "/" + _clean_path(parts.path)
    host = parts.hostname or ""
    if ":" in host:  # IPv6: urlsplit drops the brackets the URL needs
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:  # not a number: keep the text, it still compares equal to itself
        port = None
        host = parts.netloc.rpartition("@")[2].lower()
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        host = f"{host}:{port}"
    return _join(host, parts.path)


def _join(host: str, path: str) -> str:
    clean = _clean_path(path)
    return f"{host}/{clean}" if clean else host


def _clean_path(path: str) -> str:
    segments = [s for s in unquote(path).lower().split("/") if s]
    if segments and segments[-1].endswith(".git"):
        segments[-1] = segments[-1].removesuffix(".git")
        if not segments[-1]:
            segments.pop()
    return "/".join(segments)
