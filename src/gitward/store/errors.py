"""The store's one error, and the translation of SQLAlchemy and driver errors into it.

Callers (the reconcile loop, the API, the CLI) never see a SQLAlchemy, sqlite3 or
psycopg exception: every failure becomes a :class:`StoreError` that says what the store
was doing, on which database, and what to do. Lost connections and lock timeouts are
*transient*, so the loop retries them; schema and constraint failures are not.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import exc

from gitward.errors import GitwardError

_TRANSIENT_MARKERS = (
    "database is locked",
    "database table is locked",
    "connection refused",
    "could not connect",
    "server closed the connection",
    "terminating connection",
    "connection is closed",
    "timeout",
    "deadlock detected",
    "could not serialize access",
)


class StoreError(GitwardError):
    """The store could not be opened, migrated, read or written."""

    def __init__(self, message: str, *, hint: str | None = None, transient: bool = False) -> None:
        super().__init__(message, hint=hint)
        self.transient = transient


def _reason(error: BaseException) -> str:
    """The driver's own words, without SQLAlchemy's SQL echo and background link."""
    original = getattr(error, "orig", None) or error
    return " ".join(str(original).split()) or type(original).__name__


_HINTS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("disk is full", "no space left"), "the disk holding {where} is full: free space there"),
    (("locked",), "another process holds the SQLite write lock; retry, or use PostgreSQL"),
    (
        ("connection refused", "could not connect"),
        "is PostgreSQL running and reachable at {where}? check the store URL",
    ),
    (
        ("password authentication",),
        "check the user and password in the store URL for {where}",
    ),
    (
        ("unable to open database file", "readonly"),
        "make {where} and its directory writable by this process, or choose another path",
    ),
)


def _hint(reason: str, transient: bool, where: str) -> str:
    lowered = reason.lower()
    for markers, hint in _HINTS:
        if any(marker in lowered for marker in markers):
            return hint.format(where=where)
    if "role" in lowered and "not exist" in lowered:
        return f"check the user and password in the store URL for {where}"
    if transient:
        return "this is usually temporary; gitward retries"
    return f"check the database at {where}; the error above comes from the database driver"


def translate(error: BaseException, action: str, where: str) -> StoreError:
    """A :class:`StoreError` for ``error``, raised while doing ``action`` on ``where``."""
    reason = _reason(error)
    transient = isinstance(error, exc.OperationalError | exc.TimeoutError | exc.DisconnectionError)
    transient = transient or any(m in reason.lower() for m in _TRANSIENT_MARKERS)
    if isinstance(error, exc.IntegrityError):
        transient = False
    return StoreError(
        f"store: cannot {action} ({where}): {reason}",
        hint=_hint(reason, transient, where),
        transient=transient,
    )


@contextmanager
def translated(action: str, where: str) -> Iterator[None]:
    """Run a block, turning database and OS errors into :class:`StoreError`."""
    try:
        yield
    except StoreError:
        raise
    except (exc.SQLAlchemyError, OSError) as error:
        raise translate(error, action, where) from error
