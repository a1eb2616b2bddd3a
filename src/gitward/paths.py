"""Keep every path a stage reads inside the repository it came from.

Git trees can hold ``..`` in paths given by users and symlinks that point anywhere. A
path is *confined* when, after resolving every symlink on the way, it is still inside
the repository root. Both the source stage (for the application path) and the render
stage (for every file a renderer reads: values files, kustomize resources, patches)
use :func:`confine`; :func:`check_tree_symlinks` vets a whole directory before an
external program such as ``kustomize`` or ``helm`` reads it.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from gitward.errors import PathEscapeError


def confine(root: Path, relative: str, *, what: str = "path") -> Path:
    """``root / relative``, resolved, guaranteed to stay inside ``root``.

    Refuses absolute paths, ``..`` that climbs out, and symlinks leading outside.
    """
    if "\x00" in relative:
        raise PathEscapeError(f"{what} {relative!r} contains a NUL byte")
    pure = PurePosixPath(relative.replace("\\", "/"))
    if pure.is_absolute():
        raise PathEscapeError(
            f"{what} {relative!r} is absolute; paths must be relative to the repository root"
        )
    real_root = root.resolve()
    candidate = (real_root / pure).resolve()
    if candidate != real_root and real_root not in candidate.parents:
        raise PathEscapeError(
            f"{what} {relative!r} leads outside the repository (to {candidate})",
            hint="use a path inside the repository; symlinks must point inside it too",
        )
    return candidate


def check_tree_symlinks(root: Path, directory: Path) -> None:
    """Refuse if any symlink under ``directory`` points outside ``root``."""
    real_root = root.resolve()
    for current, dirs, files in os.walk(directory, followlinks=False):
        for name in (*dirs, *files):
            path = Path(current) / name
            if path.is_symlink():
                target = path.resolve()
                if target != real_root and real_root not in target.parents:
                    shown = path.relative_to(real_root) if path.is_relative_to(real_root) else path
                    raise PathEscapeError(
                        f"symlink {shown} points outside the repository (to {target})",
                        hint="replace the symlink with a file or a link inside the repository",
                    )
