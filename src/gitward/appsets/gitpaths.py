"""The Git generators' view of a checked-out tree: folders and files by glob, and the
parameters a JSON or YAML file holds.

Globs match path segments as Go's ``path.Match`` does (``*`` never crosses ``/``), and
``**`` matches any number of folders. Hidden entries (``.git``) are never listed. A
pattern whose fixed leading folder does not exist is an error: a typo in a path must
not look like "no apps". Every match is confined to the repository (no symlink out).
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from gitward.appsets.model import GitDirectory
from gitward.errors import ConfigError
from gitward.paths import confine
from gitward.spec.declarations import read_documents

_GLOB = set("*?[")


def glob_dirs(root: Path, directories: Sequence[GitDirectory], where: str) -> list[str]:
    """Folders matched by an including pattern and by no excluding one, sorted."""
    folders = _entries(root, dirs=True)
    included: set[str] = set()
    for d in (d for d in directories if not d.exclude):
        _check_base(root, d.path, where)
        included |= {f for f in folders if _match(f, d.path)}
    excluded = {f for f in included for d in directories if d.exclude and _match(f, d.path)}
    return sorted(included - excluded)


def glob_files(root: Path, pattern: str, where: str) -> list[str]:
    _check_base(root, pattern, where)
    return sorted(f for f in _entries(root, dirs=False) if _match(f, pattern))


def read_params(root: Path, path: str) -> list[Mapping[str, Any]]:
    """The parameter sets of one file: a mapping is one, a list of mappings is several."""
    confine(root, path, what="git generator file")
    found: list[Mapping[str, Any]] = []
    for doc in read_documents(root / path, origin=path):
        items = doc if isinstance(doc, list) else [doc]
        for item in items:
            if not isinstance(item, Mapping):
                raise ConfigError(
                    f"{path}: a git files generator file must hold a mapping or a list of "
                    f"mappings, not {type(item).__name__}"
                )
            found.append({str(k): v for k, v in item.items()})
    return found


def _check_base(root: Path, pattern: str, where: str) -> None:
    parts = PurePosixPath(pattern).parts
    fixed = []
    for part in parts:
        if _GLOB & set(part):
            break
        fixed.append(part)
    base = "/".join(fixed) or "."
    glob = len(fixed) < len(parts)
    target = confine(root, base, what="git generator path")
    if not target.exists() or (glob and not target.is_dir()):
        raise ConfigError(
            f"git generator path {pattern!r}: {base!r} does not exist in {where}",
            hint="fix the path, or push the folder it names",
        )


def _entries(root: Path, *, dirs: bool) -> list[str]:
    """Every folder (or file) under ``root`` as a relative POSIX path, hidden ones left out."""
    real = root.resolve()
    found: list[str] = []
    for current, subdirs, files in os.walk(real, followlinks=False):
        subdirs[:] = [d for d in subdirs if not d.startswith(".")]
        here = Path(current).relative_to(real)
        names: Iterable[str] = subdirs if dirs else (f for f in files if not f.startswith("."))
        for name in names:
            relative = (here / name).as_posix()
            confine(real, relative, what="git generator path")
            found.append(relative)
    return found


def _match(path: str, pattern: str) -> bool:
    return _match_parts(path.split("/"), [p for p in pattern.strip("/").split("/") if p != "."])


def _match_parts(parts: list[str], pattern: list[str]) -> bool:
    if not pattern:
        return not parts
    if pattern[0] == "**":
        return any(_match_parts(parts[i:], pattern[1:]) for i in range(len(parts) + 1))
    return (
        bool(parts)
        and fnmatch.fnmatchcase(parts[0], pattern[0])
        and _match_parts(parts[1:], pattern[1:])
    )
