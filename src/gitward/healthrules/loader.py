"""Read rule files into :class:`LibraryRule` values, with the line of every expression.

A file that cannot be read or parsed, or that has an unknown field, becomes a
:class:`RuleError` naming the file (and line) and is skipped; the other files load.
Files under a ``fixtures/`` folder are examples, not rules, and are skipped too.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml

from gitward import loading
from gitward.model import HealthRule
from gitward.observe.health import HealthLibrary, HealthSettings, LibraryRule, RuleError

log = logging.getLogger("gitward.health")

BUNDLED = "bundled"
INSTALL = "install"
CONFIG = "config"  # a folder of the config repository (gitward serve --health-rules)
ENV_FOLDERS = "GITWARD_HEALTH_RULES"  # an install's rule folders, os.pathsep-separated
ENV_GRACE = "GITWARD_HEALTH_NO_STATUS_GRACE"
_EXPRESSIONS = ("suspended", "healthy", "degraded", "progressing", "message")
_FIELDS = frozenset({"group", "kinds", "docs", "expectsStatus", *_EXPRESSIONS})


def bundled_root() -> Traversable:
    return resources.files("gitward.healthrules").joinpath("library")


def load_library(
    folders: Sequence[Path] = (),
    *,
    bundled: bool = True,
    settings: HealthSettings | None = None,
) -> HealthLibrary:
    """The bundled rules, then each folder's (a later rule for a kind replaces earlier).

    The bundled files are parsed and indexed now, and each rule compiled the first time
    its kind is judged (tests/health compiles them all, so a broken one fails CI); a
    folder's rules, written by the install, are compiled now so that their errors show
    at start.
    """
    rules, errors = read_rule_files(bundled_root(), BUNDLED) if bundled else ([], [])
    library = HealthLibrary(rules, errors, settings, lazy=True)
    for folder in folders:
        library = library.with_rules(*read_rule_files(folder, INSTALL))
    return library


@functools.cache
def installed_library() -> HealthLibrary:
    """The library the engine uses: bundled plus the folders in ``$GITWARD_HEALTH_RULES``.

    Read once per process, when the first engine judges health (a rule is compiled when
    its kind is first judged); a rule that does not load is logged there as an error
    naming its file and line, and left out.
    """
    library = load_library(env_folders(), settings=env_settings())
    for error in library.errors:
        log.error("health rule not loaded: %s", error)
    return library


def env_settings() -> HealthSettings:
    """``$GITWARD_HEALTH_NO_STATUS_GRACE``: seconds before "waiting for its controller" is
    Degraded (600 unless set)."""
    raw = os.environ.get(ENV_GRACE, "")
    if not raw:
        return HealthSettings()
    try:
        seconds: float | None = float(raw)
    except ValueError:
        seconds = None
    if seconds is None:
        log.error("%s=%r is not a number of seconds; using 600", ENV_GRACE, raw)
        return HealthSettings()
    return HealthSettings(no_status_grace=seconds)


def env_folders() -> list[Path]:
    """The install's rule folders named by ``$GITWARD_HEALTH_RULES``."""
    return [Path(p) for p in os.environ.get(ENV_FOLDERS, "").split(os.pathsep) if p]


def read_rule_files(
    root: Traversable, source: str = INSTALL
) -> tuple[list[LibraryRule], list[RuleError]]:
    """Every rule under ``root`` (sorted by path) and an error for each unusable file."""
    if not root.is_dir():
        return [], [RuleError(str(root), "not a folder of rule files")]
    rules: list[LibraryRule] = []
    errors: list[RuleError] = []
    for path, shown in _rule_files(root, _label(root, source)):
        try:
            rules += parse_rule_file(path.read_text(encoding="utf-8"), shown, source)
        except RuleFileError as e:
            errors.append(e.error)
        except (OSError, UnicodeDecodeError) as e:
            errors.append(RuleError(shown, f"cannot read: {e}"))
    return rules, errors


def _label(root: Traversable, source: str) -> str:
    return "gitward:healthrules/library" if source == BUNDLED else str(root)


def _rule_files(root: Traversable, shown: str) -> Iterator[tuple[Traversable, str]]:
    for child in sorted(root.iterdir(), key=lambda c: c.name):
        if child.name.startswith(".") or child.name == "fixtures":
            continue
        if child.is_dir():
            yield from _rule_files(child, f"{shown}/{child.name}")
        elif child.name.endswith((".yaml", ".yml")):
            yield child, f"{shown}/{child.name}"


class RuleFileError(Exception):
    def __init__(self, where: str, message: str) -> None:
        super().__init__(message)
        self.error = RuleError(where, message)


def parse_rule_file(text: str, origin: str, source: str = INSTALL) -> list[LibraryRule]:
    """One :class:`LibraryRule` per kind the file names; RuleFileError when unusable."""
    try:
        node = yaml.compose(text, Loader=yaml.CSafeLoader)  # for lines; aliases stay shared
        data = loading.load_one(text)  # bounded: an install's files are user input
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{origin}:{mark.line + 1}" if mark is not None else origin
        raise RuleFileError(where, f"not valid YAML: {getattr(e, 'problem', e)}") from e
    if not isinstance(data, Mapping) or not isinstance(node, yaml.MappingNode):
        raise RuleFileError(origin, "a rule file is a map with group, kinds and expressions")
    lines = {str(k.value): k.start_mark.line + 1 for k, _ in node.value}
    return _rules(data, origin, lines, source)


def _rules(
    data: Mapping[str, Any], origin: str, lines: Mapping[str, int], source: str
) -> list[LibraryRule]:
    def fail(field: str, message: str) -> RuleFileError:
        return RuleFileError(f"{origin}:{lines.get(field, 1)}", message)

    unknown = sorted(set(data) - _FIELDS)
    if unknown:
        raise fail(unknown[0], f"unknown field {unknown[0]!r}; known: {', '.join(sorted(_FIELDS))}")
    group, kinds = data.get("group"), data.get("kinds")
    if not isinstance(group, str):
        raise fail("group", "group must be a string ('' for the core group)")
    if not isinstance(kinds, list) or not kinds or not all(isinstance(k, str) for k in kinds):
        raise fail("kinds", "kinds must be a non-empty list of kind names")
    for field in _EXPRESSIONS:
        if field in data and not isinstance(data[field], str):
            raise fail(field, f"{field} must be a CEL expression (a string)")
    if not any(data.get(f) for f in _EXPRESSIONS[:4]):
        raise fail("kinds", "at least one of suspended, healthy, degraded, progressing")
    expects = data.get("expectsStatus", True)
    if not isinstance(expects, bool):
        raise fail("expectsStatus", "expectsStatus must be true or false")
    where = tuple((f, lines[f]) for f in _EXPRESSIONS if f in lines)
    return [
        LibraryRule(
            HealthRule(
                kind=kind,
                group=group,
                **{f: data.get(f) for f in _EXPRESSIONS},
                origin=origin,
                lines=where,
            ),
            source,
            expects,
        )
        for kind in kinds
    ]
