"""Check a SQLite file path before SQLite does, to say precisely what is wrong.

SQLite reports every such problem as "unable to open database file"; this names the
path, the reason (missing directory, a file in the way, permissions, read-only disk)
and what to do about it.
"""

from __future__ import annotations

from pathlib import Path

from gitward.store.errors import StoreError

_HINT = "choose a writable location for the store (a sqlite:/// URL), or fix the permissions"


def check_writable(path: Path) -> None:
    """Create ``path``'s directory if needed and make sure the file can be written."""
    if path.is_dir():
        raise StoreError(
            f"store: cannot open the SQLite file {path}: it is a directory",
            hint="name a file inside it, e.g. sqlite:///" + str(path / "gitward.db"),
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StoreError(
            f"store: cannot create the directory {path.parent} for the SQLite file: "
            f"{error.strerror or error}",
            hint=_HINT,
        ) from error
    try:
        with path.open("ab"):
            pass
    except OSError as error:
        raise StoreError(
            f"store: cannot write the SQLite file {path}: {error.strerror or error}",
            hint=_HINT,
        ) from error
