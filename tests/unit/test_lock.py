"""requirements.lock pins every package pyproject.toml asks for, at a version it allows.

A dependency added to or tightened in pyproject.toml without `scripts/lock` would make
scripts/bootstrap install something else than the project declares (or fail on a fresh
machine); this test says so first.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)", re.MULTILINE)


def pins() -> dict[str, str]:
    text = (ROOT / "requirements.lock").read_text()
    return {canonicalize_name(name): version for name, version in PIN.findall(text)}


def declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    names = [
        *project["project"]["dependencies"],
        *project["project"]["optional-dependencies"]["dev"],
        *project["build-system"]["requires"],
    ]
    return [Requirement(name) for name in names]


def test_every_declared_requirement_is_pinned_at_an_allowed_version() -> None:
    locked = pins()
    wrong = []
    for requirement in declared():
        version = locked.get(canonicalize_name(requirement.name))
        if version is None or not requirement.specifier.contains(version, prereleases=True):
            wrong.append(f"{requirement} (locked: {version or 'missing'})")
    assert not wrong, (
        "requirements.lock does not satisfy pyproject.toml: "
        + "; ".join(wrong)
        + ". Run scripts/lock and commit requirements.lock"
    )


def test_every_pin_carries_a_hash() -> None:
    text = (ROOT / "requirements.lock").read_text()
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2])
    unhashed = [block.split()[0] for block in blocks if "--hash=sha256:" not in block]
    assert not unhashed, f"pins without a hash: {unhashed}; run scripts/lock"
