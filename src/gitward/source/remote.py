"""Talk to a Git server with libgit2: credentials, host keys, errors that are safe to show.

:mod:`.mirror` calls :func:`fetch_into` to update a bare mirror. This module is the
boundary to pygit2's network code: it hands out credentials at most once per attempt
(a rejected password fails at once instead of looping), checks SSH host keys against
the repository's own ``known_hosts`` file, and turns every pygit2 error into a
:class:`~gitward.errors.SourceError` whose text carries no secret.

pygit2 passes no host key to Python certificate callbacks, and accepts every SSH host
key when the callback declines; so the C callback slot is replaced by one of ours (via
the ``fetch_options`` hook below) that reads the fingerprints libgit2 computed and
refuses unless the key is known.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pygit2
from pygit2.enums import CredentialType, FetchPrune
from pygit2.ffi import C, ffi

from gitward.errors import SourceError
from gitward.model import RepoCredentials
from gitward.source.known_hosts import (
    Fingerprints,
    HostKeyVerdict,
    host_name,
    verify_host_key,
    verify_host_key_in,
)
from gitward.source.urls import RepoURL, Transport, scrub_text

log = logging.getLogger(__name__)

REFSPECS = ["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"]

# git_cert_hostkey in libgit2 1.9: parent(int) type(int) md5[16] sha1[20] sha256[32] ...
_SSH_FLAGS = slice(4, 8)
_SSH_SHA1 = slice(24, 44)
_SSH_SHA256 = slice(44, 76)
_HAS_SHA1_AND_SHA256 = 2 | 4
_REFUSE = int(C.GIT_ECERTIFICATE)


class _AuthRejected(Exception):  # noqa: N818 - internal signal, never leaves this module
    """The server asked again after we gave our credentials, or we had none to give."""


@dataclass(frozen=True)
class RemoteHead:
    """What the server advertised as HEAD: a branch name or, if detached, only a SHA."""

    sha: str
    branch: str | None


class _Callbacks(pygit2.RemoteCallbacks):
    """Credentials and host key checks for one connection attempt."""

    def __init__(self, repo: RepoURL, credentials: RepoCredentials | None) -> None:
        super().__init__()
        self.repo = repo
        self.creds = credentials or RepoCredentials()
        self.secret_given = False
        self.auth_problem: str | None = None
        self.host_key_problem: str | None = None
        self._fetch_options: Any = None
        self._certificate_cb = ffi.callback(
            "int(git_cert *, int, const char *, void *)", self._check_certificate
        )

    @property
    def fetch_options(self) -> Any:
        return self._fetch_options

    @fetch_options.setter
    def fetch_options(self, options: Any) -> None:
        # pygit2 fills in the options, then hands them to us before calling libgit2.
        options.callbacks.certificate_check = self._certificate_cb
        self._fetch_options = options

    def credentials(
        self, url: str, username_from_url: str | None, allowed_types: CredentialType
    ) -> pygit2.Username | pygit2.UserPass | pygit2.Keypair | pygit2.KeypairFromMemory:
        user = self.creds.username or username_from_url or self.repo.username
        if allowed_types == CredentialType.USERNAME:
            return pygit2.Username(user or "git")
        if self.secret_given:
            self.auth_problem = "the server rejected the credentials"
            raise _AuthRejected
        self.secret_given = True
        if allowed_types & CredentialType.SSH_MEMORY and self.creds.ssh_private_key:
            return pygit2.KeypairFromMemory(user or "git", None, self.creds.ssh_private_key, "")
        if allowed_types & CredentialType.SSH_KEY and self.creds.ssh_private_key_file:
            key = Path(self.creds.ssh_private_key_file)
            public = key.with_name(key.name + ".pub")
            return pygit2.Keypair(
                user or "git", str(public) if public.exists() else None, str(key), ""
            )
        password = self.creds.password or self.repo.password
        if allowed_types & CredentialType.USERPASS_PLAINTEXT and password:
            return pygit2.UserPass(user or "git", password)
        self.auth_problem = "the server requires credentials and none were given"
        raise _AuthRejected

    def _check_certificate(self, cert: Any, valid: int, host: Any, payload: Any) -> int:
        """libgit2's certificate callback; must never raise."""
        try:
            if cert.cert_type != C.GIT_CERT_HOSTKEY_LIBSSH2:
                return 0 if valid else _REFUSE
            return 0 if self._ssh_host_key_ok(cert, bool(valid)) else _REFUSE
        except Exception as e:  # an exception here would cross into C
            self.host_key_problem = f"the host key could not be checked ({type(e).__name__})"
            return _REFUSE

    def _ssh_host_key_ok(self, cert: Any, valid: bool) -> bool:
        host, port = self.repo.host or "", self.repo.port or 22
        if self.creds.known_hosts_file is None and self.creds.known_hosts is None:
            if not valid:
                self.host_key_problem = (
                    f"the SSH host key of {host_name(host, port)} is not in ~/.ssh/known_hosts"
                )
            return valid
        raw = bytes(ffi.buffer(ffi.cast("unsigned char *", cert), _SSH_SHA256.stop))
        flags = int.from_bytes(raw[_SSH_FLAGS], sys.byteorder)
        if flags & _HAS_SHA1_AND_SHA256 != _HAS_SHA1_AND_SHA256:
            self.host_key_problem = "libgit2 reported no SHA-256 fingerprint for the host key"
            return False
        key = Fingerprints(raw[_SSH_SHA1], raw[_SSH_SHA256])
        if self.creds.known_hosts is not None:
            known = "the Secret's known_hosts"
            verdict = verify_host_key_in(self.creds.known_hosts, host, port, key)
        else:
            known = str(self.creds.known_hosts_file)
            verdict = verify_host_key(Path(known), host, port, key)
        if verdict is not HostKeyVerdict.TRUSTED:
            self.host_key_problem = (
                f"the SSH host key of {host_name(host, port)} ({key.show()}) is {verdict.value} "
                f"in {known}"
            )
        return verdict is HostKeyVerdict.TRUSTED


def fetch_into(
    mirror: pygit2.Repository, repo: RepoURL, credentials: RepoCredentials | None
) -> RemoteHead | None:
    """Fetch every branch and tag of ``repo`` into ``mirror``; return the remote HEAD."""
    callbacks = _Callbacks(repo, credentials)
    remote = mirror.remotes.create_anonymous(repo.url)
    try:
        remote.fetch(REFSPECS, callbacks=callbacks, prune=FetchPrune.PRUNE)
        heads = remote.list_heads(connect=False)
    except (_AuthRejected, pygit2.GitError, OSError, ValueError) as e:
        raise _translate(e, repo, callbacks) from None
    for head in heads:
        if head.name == "HEAD":
            return RemoteHead(str(head.oid), head.symref_target)
    return None


def _translate(error: Exception, repo: RepoURL, callbacks: _Callbacks) -> SourceError:
    secrets = (callbacks.creds.password, repo.password)
    detail = scrub_text(str(error), secrets) or type(error).__name__
    log.info("fetch from %s failed: %s", repo.safe, detail)
    where = f"fetching {repo.safe} failed"
    if callbacks.host_key_problem:
        return SourceError(
            f"{where}: {callbacks.host_key_problem}",
            hint="add the server's key to the repository's known_hosts file after checking "
            "it out of band (ssh-keyscan prints it); a changed key may mean an attack",
            transient=False,
        )
    if callbacks.auth_problem or _looks_like(detail, _AUTH_WORDS):
        reason = callbacks.auth_problem or f"authentication failed ({detail})"
        return SourceError(
            f"{where}: {reason}",
            hint="check the username and password or token (or SSH key) of this repository",
            transient=False,
        )
    if _looks_like(detail, _MISSING_WORDS):
        return SourceError(
            f"{where}: the repository does not exist or cannot be read ({detail})",
            hint="check the repository URL and that the credentials may read it",
            transient=False,
        )
    if _looks_like(detail, _DAMAGED_WORDS):
        return SourceError(
            f"{where}: the server sent damaged data ({detail}); nothing of it was kept",
            hint="a proxy or the server's storage corrupts packs; gitward retries and keeps "
            "serving the last good revision",
            transient=True,
        )
    return SourceError(
        f"{where}: {detail}",
        hint="the server could not be reached; gitward retries, check the URL and network",
        transient=repo.transport is not Transport.LOCAL,
    )


_AUTH_WORDS = ("authenticat", "401", "403", "credential", "permission denied", "publickey")
_DAMAGED_WORDS = ("zlib", "checksum", "corrupt", "bad object", "invalid pack", "packfile")
_MISSING_WORDS = ("404", "not found", "could not find repository", "not appear to be a git")


def _looks_like(text: str, words: tuple[str, ...]) -> bool:
    lowered = text.lower()
    return any(word in lowered for word in words)
