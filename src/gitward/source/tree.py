"""Extract the tree of a commit into a read-only directory, once per SHA.

The mirror (:mod:`.mirror`) holds the objects; :func:`extract_tree` writes the files of
one commit under ``trees/<sha>`` for :mod:`gitward.render` to read. Extraction goes to
a temporary directory first and is renamed into place, so a reader sees the whole tree
or none of it, and two processes extracting the same commit both end up with one tree.

Entries are written without ever following a path: names holding ``/``, ``..``, a NUL
or a ``.git`` component are refused, files are created with ``O_EXCL | O_NOFOLLOW``,
and symlinks are written as symlinks without being resolved. A repository may hold a
symlink pointing outside itself that no application reads, so links are vetted only
for the directory an application uses, by :func:`app_directory`. Submodules are left
as empty directories: gitward does not fetch them.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from pathlib import Path

import pygit2

from gitward.errors import PathEscapeError, SourceError
from gitward.paths import check_tree_symlinks, confine

_READ_ONLY_FILE = 0o444
_READ_ONLY_EXEC = 0o555
_READ_ONLY_DIR = 0o555


def extract_tree(git: pygit2.Repository, sha: str, trees_dir: Path, label: str) -> Path:
    """``trees_dir/<sha>`` holding the tree of commit ``sha``; ``label`` names it in errors."""
    target = trees_dir / sha
    if target.is_dir():
        return target
    trees_dir.mkdir(parents=True, exist_ok=True)
    commit = git[sha].peel(pygit2.Commit)
    staging = Path(tempfile.mkdtemp(prefix=f".{sha[:12]}-", dir=trees_dir))
    try:
        root = staging / "tree"
        _write_tree(git, commit.tree, root, "", label)
        _make_read_only(root)
        try:
            root.rename(target)
        except OSError:
            if not target.is_dir():  # anything but "someone else was faster"
                raise
    finally:
        _remove(staging)
    return target


def _write_tree(
    git: pygit2.Repository, tree: pygit2.Tree, directory: Path, prefix: str, label: str
) -> None:
    directory.mkdir()
    for entry in tree:
        name = entry.name or ""
        _check_name(name, prefix, label)
        path = directory / name
        mode = entry.filemode
        if mode == pygit2.enums.FileMode.TREE:
            _write_tree(git, git[entry.id].peel(pygit2.Tree), path, f"{prefix}{name}/", label)
        elif mode == pygit2.enums.FileMode.LINK:
            path.symlink_to(os.fsdecode(git[entry.id].peel(pygit2.Blob).data))
        elif mode == pygit2.enums.FileMode.COMMIT:
            path.mkdir()  # a submodule: not fetched
        else:
            _write_file(
                path,
                git[entry.id].peel(pygit2.Blob).data,
                mode == pygit2.enums.FileMode.BLOB_EXECUTABLE,
            )


def _check_name(name: str, prefix: str, label: str) -> None:
    if (
        name in ("", ".", "..")
        or "/" in name
        or "\\" in name
        or "\x00" in name
        or name.lower() == ".git"
    ):
        raise PathEscapeError(
            f"{label} holds a tree entry named {prefix}{name!r}, which could write outside "
            "the checkout",
            hint="this commit cannot be checked out safely; remove the entry from the repository",
        )


def _write_file(path: Path, data: bytes, executable: bool) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(path, flags, 0o644)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        os.fchmod(handle.fileno(), _READ_ONLY_EXEC if executable else _READ_ONLY_FILE)


def _make_read_only(root: Path) -> None:
    """Directories last, deepest first, so nothing new can appear in them."""
    for current, _dirs, _files in os.walk(root, topdown=False):
        Path(current).chmod(_READ_ONLY_DIR)


def _remove(path: Path) -> None:
    """Remove a directory tree even where it was made read-only."""
    if not path.exists():
        return
    for current, dirs, _files in os.walk(path):
        Path(current).chmod(stat.S_IRWXU)
        for name in dirs:
            child = Path(current) / name
            if not child.is_symlink():
                child.chmod(stat.S_IRWXU)
    shutil.rmtree(path)


def app_directory(tree_root: Path, app_path: str) -> Path:
    """The application's directory inside a checked-out tree, after vetting it.

    Refuses (:class:`~gitward.errors.PathEscapeError`) an absolute path, a path that
    climbs out with ``..`` and any symlink on the way or inside the directory that
    leads outside the tree; raises :class:`~gitward.errors.SourceError` if the path
    is not a directory of the tree.
    """
    directory = confine(tree_root, app_path or ".", what="application path")
    if not directory.is_dir():
        raise SourceError(
            f"application path {app_path!r} is not a directory in the checkout {tree_root.name}",
            hint="set spec.source.path to a directory of the repository at this revision",
        )
    check_tree_symlinks(tree_root, directory)
    return directory
