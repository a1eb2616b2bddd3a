"""The directory renderer: ``.yaml``, ``.yml``, ``.json`` and ``.jsonnet`` files, as Argo CD
reads them.

Files are found by a sorted walk of the application directory (subdirectories only with
``recurse``; hidden ones such as ``.git`` never), filtered by the include/exclude globs of
:mod:`gitward.render.globs`, each read through :func:`gitward.paths.confine` so that no
symlink leads outside the repository, and parsed by :mod:`gitward.render.parse`.
Symlinked directories are not descended into (as ``filepath.Walk`` does not), but one
leading outside the repository is still refused. A file larger than
:data:`gitward.loading.MAX_TEXT_BYTES` is refused before it is read.

Files that are not rendered are remembered with the reason. When no manifest at all is
read although the path holds files meant to be (a glob that selects nothing,
manifests in subdirectories without ``recurse``), the render fails and lists
them: deploying zero objects and calling that a success would hide the mistake. A
README or LICENSE alone is no such mistake: emptying a path of manifests is how an app
is emptied on purpose (the plan still refuses to prune everything unless the app
allows an empty state).
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable, Iterator
from pathlib import Path, PurePath

from gitward.errors import RenderError
from gitward.loading import LimitExceeded, check_length
from gitward.model import DecryptionKeys, DirectoryOptions, Resource
from gitward.paths import confine
from gitward.render.globs import PathFilter
from gitward.render.jsonnet import JsonnetRun, render_jsonnet
from gitward.render.parse import file_locator, limit_error, parse_json, parse_yaml
from gitward.render.sops import decrypt_manifest

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
JSONNET_SUFFIX = ".jsonnet"
_RENDERED_SUFFIXES = (*MANIFEST_SUFFIXES, JSONNET_SUFFIX)
LIBRARY = "a Jsonnet library, read through imports"
_NOT_RENDERED = {".libsonnet": LIBRARY}
# Documentation beside manifests is expected; alone, it does not make the path a mistake.
_DOCS_SUFFIXES = (".md", ".txt", ".rst", ".adoc")
_DOCS_NAMES = frozenset({"LICENSE", "NOTICE", "OWNERS", "CODEOWNERS", "README"})
DOCUMENTATION = "documentation"
_SHOWN = 10  # ignored files named in the error; the rest are counted


def repo_path(app_path: str, relative: str = "") -> str:
    """A repository-relative path with forward slashes, ``"."`` for the root."""
    base = posixpath.normpath(app_path.replace("\\", "/") or ".")
    if not relative:
        return base
    return relative if base == "." else f"{base}/{relative}"


def _walk(
    root: Path,
    directory: Path,
    relative: str,
    recurse: bool,
    ignored: dict[str, str],
    *,
    skip: frozenset[str] = frozenset(),
) -> Iterator[str]:
    """Paths of candidate files under ``directory``, relative to it, in sorted order.

    Other files (hidden ones aside) go into ``ignored`` with the reason; the folders in
    ``skip`` (relative paths) are rendered by someone else and neither entered nor listed.
    """
    with os.scandir(directory) as scan:
        entries = sorted(scan, key=lambda entry: entry.name)
    for entry in entries:
        rel = f"{relative}{entry.name}"
        if entry.is_dir(follow_symlinks=False) and rel in skip:
            continue
        if entry.is_dir(follow_symlinks=False):
            if recurse and not entry.name.startswith("."):
                yield from _walk(root, Path(entry.path), f"{rel}/", recurse, ignored, skip=skip)
            elif not entry.name.startswith(".") and _holds_manifests(entry.path):
                ignored[f"{rel}/"] = "a subdirectory with manifests, read only with recurse"
        elif entry.is_symlink() and Path(entry.path).is_dir():
            confine(root, str(Path(entry.path).relative_to(root)), what="symlink")
        elif entry.name.endswith(_RENDERED_SUFFIXES):
            yield rel
        elif not entry.name.startswith("."):
            ignored[rel] = _why_not(entry.name)


def _why_not(name: str) -> str:
    stem, suffix = PurePath(name).stem, PurePath(name).suffix
    if suffix.lower() in _DOCS_SUFFIXES or stem.upper() in _DOCS_NAMES:
        return DOCUMENTATION
    return _NOT_RENDERED.get(suffix.lower(), "not YAML or JSON")


def _holds_manifests(directory: str) -> bool:
    """Whether a directory not descended into holds manifests (hidden ones aside)."""
    for _, dirs, files in os.walk(directory):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        if any(f.endswith(_RENDERED_SUFFIXES) for f in files if not f.startswith(".")):
            return True
    return False


def _read(root: Path, path: str) -> str:
    file = confine(root, path, what="manifest file")
    try:
        check_length(file.stat().st_size, what="the file")  # before a byte is read
        return file.read_text(encoding="utf-8")
    except LimitExceeded as e:
        raise limit_error(e, path) from e
    except UnicodeDecodeError as e:
        raise RenderError(
            f"file is not UTF-8 text ({e.reason} at byte {e.start})", location=path
        ) from e
    except OSError as e:
        raise RenderError(f"cannot read the file: {e.strerror}", location=path) from e


def render_directory(
    root: Path,
    app_path: str,
    options: DirectoryOptions,
    keys: DecryptionKeys | None = None,
    jsonnet: JsonnetRun | None = None,
    *,
    skip: frozenset[str] = frozenset(),
    leave_out: Callable[[str], str | None] | None = None,
) -> list[Resource]:
    """The objects in the files of ``app_path`` (relative to the repository ``root``).

    SOPS-encrypted files are decrypted with ``keys`` (:mod:`gitward.render.sops`); one
    that cannot be decrypted fails the whole render. ``.jsonnet`` files are evaluated
    together, after the others, by :mod:`gitward.render.jsonnet` with ``jsonnet``.
    Subfolders in ``skip`` (relative to ``app_path``) are left to the caller; a file for
    which ``leave_out`` (given its path relative to ``app_path``) names a reason is not
    read."""
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
    ignored: dict[str, str] = {}
    read = 0
    jsonnet_files: list[str] = []
    for relative in _walk(real_root, app_dir, "", options.recurse, ignored, skip=skip):
        left_out = selected.excluded_by(relative)
        if left_out is not None:
            ignored[relative] = f"left out by directory.{left_out}"
            continue
        reason = leave_out(relative) if leave_out is not None else None
        if reason is not None:
            ignored[relative] = reason
            continue
        path = repo_path(base, relative)
        if relative.endswith(JSONNET_SUFFIX):
            jsonnet_files.append(path)
            read += 1
            continue
        text = _read(real_root, path)
        decrypted = decrypt_manifest(text, path, keys or DecryptionKeys())
        read += 1
        if decrypted is not None:
            resources.extend(decrypted)
            continue
        parse = parse_json if relative.endswith(".json") else parse_yaml
        resources.extend(parse(text, label=path, locate=file_locator(path)))
    if not read and not skip and any(why != DOCUMENTATION for why in ignored.values()):
        raise _nothing_rendered(base, ignored)
    if jsonnet_files:
        run = jsonnet or JsonnetRun(timeout=60.0, search_path="/usr/bin:/bin")
        resources.extend(render_jsonnet(real_root, jsonnet_files, options.jsonnet, run, base))
    return resources


def _nothing_rendered(base: str, ignored: dict[str, str]) -> RenderError:
    """No manifest was read although the path holds files: say which, and why not."""
    lines = [f"  {name}: {why}" for name, why in sorted(ignored.items())[:_SHOWN]]
    if len(ignored) > _SHOWN:
        lines.append(f"  ... and {len(ignored) - _SHOWN} more")
    return RenderError(
        "nothing to render: no .yaml, .yml, .json or .jsonnet file was read; ignored:\n"
        + "\n".join(lines),
        location=base,
        hint="check source.path and directory.include/exclude/recurse; to deploy nothing on "
        "purpose, keep an empty .yaml file in the path",
    )
