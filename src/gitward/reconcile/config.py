"""Where the controller's declarations come from: a local folder or a path in Git.

``gitward serve --config`` takes either. A Git location is itself reconciled ("apps of
apps"): every load resolves the revision again, so adding an Application file to Git
adds the app and removing it removes the app. Files are read in sorted order; every
``.yaml``/``.yml``/``.json`` file under the path is a declaration file, except those in
the folder of health rules (``--health-rules``, relative to the repository root, or to
the folder): rule files read at the same revision, so that pushing a rule changes
health like pushing an Application changes apps (see docs/health.md).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from gitward.errors import ConfigError
from gitward.healthrules import CONFIG, read_rule_files
from gitward.model import RepoCredentials, Revision
from gitward.observe.health import LibraryRule, RuleError
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
    health_rules: str | None = None  # a folder of health rule files, from the root

    @classmethod
    def parse(
        cls,
        location: str,
        path: str | None = None,
        revision: str | None = None,
        health_rules: str | None = None,
    ) -> ConfigLocation:
        looks_remote = "://" in location or location.startswith("git@") or location.endswith(".git")
        local = Path(location)
        if not looks_remote and local.is_dir() and not (local / ".git").exists() and not path:
            return cls(path=str(local.resolve()), health_rules=health_rules)
        if not looks_remote and not local.exists():
            raise ConfigError(
                f"--config {location}: no such folder or repository",
                hint="give a folder of YAML files or a Git repository URL",
            )
        repo = location if looks_remote else str(local.resolve())
        return cls(
            path=path or ".", repo_url=repo, revision=revision or "HEAD", health_rules=health_rules
        )

    def __str__(self) -> str:
        if self.repo_url is None:
            return self.path
        return f"{self.repo_url} (path {self.path} at {self.revision})"


@dataclass(frozen=True)
class Loaded:
    declarations: Declarations
    revision: Revision | None  # None for a local folder
    health_rules: tuple[LibraryRule, ...] = ()  # parsed, not compiled
    rule_errors: tuple[RuleError, ...] = ()  # files that did not parse, named with line


class ConfigSource:
    def __init__(
        self, location: ConfigLocation, git: GitSource, credentials: RepoCredentials | None = None
    ) -> None:
        self.location = location
        self.git = git
        self.credentials = credentials

    async def load(self) -> Loaded:
        if self.location.repo_url is None:
            root = directory = Path(self.location.path)
            revision = None
        else:
            revision = await asyncio.to_thread(
                self.git.resolve, self.location.repo_url, self.location.revision, self.credentials
            )
            root = await asyncio.to_thread(self.git.checkout, revision, self.credentials)
            directory = confine(root, self.location.path, what="config path")
        rules = self.location.health_rules
        skip = confine(root, rules, what="health rules folder") if rules else None
        files = await asyncio.to_thread(_read_all, root, directory, skip)
        loaded = Loaded(parse_declarations(files), revision)
        if skip is None:
            return loaded
        found, errors = await asyncio.to_thread(_read_rules, root, skip)
        return dataclasses.replace(loaded, health_rules=tuple(found), rule_errors=tuple(errors))


def _read_rules(root: Path, folder: Path) -> tuple[list[LibraryRule], list[RuleError]]:
    """The rule files, named by their path in the repository (``health/cert.yaml:4``)."""
    real_root = root.resolve()
    for path in folder.rglob("*"):  # a symlink out of the repository, as for declarations
        confine(real_root, str(path.relative_to(real_root)), what="health rule file")
    found, errors = read_rule_files(folder, CONFIG)
    shown = str(folder.relative_to(real_root))
    found = [
        dataclasses.replace(
            r, rule=dataclasses.replace(r.rule, origin=_rel(r.rule.origin, folder, shown))
        )
        for r in found
    ]
    errors = [dataclasses.replace(e, where=_rel(e.where, folder, shown)) for e in errors]
    return found, errors


def _rel(where: str, folder: Path, shown: str) -> str:
    prefix = str(folder)
    return shown + where[len(prefix) :] if where.startswith(prefix) else where


def _read_all(root: Path, directory: Path, skip: Path | None) -> list[tuple[str, object]]:
    if not directory.is_dir():
        raise ConfigError(f"the config path {directory} is not a folder")
    documents: list[tuple[str, object]] = []
    for path in _files(directory):
        if skip is not None and path.is_relative_to(skip):
            continue  # health rules, not declarations
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
