"""The Kustomize renderer: the real ``kustomize build`` on the application directory.

Before it runs, two checks keep it inside the repository. ``kustomize``'s default load
restrictor (root-only) keeps every *file* a kustomization reads under that
kustomization's own directory, but a ``resources``/``bases``/``components`` entry that is
a directory starts a new root anywhere on disk, and symlinks are followed. So every
symlink in the repository must point inside it
(:func:`gitward.paths.check_tree_symlinks`), and every local directory the
kustomizations refer to, transitively, is confined to the repository. Entries that do
not exist locally are left to kustomize: remote ones fail fast because the run has no
network (:mod:`gitward.render.process`).

The output is parsed by :mod:`gitward.render.parse`; each object's source is the
application path, since kustomize does not say which file an object came from. With
``enable_helm``, Helm test hooks of inflated charts are dropped, for the reasons given
in :mod:`gitward.render.helm`. Argo CD's other options (images, name prefix, labels,
patches, ...) are applied by an overlay in the run's temporary directory
(:mod:`gitward.render.kustomize_edits`); the checkout is never edited.
"""

from __future__ import annotations

import posixpath
import tempfile
from pathlib import Path
from typing import Any

import yaml

from gitward.errors import RenderError
from gitward.loading import load_one
from gitward.model import DecryptionKeys, KustomizeOptions, Resource, SourceLocation
from gitward.paths import check_tree_symlinks, confine
from gitward.render.directory import repo_path
from gitward.render.helm import is_test_hook
from gitward.render.kustomize_edits import write_overlay
from gitward.render.parse import parse_yaml
from gitward.render.process import offline_environment, run_tool
from gitward.render.secretfiles import DEFAULT_PLAINTEXT_DIR, decrypted_tree, raise_for

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
_REFERENCE_FIELDS = ("resources", "bases", "components")


def kustomization_file(directory: Path) -> Path | None:
    """The kustomization file of ``directory``, if it has one."""
    for name in KUSTOMIZATION_FILES:
        candidate = directory / name
        if candidate.is_file():
            return candidate
    return None


def _references(kustomization: Path, label: str) -> list[str]:
    try:
        data: Any = load_one(kustomization.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise RenderError(f"cannot read the kustomization: {e}", location=label) from e
    if not isinstance(data, dict):
        return []
    found: list[str] = []
    for field in _REFERENCE_FIELDS:
        entries = data.get(field)
        if isinstance(entries, list):
            found.extend(entry for entry in entries if isinstance(entry, str))
    return found


def check_kustomization_tree(root: Path, app_dir: Path) -> set[Path]:
    """Refuse if the kustomization at ``app_dir`` refers, transitively, to a local
    directory outside the repository ``root`` (both resolved); return the directories
    it reads (every file kustomize loads is under one of them)."""
    seen: set[Path] = set()
    pending = [app_dir]
    while pending:
        directory = pending.pop()
        if directory in seen:
            continue
        seen.add(directory)
        file = kustomization_file(directory)
        if file is None:
            continue
        label = repo_path(str(file.relative_to(root)))
        for entry in _references(file, label):
            local = directory / entry
            if "://" in entry or not local.exists():
                continue  # remote, or missing: kustomize reports it, without network
            relative = posixpath.normpath(f"{directory.relative_to(root).as_posix()}/{entry}")
            target = confine(root, relative, what=f"{label} entry {entry!r}")
            if target.is_dir():
                pending.append(target)
    return seen


def kustomize_argv(binary: Path, app_dir: Path, options: KustomizeOptions, helm: Path) -> list[str]:
    argv = [str(binary), "build", str(app_dir), "--load-restrictor", "LoadRestrictionsRootOnly"]
    if options.enable_helm:
        argv += ["--enable-helm", "--helm-command", str(helm)]
    return argv


def render_kustomize(
    root: Path,
    app_path: str,
    options: KustomizeOptions,
    *,
    kustomize: Path,
    helm: Path,
    search_path: str,
    timeout: float,
    keys: DecryptionKeys | None = None,
    plaintext_dir: Path = DEFAULT_PLAINTEXT_DIR,
) -> list[Resource]:
    """The objects ``kustomize build`` produces for ``app_path`` in the repository ``root``.

    SOPS-encrypted files in the kustomization's directories are decrypted with ``keys``
    into a private copy under ``plaintext_dir`` (:mod:`gitward.render.secretfiles`)."""
    real_root = root.resolve()
    app_dir = confine(real_root, app_path, what="application path")
    location = repo_path(app_path)
    if kustomization_file(app_dir) is None:
        raise RenderError(
            "no kustomization.yaml, kustomization.yml or Kustomization in this directory",
            location=location,
            hint="add one, or render the directory as plain manifests",
        )
    check_tree_symlinks(real_root, real_root)
    directories = check_kustomization_tree(real_root, app_dir)
    with (
        tempfile.TemporaryDirectory(prefix="gitward-kustomize-") as home,
        decrypted_tree(
            real_root, directories, keys or DecryptionKeys(), plaintext_dir, location
        ) as copy,
    ):
        build_dir = app_dir if copy is None else copy.root / app_dir.relative_to(real_root)
        if options.edits:
            build_dir = write_overlay(
                Path(home) / "overlay", build_dir, options, real_root, location
            )
        try:
            output = run_tool(
                kustomize_argv(kustomize, build_dir, options, helm),
                what="kustomize build",
                location=location,
                env=offline_environment(Path(home), search_path),
                cwd=Path(home),
                timeout=timeout,
            )
        except RenderError as e:
            if copy is None:
                raise
            raise_for(copy, e, real_root)
    source_path = repo_path(str(app_dir.relative_to(real_root)))

    def locate(line: int, index: int) -> SourceLocation:
        return SourceLocation(source_path, None, index)

    parsed = parse_yaml(output, label=f"kustomize output of {source_path}", locate=locate)
    if not options.enable_helm:
        return parsed
    return [resource for resource in parsed if not is_test_hook(resource)]
