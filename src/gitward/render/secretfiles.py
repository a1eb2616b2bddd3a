"""Decrypted copies of a kustomization's files, on a memory filesystem, for one run.

``kustomize`` reads real files: a SOPS-encrypted manifest in ``resources`` or an
encrypted ``secretGenerator`` env file or file must exist in plaintext while it runs. So
when the directories of a kustomization hold SOPS files, they are copied into a private
directory (mode 0700, files 0600) on a memory filesystem (``/dev/shm``, tmpfs), the
encrypted files replaced by their plaintext in the same format, ``kustomize`` runs on
the copy, and the copy is removed in a ``finally``: plaintext never reaches a disk (short
of swap) and never outlives the run. Without a memory filesystem the render is refused
rather than writing plaintext to disk. Trees without SOPS files are rendered in place.

A file that cannot be decrypted is left out of the copy and its error kept: if
``kustomize`` then fails (it needed the file), that error is raised, naming the file and
its recipients; if ``kustomize`` succeeds, the file was not used. Used by
:mod:`gitward.render.kustomize`; decryption itself is :mod:`gitward.render.sops`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import yaml

from gitward.errors import DecryptionError, RenderError
from gitward.model import DecryptionKeys
from gitward.render.sops import decrypt
from gitward.render.sops_stores import SopsFormat, may_be_encrypted

MEMORY_FILESYSTEMS = ("tmpfs", "ramfs")
DEFAULT_PLAINTEXT_DIR = Path("/dev/shm")  # noqa: S108 - a private mkdtemp inside
_MIN_SCRUBBED = 4  # shorter values would mangle every message; nothing to guess at 3
_MAX_SCAN_BYTES = 4 << 20  # a SOPS file is text; bigger files are charts, binaries, data


@dataclass
class DecryptedTree:
    """The private copy: where it is, what to scrub from messages, and what failed."""

    root: Path
    plaintexts: list[str] = field(default_factory=list)
    failures: list[DecryptionError] = field(default_factory=list)

    def scrub(self, text: str, real_root: Path) -> str:
        """``text`` (a tool's error output) with the copy's path and every secret gone."""
        text = text.replace(str(self.root), str(real_root))
        for secret in sorted(self.plaintexts, key=len, reverse=True):
            if len(secret) >= _MIN_SCRUBBED:
                text = text.replace(secret, "<redacted>")
        return text


def _files(directories: Iterable[Path]) -> Iterator[Path]:
    for directory in directories:
        for parent, dirs, names in os.walk(directory):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(names):
                yield Path(parent) / name


def _candidates(directories: Iterable[Path]) -> dict[Path, str]:
    """Files that look SOPS-encrypted for their format, with their text."""
    found: dict[Path, str] = {}
    for path in _files(directories):
        if path in found or not path.is_file() or path.stat().st_size > _MAX_SCAN_BYTES:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        if may_be_encrypted(text, SopsFormat.of(path.name)):
            found[path] = text
    return found


def _emit(documents: list[Any], fmt: SopsFormat) -> str:
    """The plaintext of a decrypted file in its own format, as ``sops -d`` prints it."""
    if fmt is SopsFormat.YAML:
        return yaml.dump_all(documents, Dumper=yaml.CSafeDumper, sort_keys=False)
    if fmt is SopsFormat.JSON:
        return json.dumps(documents[0], indent=2)
    if fmt is SopsFormat.BINARY:
        return str(documents[0].get("data", ""))
    lines = []
    for key, value in documents[0].items():
        text = value if isinstance(value, str) else json.dumps(value)
        lines.append(f"{key}={text.replace(chr(10), chr(92) + 'n')}\n")
    return "".join(lines)


def is_memory_filesystem(path: Path) -> bool:
    """True if ``path`` is on tmpfs or ramfs, by the longest matching mount point."""
    try:
        mounts = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return False
    real = str(path.resolve())
    best, kind = "", ""
    for line in mounts:
        fields = line.split()
        if len(fields) < 3:
            continue
        point = fields[1].replace("\\040", " ")
        inside = real == point or real.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, kind = point, fields[2]
    return kind in MEMORY_FILESYSTEMS


def _private_dir(base: Path, location: str) -> Path:
    if not base.is_dir() or not is_memory_filesystem(base):
        raise DecryptionError(
            f"SOPS-encrypted files must be decrypted for kustomize, and {base} is not a "
            "memory filesystem (tmpfs); gitward does not write plaintext to disk",
            location=location,
            hint="run gitward where /dev/shm is a tmpfs (Linux), or decrypt without kustomize",
        )
    return Path(tempfile.mkdtemp(prefix="gitward-sops-", dir=base))  # mode 0700


def _write_private(path: Path, text: str) -> None:
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(text)


def _outermost(directories: Iterable[Path]) -> list[Path]:
    ordered = sorted(set(directories), key=lambda p: len(p.parts))
    kept: list[Path] = []
    for directory in ordered:
        if not any(directory.is_relative_to(k) for k in kept):
            kept.append(directory)
    return kept


def _copy(root: Path, dirs: list[Path], target: Path, location: str) -> None:
    """Copy ``dirs`` under ``target``; symlinks stay links (never followed into loops)."""
    try:
        for directory in dirs:
            shutil.copytree(
                directory,
                target / directory.relative_to(root),
                symlinks=True,
                ignore=shutil.ignore_patterns(".git"),
                dirs_exist_ok=True,
                copy_function=shutil.copyfile,
            )
    except (OSError, shutil.Error) as e:
        raise RenderError(
            f"cannot copy the kustomization for decryption: {e}", location=location
        ) from e


@contextlib.contextmanager
def decrypted_tree(
    root: Path, directories: Iterable[Path], keys: DecryptionKeys, base: Path, location: str
) -> Iterator[DecryptedTree | None]:
    """A private copy of ``directories`` (inside ``root``) with SOPS files decrypted, or
    None when they hold none. Removed when the block ends, whatever happens."""
    dirs = _outermost(directories)
    plaintext: dict[Path, str] = {}
    failed: list[Path] = []  # left out of the copy: never handed to kustomize encrypted
    tree = DecryptedTree(Path())
    for path, text in _candidates(dirs).items():
        label = str(path.relative_to(root))
        fmt = SopsFormat.of(path.name)
        try:
            decrypted = decrypt(text, fmt, keys, label)
        except DecryptionError as e:
            tree.failures.append(e)
            failed.append(path)
            continue
        if decrypted is not None:
            plaintext[path] = _emit(decrypted.documents, fmt)
            tree.plaintexts += decrypted.plaintexts
    if not plaintext and not failed:
        yield None
        return
    tree.root = _private_dir(base, location)
    try:
        _copy(root, dirs, tree.root, location)
        for path, text in plaintext.items():
            _write_private(tree.root / path.relative_to(root), text)
        for path in failed:
            (tree.root / path.relative_to(root)).unlink(missing_ok=True)
        yield tree
    finally:
        shutil.rmtree(tree.root, ignore_errors=True)


def raise_for(tree: DecryptedTree, error: RenderError, real_root: Path) -> NoReturn:
    """Re-raise a failed run on the copy: a decryption failure first (it is the likely
    reason), else the tool's error with the copy's path and all plaintext scrubbed."""
    if tree.failures:
        first = tree.failures[0]
        raise DecryptionError(first.message, hint=first.hint) from None
    scrubbed = RenderError(tree.scrub(error.message, real_root), hint=error.hint)
    scrubbed.location = error.location
    raise scrubbed from None
