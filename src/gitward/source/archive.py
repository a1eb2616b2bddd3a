"""Unpack a chart or artifact archive (tar, tar.gz) without letting it reach outside.

Before it: :mod:`.oci` and :mod:`.helmrepo` download an archive and check its digest.
After it: the unpacked directory is a read-only tree for :mod:`gitward.render`.

A downloaded archive is hostile input. Every entry is checked before anything is
written, and the whole archive is refused (naming the entry) if one of them:

* has an absolute name, or a ``..`` component, or a name that is empty after
  normalisation;
* is a symbolic or hard link (charts and manifests need neither, and a link is the
  usual way out of a directory), a device, a FIFO, or any type other than a file or a
  directory;
* would make the total unpacked size pass the bound (a "zip bomb" compresses 2 GB of
  zeros into a few MB), or the number of entries pass its bound.

Python's ``tarfile`` ``filter="data"`` refuses most of these too; it is kept as a
second line, but it allows links that stay inside the directory and puts no bound on
size, so the checks above come first and say which entry was refused. Files are
written read-only; nothing is written until the archive has been read to its end.
"""

from __future__ import annotations

import gzip
import io
import posixpath
import shutil
import tarfile
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from gitward.errors import SourceError

MAX_UNPACKED_BYTES = 256 * 1024 * 1024  # far above any chart or manifest set
MAX_ENTRIES = 20_000
_HINT = "the archive is refused as a whole; fix it where it is built and push it again"


@dataclass(frozen=True)
class UnpackLimits:
    max_bytes: int = MAX_UNPACKED_BYTES
    max_entries: int = MAX_ENTRIES


def is_gzip(data: bytes) -> bool:
    return data[:2] == b"\x1f\x8b"


def is_tar(data: bytes) -> bool:
    """A tar archive, possibly gzip-compressed (the magic of a ustar header at 257)."""
    if is_gzip(data):
        return True
    return data[257:262] == b"ustar"


def _safe_name(member: tarfile.TarInfo, label: str) -> str:
    name = member.name.replace("\\", "/")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise _refuse(label, member, "has an absolute path")
    if ".." in name.split("/"):
        raise _refuse(label, member, "has a '..' component that leads out of the directory")
    normal = posixpath.normpath(name)
    if normal in {"", "."} and not member.isdir():
        raise _refuse(label, member, "has an empty name")
    return normal


def _refuse(label: str, member: tarfile.TarInfo, why: str) -> SourceError:
    return SourceError(f"{label}: archive entry {member.name!r} {why}", hint=_HINT)


def _check_type(member: tarfile.TarInfo, label: str) -> None:
    if member.issym() or member.islnk():
        target = member.linkname
        raise _refuse(label, member, f"is a link (to {target!r}); links are not allowed")
    if not (member.isfile() or member.isdir()):
        raise _refuse(label, member, "is a device, FIFO or other special file")


def check_members(archive: tarfile.TarFile, label: str, limits: UnpackLimits) -> list[str]:
    """The normalised names of all entries; a :class:`SourceError` for the first bad one."""
    names: list[str] = []
    total = 0
    for member in archive:
        if len(names) >= limits.max_entries:
            raise SourceError(
                f"{label}: the archive has more than {limits.max_entries} entries", hint=_HINT
            )
        _check_type(member, label)
        names.append(_safe_name(member, label))
        total += member.size
        if total > limits.max_bytes:
            raise SourceError(
                f"{label}: the archive unpacks to more than "
                f"{limits.max_bytes // (1024 * 1024)} MiB (at entry {member.name!r})",
                hint=_HINT,
            )
    return names


def unpack(data: bytes, target: Path, label: str, limits: UnpackLimits | None = None) -> Path:
    """Unpack the tar(.gz) ``data`` into the new directory ``target``, confined to it.

    ``label`` names the archive in errors (the chart and version, or the artifact
    digest). ``target`` must not exist; it appears only once every entry passed.
    """
    staging = staging_dir(target)
    try:
        extract_into(data, staging, label, limits)
    except SourceError:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return publish(staging, target)


def staging_dir(target: Path) -> Path:
    """A fresh directory beside ``target`` to build it in (one per caller)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))


def extract_into(
    data: bytes, directory: Path, label: str, limits: UnpackLimits | None = None
) -> None:
    """Check every entry of the tar(.gz) ``data``, then extract it into ``directory``."""
    limits = limits or UnpackLimits()
    try:
        with _open(data, label) as archive:
            check_members(archive, label, limits)
            archive.extractall(directory, filter="data")
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as e:
        raise SourceError(f"{label}: not a readable tar archive: {e}", hint=_HINT) from e


def publish(staging: Path, target: Path) -> Path:
    """Make a finished staging directory read-only and move it to ``target`` at once.

    Two processes may build the same digest at the same time: the first rename wins,
    the loser's copy (identical by digest) is dropped.
    """
    _read_only(staging)
    try:
        staging.rename(target)
    except OSError:
        if not target.is_dir():
            raise
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _open(data: bytes, label: str) -> tarfile.TarFile:
    if not is_tar(data):
        raise SourceError(f"{label}: not a tar or tar.gz archive", hint=_HINT)
    return tarfile.open(fileobj=io.BytesIO(data), mode="r:*")


def _read_only(root: Path) -> None:
    for path in root.rglob("*"):
        if path.is_file():
            path.chmod(0o444)
