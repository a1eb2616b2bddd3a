"""A path without a kustomization file, built as Flux's kustomize-controller builds it.

Flux generates a kustomization for such a path whose resources are every ``.yaml`` and
``.yml`` file of the whole tree, except that a subfolder holding a kustomization file is
listed as a folder (built by Kustomize) and not descended into. The generated file sets
nothing else, so its output is the files' objects followed by each such folder's build.
gitward produces the same objects without writing into the checkout: the files through
the directory renderer (confined, SOPS-decrypted, hidden folders skipped, as for any
directory source), the folders through :mod:`gitward.render.kustomize`. A file that is
not Kubernetes YAML is an error, as it is for Flux. Files and folders that Flux leaves
out of its artifact (defaults and ``.sourceignore`` files,
:mod:`gitward.render.sourceignore`) are left out here too.

Used by :class:`gitward.render.renderer.ManifestRenderer` for apps whose
``kustomize.generate`` is set (every Flux ``Kustomization``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from gitward.errors import RenderError
from gitward.model import DecryptionKeys, DirectoryOptions, Resource
from gitward.paths import confine
from gitward.render.directory import render_directory, repo_path
from gitward.render.jsonnet import JsonnetRun
from gitward.render.kustomize import kustomization_file
from gitward.render.sourceignore import IGNORE_FILE, SourceIgnore

FLUX_FILES = DirectoryOptions(recurse=True, include="*.{yaml,yml}")


def kustomization_folders(
    root: Path, app_path: str, ignore: SourceIgnore | None = None
) -> list[str]:
    """Subfolders of ``app_path`` (relative to it, sorted) holding a kustomization file;
    none of them inside another. Hidden folders, symlinked ones and those ``ignore``
    leaves out are not entered."""
    app_dir = confine(root, app_path, what="application path")
    found: list[str] = []
    for directory, dirs, _files in os.walk(app_dir):
        dirs.sort()
        kept = []
        for name in dirs:
            child = Path(directory) / name
            if name.startswith(".") or child.is_symlink():
                continue
            if ignore is not None and ignore.ignored(f"{child.relative_to(root).as_posix()}/"):
                continue
            if kustomization_file(child) is not None:
                found.append(child.relative_to(app_dir).as_posix())
            else:
                kept.append(name)
        dirs[:] = kept
    return sorted(found)


def render_generated(
    root: Path,
    app_path: str,
    build: Callable[[str], list[Resource]],
    keys: DecryptionKeys | None,
    jsonnet: JsonnetRun,
    *,
    ignore_patterns: str | None = None,
) -> list[Resource]:
    """The objects of ``app_path`` as Flux's generated kustomization has them; ``build``
    runs Kustomize on a repository path; ``ignore_patterns``: the source's own."""
    real_root = root.resolve()
    ignore = SourceIgnore.load(real_root, app_path, ignore_patterns)
    folders = kustomization_folders(real_root, app_path, ignore)
    base = confine(real_root, app_path, what="application path").relative_to(real_root)

    def leave_out(relative: str) -> str | None:
        path = (base / relative).as_posix()
        return f"left out by Flux's {IGNORE_FILE} rules" if ignore.ignored(path) else None

    resources = render_directory(
        real_root,
        app_path,
        FLUX_FILES,
        keys,
        jsonnet,
        skip=frozenset(folders),
        leave_out=leave_out,
    )
    for folder in folders:
        resources.extend(build(repo_path(app_path, folder)))
    return resources


def refuse_edits_without_kustomization(app_path: str) -> RenderError:
    return RenderError(
        "images, patches, namePrefix and nameSuffix need a kustomization file in the path "
        "(gitward applies them on top of it; it does not generate one for them yet)",
        location=repo_path(app_path),
        hint="add a kustomization.yaml listing the path's manifests",
    )
