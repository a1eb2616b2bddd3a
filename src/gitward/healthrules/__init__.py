"""The bundled library of health rules for operators' kinds, and its loader.

Rules are data: YAML files under ``library/`` (one per group and kind, with fixtures in
a ``fixtures/`` folder beside them), shipped as package data. An install adds or
replaces rules with a folder of files in the same format. This package reads and
parses the files; :class:`gitward.observe.health.HealthLibrary` compiles them, so the
observe stage itself never touches a file. The format is described in docs/health.md.
"""

from __future__ import annotations

from gitward.healthrules.loader import (
    BUNDLED,
    CONFIG,
    env_folders,
    installed_library,
    load_library,
    read_rule_files,
)

__all__ = [
    "BUNDLED",
    "CONFIG",
    "env_folders",
    "installed_library",
    "load_library",
    "read_rule_files",
]
