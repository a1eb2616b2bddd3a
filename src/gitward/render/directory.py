"""The directory renderer: plain ``.yaml``, ``.yml`` and ``.json`` files, as Argo CD reads them.

Files are found by a sorted walk of the application directory (subdirectories only with
``recurse``; hidden ones such as ``.git`` never), filtered by the include/exclude globs of
:mod:`gitward.render.globs`, each read through :func:`gitward.paths.confine` so that no
symlink leads outside the repository, and parsed by :mod:`gitward.render.parse`.
Symlinked directories are not descended into (as ``filepath.Walk`` does not), but one
leading outside the repository is still refused.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterator
from pathlib import Path

from gitward.errors import RenderError
from gitward.model import DirectoryOptions, Resource
from gitward.paths import confine
from gitward.render.globs import PathFilter
from gitward.render.parse import file_locator, parse_json, parse_yaml

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


def repo_path(app_path: str, relative: str = "") -> str:
    """A repository-relative path with forward slashes, ``"."`` for the root."""
    base = posixpath.normpath(app_path.replace("\\", "/") or ".")
    if not relative:
        return base
    return relative if base == "." else f"{base}/{relative}"


def _walk(root: Path, directory: Path, relative: str, recurse: bool) -> Iterator[str]:
    """Paths of candidate files under ``directory``, relative to it, in sorted order."""
    with os.scandir(directory) as scan:
        entries = sorted(scan, key=lambda entry: entry.name)
    for entry in entries:
        rel = f"{relative}{entry.name}"
        if entry.is_dir(follow_symlinks=False):
            if recurse and not entry.name.startswith("."):
                yield from _walk(root, Path(entry.path), f"{rel}/", recurse)
        elif entry.is_symlink() and Path(entry.path).is_dir():
            confine(root, str(Path(entry.path).relative_to(root)), what="symlink")
        elif entry.name.endswith(MANIFEST_SUFFIXES):
            yield rel


def _read(root: Path, path: str) -> str:
    file = confine(root, path, what="manifest file")
    try:
        return file.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise RenderError(
            f"file is not UTF-8 text ({e.reason} at byte {e.start})", location=path
        ) from e
    except OSError as e:
        raise RenderError(f"cannot read the file: {e.strerror}", location=path) from e


def render_directory(root: Path, app_path: str, options: DirectoryOptions) -> list[Resource]:
    """The objects in the files of ``app_path`` (relative to the repository ``root``)."""
    real_root = root.resolve()
    app_dir = confine(real_root, app_path, what="application path")
    if not app_dir.is_dir():
        raise RenderError(
            "the application path is not a directory in the repository",
            location=repo_path(app_path),
            hint="check source.path of the application against the repository at this commit",
        )
    selected = PathFilter(options.include, options.exclude)
    base = repo_path(str(app_dir.relative_to(real_root)))
    resources: list[Resource] = []
    for relative in _walk(real_root, app_dir, "", options.recurse):
        if not selected.selects(relative):
            continue
        path = repo_path(base, relative)
        text = _read(real_root, path)
        parse = parse_json if relative.endswith(".json") else parse_yaml
        resources.extend(parse(text, label=path, locate=file_locator(path)))
    return resources
