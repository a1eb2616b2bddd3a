"""Find a Go toolchain able to build the pinned tools, or say how to get one."""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from gitward.errors import ToolchainError
from gitward.toolchain.catalog import KUBERNETES_VERSION

MIN_GO = (1, 26)


@dataclass(frozen=True)
class GoInfo:
    binary: str
    version: str  # e.g. "go1.26.8"; part of every cache key


def find_go() -> GoInfo:
    """Locate a Go toolchain that can build our pins, or explain how to get one."""
    go = os.environ.get("GITWARD_GO") or shutil.which("go") or _usual_go_location()
    if go is None:
        raise ToolchainError(
            "the Go toolchain was not found: gitward builds Kubernetes and its tools "
            "from Go modules",
            hint="install Go 1.26 or newer (https://go.dev/doc/install), put `go` on PATH "
            "or set GITWARD_GO=/path/to/go, then run the command again",
        )
    returncode, version, stderr = _go_version(go, os.environ.get("GOTOOLCHAIN", ""))
    match = re.match(r"go(\d+)\.(\d+)", version)
    if returncode != 0 or match is None:
        raise ToolchainError(f"`{go} env GOVERSION` failed: {stderr or version}")
    if (int(match[1]), int(match[2])) < MIN_GO:
        raise ToolchainError(
            f"Go {version} at {go} is too old: Kubernetes {KUBERNETES_VERSION} needs "
            f"go{MIN_GO[0]}.{MIN_GO[1]} or newer",
            hint="install a newer Go or point GITWARD_GO at one",
        )
    return GoInfo(go, version)


@functools.cache
def _go_version(go: str, gotoolchain: str) -> tuple[int, str, str]:
    """``go env GOVERSION``, asked once per process: every tool lookup needs it for its
    cache key, and a command such as ``gitward diff`` looks up several tools."""
    del gotoolchain  # part of the cache key only: it changes which Go answers
    try:
        out = subprocess.run([go, "env", "GOVERSION"], capture_output=True, text=True, check=False)
    except OSError as e:  # GITWARD_GO names no program, or one that cannot run
        return 127, "", f"{e.strerror}: {go}"
    return out.returncode, out.stdout.strip(), out.stderr.strip()


def _usual_go_location() -> str | None:
    candidate = Path("/usr/local/go/bin/go")
    return str(candidate) if candidate.is_file() else None
