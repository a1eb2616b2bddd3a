"""API bearer tokens: who is calling, and whether their role allows the action.

Before: the server reads the ``Authorization`` header of a request. After: the handler
runs, with the :class:`Principal` recorded in the audit log.

Tokens are long random strings (``secrets.token_urlsafe(32)``, 256 bits). gitward keeps
only their SHA-256 digests in memory and in the optional tokens file: with that much
entropy a plain hash cannot be reversed, so no slow password hash or salt is needed, and
a leaked tokens file or memory dump does not leak usable tokens. Lookups hash the
presented token and compare it with *every* known digest in constant time, so neither
which token nearly matched nor how many characters did shows in the response time.

The role model is deliberately small::

    admin    every action
    viewer   read actions only: list, get, history, metrics

One admin token is created on first start in ``<state-dir>/admin-token`` (mode 0600) so
that a fresh install is usable and never open. More users go in a tokens file (YAML or
JSON, see :func:`load_tokens_file`) that holds digests, not tokens.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Final, TextIO

import yaml

from gitward.api.errors import AuthError, ForbiddenError
from gitward.errors import ConfigError
from gitward.loading import load_one
from gitward.spec.roles import Grant

__all__ = [
    "ADMIN_TOKEN_FILE",
    "READ_ACTIONS",
    "AuthError",
    "ForbiddenError",
    "Principal",
    "Role",
    "TokenAuthenticator",
    "authenticator",
    "authorize",
    "ensure_admin_token",
    "load_tokens_file",
    "read_mounted_token",
    "read_token",
    "token_digest",
]

ADMIN_TOKEN_FILE: Final = "admin-token"  # noqa: S105 - a file name, not a password
READ_ACTIONS: Final = frozenset({"list", "get", "history", "metrics"})
_HEX_DIGEST = re.compile(r"^[0-9a-f]{64}$")


class Role(StrEnum):
    """What a principal may do; see the module docstring."""

    ADMIN = "admin"
    VIEWER = "viewer"


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: a name for the audit log and the roles it holds."""

    name: str
    roles: frozenset[Role]
    # Set when a role policy applies (serve --roles): these decide, per project.
    grants: tuple[Grant, ...] | None = None


def authorize(
    principal: Principal,
    action: str,
    project: str | None = None,
    *,
    app: str | None = None,
    cluster: str | None = None,
) -> None:
    """Allow ``action`` (a verb such as ``get`` or ``sync``) or raise ForbiddenError.

    ``project``, ``app``, ``cluster``: the app acted on (:func:`gitward.api.roles.scope`;
    all None for lists). With a role policy (:mod:`gitward.api.roles`) the principal's
    grants decide; otherwise its role.
    """
    if principal.grants is not None:
        if any(g.allows(action, project, app, cluster) for g in principal.grants):
            return
        where = f" in project {project}" if project else ""
        if app:
            where = f" {app} (project {project}, cluster {cluster})"
        roles = ", ".join(g.role for g in principal.grants) or "no role"
        raise ForbiddenError(
            f"{principal.name} ({roles}) may not {action}{where}",
            hint="ask an admin for a role that grants it in the role policy (the config "
            "repository's RolePolicy, or serve --roles)",
        )
    if Role.ADMIN in principal.roles:
        return
    if Role.VIEWER in principal.roles and action in READ_ACTIONS:
        return
    roles = ", ".join(sorted(principal.roles)) or "no role"
    raise ForbiddenError(
        f"{principal.name} ({roles}) may not {action}",
        hint="this action needs the admin role; viewers may only "
        + ", ".join(sorted(READ_ACTIONS)),
    )


def token_digest(token: str) -> str:
    """The hex SHA-256 of a token: what the tokens file stores instead of the token."""
    return hashlib.sha256(_token_bytes(token)).hexdigest()


class TokenAuthenticator:
    """Turns an ``Authorization: Bearer <token>`` header into a :class:`Principal`."""

    def __init__(self, tokens: Mapping[str, Principal]) -> None:
        """``tokens`` maps each plaintext token to its principal; only digests are kept."""
        if any(not token.strip() for token in tokens):
            raise ConfigError("an API token is empty", hint="every token must be non-empty")
        self._entries = _index((token_digest(t), p) for t, p in tokens.items())

    @classmethod
    def from_digests(cls, digests: Mapping[str, Principal]) -> TokenAuthenticator:
        """Build from hex SHA-256 digests of tokens, as the tokens file holds them."""
        self = cls({})
        self._entries = _index(digests.items())
        return self

    def authenticate(self, authorization: str | None) -> Principal:
        """The principal whose token the header carries, or AuthError (401)."""
        scheme, _, token = (authorization or "").strip().partition(" ")
        if not scheme:
            raise AuthError(
                "the request carries no Authorization header",
                hint="send 'Authorization: Bearer <token>'; the admin token is in "
                f"<state-dir>/{ADMIN_TOKEN_FILE}",
            )
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise AuthError(
                "the Authorization header is not of the form 'Bearer <token>'",
                hint="gitward accepts bearer tokens only",
            )
        digest = hashlib.sha256(_token_bytes(token)).digest()
        found: Principal | None = None
        for known, principal in self._entries:  # no early exit: every digest is compared
            if hmac.compare_digest(known, digest):
                found = principal
        if found is None:
            raise AuthError("the bearer token is not valid", hint="check or replace the token")
        return found


def authenticator(admin_token: Path | None, tokens_file: Path | None) -> TokenAuthenticator:
    """``serve``'s tokens: the admin token's file, and a tokens file's digests if given."""
    digests: dict[str, Principal] = {}
    if admin_token is not None:
        admin = Principal("admin", frozenset({Role.ADMIN}))
        digests[token_digest(admin_token.read_text().strip())] = admin
    if tokens_file is not None:
        digests.update(load_tokens_file(tokens_file))
    return TokenAuthenticator.from_digests(digests)


def _index(pairs: Iterable[tuple[str, Principal]]) -> tuple[tuple[bytes, Principal], ...]:
    entries: dict[bytes, Principal] = {}
    for digest, principal in pairs:
        key = digest.strip().lower()
        if not _HEX_DIGEST.match(key):
            raise ConfigError(f"the token digest for {principal.name} is not a hex SHA-256")
        if bytes.fromhex(key) in entries:
            raise ConfigError(f"{principal.name} shares a token with another principal")
        entries[bytes.fromhex(key)] = principal
    return tuple(entries.items())


def _token_bytes(token: str) -> bytes:
    return token.encode("utf-8", "surrogateescape")


# ------------------------------------------------------------------------ token files


def ensure_admin_token(state_dir: Path) -> tuple[Path, bool]:
    """Create ``state_dir/admin-token`` if absent; return its path and whether it was new.

    The directory is created with mode 0700 if it does not exist (existing directories
    are left as they are); the file is created exclusively with mode 0600, so a
    concurrent start or a planted symlink can neither overwrite nor redirect it. An
    existing file is checked, not trusted: see :func:`read_token`. The token itself is
    never logged or returned; read it with :func:`read_token`.
    """
    try:
        state_dir.mkdir(mode=0o700, parents=True)
        state_dir.chmod(0o700)  # the umask may have narrowed even the owner's bits
    except FileExistsError:
        pass
    except OSError as e:
        raise ConfigError(f"cannot create the state directory {state_dir}: {e.strerror}") from e
    path = state_dir / ADMIN_TOKEN_FILE
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        read_token(path)
        return path, False
    except OSError as e:
        raise ConfigError(f"cannot create the admin token {path}: {e.strerror}") from e
    with os.fdopen(fd, "w", encoding="ascii") as out:
        os.fchmod(fd, 0o600)
        out.write(secrets.token_urlsafe(32) + "\n")
        out.flush()
        os.fsync(fd)
    return path, True


def read_token(path: Path) -> str:
    """The token in ``path``, refusing a file that group or others could read or change.

    Such a token must be considered leaked, so gitward stops rather than use it.
    """
    with _open_private(path, forbidden=0o077) as handle:
        token = handle.read().strip()
    if not token:
        raise ConfigError(
            f"the token file {path} is empty",
            hint="delete it and restart gitward to create a new admin token",
        )
    return token


def read_mounted_token(path: Path) -> tuple[Path, str]:
    """The admin token given by ``--admin-token-file``: its resolved path and the token.

    Kubernetes mounts a Secret's keys as symlinks into a ``..data`` directory that it
    swaps atomically, so the path is resolved first and the file it names is then opened
    without following links. The pod's own group may read it (``fsGroup`` adds group
    read to Secret volumes); others may not.
    """
    real = path.resolve()
    with _open_private(real, forbidden=0o007) as handle:
        token = handle.read().strip()
    if not token:
        raise ConfigError(f"the admin token file {path} is empty")
    return real, token


def load_tokens_file(path: Path) -> dict[str, Principal]:
    """Read a tokens file into ``{sha256 hex digest: Principal}``.

    The file is a YAML (or JSON) list of ``{name, role, token_sha256}``::

        - name: ci-bot
          role: viewer
          token_sha256: 5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8

    It holds no secrets, but whoever can change it can grant themselves access, so a
    file that group or others may write is refused.
    """
    with _open_private(path, forbidden=0o022) as handle:
        try:
            document = load_one(handle.read())
        except yaml.YAMLError as e:
            raise ConfigError(f"{path}: not valid YAML or JSON: {e}") from e
    if not isinstance(document, list):
        raise ConfigError(f"{path}: expected a list of {{name, role, token_sha256}} entries")
    tokens: dict[str, Principal] = {}
    names: set[str] = set()
    for i, entry in enumerate(document, start=1):
        digest, principal = _entry(path, i, entry)
        if principal.name in names or digest in tokens:
            raise ConfigError(f"{path}: entry {i} repeats the name or token of another entry")
        names.add(principal.name)
        tokens[digest] = principal
    return tokens


def _entry(path: Path, index: int, entry: object) -> tuple[str, Principal]:
    where = f"{path}: entry {index}"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: expected a mapping with name, role and token_sha256")
    name, role, digest = (entry.get(k) for k in ("name", "role", "token_sha256"))
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{where}: name is missing or not a string")
    if role not in set(Role):
        known = ", ".join(Role)
        raise ConfigError(f"{where} ({name}): role must be one of {known}, not {role!r}")
    if not isinstance(digest, str) or not _HEX_DIGEST.match(digest.strip().lower()):
        raise ConfigError(
            f"{where} ({name}): token_sha256 must be the 64-character hex SHA-256 of the token",
            hint='compute it with: printf %s "$TOKEN" | sha256sum',
        )
    return digest.strip().lower(), Principal(name.strip(), frozenset({Role(role)}))


def _open_private(path: Path, *, forbidden: int) -> TextIO:
    """Open a regular file (never through a symlink) whose mode has no ``forbidden`` bit.

    The checks run on the opened descriptor, so the file cannot be swapped in between.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as e:
        raise ConfigError(
            f"cannot open {path}: {e.strerror}", hint="it must be a regular file, not a symlink"
        ) from e
    mode = os.fstat(fd).st_mode
    if stat.S_ISREG(mode) and not mode & forbidden:
        return os.fdopen(fd, encoding="utf-8")
    os.close(fd)
    if not stat.S_ISREG(mode):
        raise ConfigError(f"{path} is not a regular file")
    who = "read or changed" if forbidden & 0o044 else "changed"
    fix = "600" if forbidden & 0o044 else "go-w"
    raise ConfigError(
        f"{path} can be {who} by group or others (mode {stat.filemode(mode)}); "
        "gitward refuses to use it",
        hint=f"run: chmod {fix} {path}"
        + (", and replace the token if others may have read it" if forbidden & 0o044 else ""),
    )
