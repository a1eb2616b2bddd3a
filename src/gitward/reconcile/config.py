"""Where the controller's declarations come from: a local folder or a path in Git.

``gitward serve --config`` takes either. A Git location is itself reconciled ("apps of
apps"): every load resolves the revision again, so adding an Application file to Git
adds the app and removing it removes the app. Files are read in sorted order; every
``.yaml``/``.yml``/``.json`` file under the path is a declaration file.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from gitward.errors import ConfigError
from gitward.model import RepoCredentials, Revision
from gitward.paths import confine
from gitward.ports import GitSource
from gitward.spec.declarations import Declarations, parse_declarations, read_documents

_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass(frozen=True)
class ConfigLocation:
    """A folder (``repo_url`` None) or ``path`` inside a Git repository at ``revision``."""

    path: str
    repo_url: str | None = None
    revision: str = "HEAD"

    @classmethod
    def parse(
        cls, location: str, path: str | None = None, revision: str | None = None
    ) -> ConfigLocation:
        looks_remote = "://" in location or location.startswith("git@") or location.endswith(".git")
        local = Path(location)
        if not looks_remote and local.is_dir() and not (local / ".git").exists() and not path:
            return cls(path=str(local.resolve()))
        if not looks_remote and not local.exists():
            raise ConfigError(
                f"--config {location}: no such folder or repository",
                hint="give a folder of YAML files or a Git repository URL",
            )
        repo = location if looks_remote else str(local.resolve())
        return cls(path=path or ".", repo_url=repo, revision=revision or "HEAD")

    def __str__(self) -> str:
        if self.repo_url is None:
            return self.path
        return f"{self.repo_url} (path {self.path} at {self.revision})"


@dataclass(frozen=True)
class Loaded:
    declarations: Declarations
    revision: Revision | None  # None for a local folder


class ConfigSource:
    def __init__(
        self, location: ConfigLocation, git: GitSource, credentials: RepoCredentials | None = None
    ) -> None:
        self.location = location
        self.git = git
        self.credentials = credentials

    async def load(self) -> Loaded:
        if self.location.repo_url is None:
            root = Path(self.location.path)
            files = await asyncio.to_thread(_read_all, root, root)
            return Loaded(parse_declarations(files), None)
        revision = await asyncio.to_thread(
            self.git.resolve, self.location.repo_url, self.location.revision, self.credentials
        )
        tree = await asyncio.to_thread(self.git.checkout, revision, self.credentials)
        directory = confine(tree, self.location.path, what="config path")
        files = await asyncio.to_thread(_read_all, tree, directory)
        return Loaded(parse_declarations(files), revision)


def _read_all(root: Path, directory: Path) -> list[tuple[str, object]]:
    if not directory.is_dir():
        raise ConfigError(f"the config path {directory} is not a folder")
    documents: list[tuple[str, object]] = []
    for path in _files(directory):
        confine(root, str(path.relative_to(root)), what="declaration file")
        origin = str(path.relative_to(root))
        documents.extend((origin, doc) for doc in read_documents(path, origin))
    return documents


def _files(directory: Path) -> Iterator[Path]:
    for path in sorted(directory.rglob("*")):
        if any(part.startswith(".") for part in path.relative_to(directory).parts):
            continue
        if path.is_file() and path.suffix in _SUFFIXES:
            yield path
