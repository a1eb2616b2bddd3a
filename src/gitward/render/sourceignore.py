"""Flux's ``.sourceignore`` rules, for paths built as Flux's kustomize-controller builds them.

Flux's source-controller leaves files out of the artifact it hands to kustomize-controller:
first its defaults (version control files, CI configurations, images and archives, SOPS
and Flux settings), then the patterns of every ``.sourceignore`` file in the repository,
each applying below its own folder. The patterns are ``.gitignore``'s; the last pattern
that matches a path decides, so ``!name`` takes a file back. A repository migrated from
Flux often relies on this (a folder of test fixtures, CI files next to manifests), so
gitward's generated builds (:mod:`gitward.render.generated`) leave out the same files:
without it, gitward would apply what Flux never did.

Only the ``.sourceignore`` files that can match under the app's path are read: those in
the folders above it and those inside it. Matching is ``pathspec``'s Git wildmatch, the
same rules as Git's own ignore files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from pathspec import GitIgnoreSpec

from gitward.paths import confine

IGNORE_FILE = ".sourceignore"
# Flux's documented defaults for a GitRepository artifact.
DEFAULTS = (
    ".git/",
    ".gitignore",
    ".gitmodules",
    ".gitattributes",
    "*.jpg",
    "*.jpeg",
    "*.gif",
    "*.png",
    "*.wmv",
    "*.flv",
    "*.tar.gz",
    "*.zip",
    ".github/",
    ".circleci/",
    ".travis.yml",
    ".gitlab-ci.yml",
    "appveyor.yml",
    ".drone.yml",
    "cloudbuild.yaml",
    "codeship-services.yml",
    "codeship-steps.yml",
    "**/.goreleaser.yml",
    "**/.sops.yaml",
    "**/.flux.yaml",
)


@dataclass(frozen=True)
class SourceIgnore:
    """The ignore rules that apply under one app path, lowest precedence first: each a
    folder (repository-relative, "" for the root) and the patterns that apply below it."""

    rules: tuple[tuple[str, GitIgnoreSpec], ...]

    @classmethod
    def load(cls, root: Path, app_path: str, extra: str | None = None) -> SourceIgnore:
        """The defaults, then the ``.sourceignore`` files above ``app_path`` (root first)
        and inside it (parents before their subfolders), then ``extra`` (Flux's
        GitRepository ``spec.ignore``, from the repository's root)."""
        real_root = root.resolve()
        app_dir = confine(real_root, app_path, what="application path")
        relative = PurePosixPath(app_dir.relative_to(real_root).as_posix())
        above = [PurePosixPath(*relative.parts[:depth]) for depth in range(len(relative.parts))]
        rules = [("", GitIgnoreSpec.from_lines(DEFAULTS))]
        for found in [*(str(p) for p in above), *_folders_below(real_root, app_dir)]:
            folder = "" if found == "." else found
            spec = _read(real_root, folder)
            if spec is not None:
                rules.append((folder, spec))
        extra_rules = _patterns((extra or "").splitlines())
        if extra_rules is not None:
            rules.append(("", extra_rules))
        return cls(tuple(rules))

    def ignored(self, path: str) -> bool:
        """Whether Flux leaves ``path`` (repository-relative; a folder ends with ``/``)
        out of the artifact."""
        decision: bool | None = None
        for folder, spec in self.rules:
            if folder and not path.startswith(f"{folder}/"):
                continue
            result = spec.check_file(path[len(folder) + 1 :] if folder else path)
            if result.include is not None:
                decision = result.include
        return bool(decision)


def _folders_below(root: Path, app_dir: Path) -> list[str]:
    """``app_dir`` and its folders, repository-relative, parents first (no ``.git``; a
    symlinked folder is not entered, as Flux does not)."""
    found: list[str] = []
    for directory, dirs, _files in os.walk(app_dir):
        dirs[:] = sorted(d for d in dirs if d != ".git")
        found.append(Path(directory).relative_to(root).as_posix())
    return found


def _read(root: Path, folder: str) -> GitIgnoreSpec | None:
    path = (root / folder / IGNORE_FILE) if folder else root / IGNORE_FILE
    if not path.is_file():
        return None
    confine(root, str(path.relative_to(root)), what=IGNORE_FILE)  # a symlink out: refused
    return _patterns(path.read_text(encoding="utf-8", errors="replace").splitlines())


def _patterns(lines: list[str]) -> GitIgnoreSpec | None:
    kept = [line for line in lines if line.strip() and not line.startswith("#")]
    return GitIgnoreSpec.from_lines(kept) if kept else None
