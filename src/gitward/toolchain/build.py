"""Build the pinned Go programs of :mod:`~gitward.toolchain.catalog` into a user cache.

Every tool lands in ``<cache>/tools/<name>-<version>-<go>-<digest>/<name>``: the key
changes with the tool version, its ldflags, the Go version and (for a tool built inside
one of our Go modules) that module's go.mod and go.sum, so a warm cache is reused across
clones and a change rebuilds only what changed. Builds write to a temporary directory
and rename into place, under a file lock, so two concurrent callers never see a
half-written binary.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

from gitward.errors import ToolchainError
from gitward.ports import Progress, SilentProgress
from gitward.toolchain.catalog import ALL_TOOLS, TOOLS, Tool
from gitward.toolchain.go import GoInfo, find_go


def default_cache_dir() -> Path:
    """``$GITWARD_CACHE_DIR``, else ``$XDG_CACHE_HOME/gitward``, else ``~/.cache/gitward``."""
    if explicit := os.environ.get("GITWARD_CACHE_DIR"):
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "gitward"


def module_dir(name: str) -> Path:
    """The directory of one of our Go modules (go.mod + go.sum), shipped as package data."""
    path = Path(str(resources.files("gitward.toolchain").joinpath("gomod", name)))
    if not (path / "go.mod").is_file():
        raise ToolchainError(
            f"the Go module {name!r} is missing at {path}",
            hint="reinstall gitward; the package data is incomplete",
        )
    return path


class Toolchain:
    """Resolves tool names to binaries, building missing ones on demand.

    ``tools`` is the catalog to resolve names in (the pinned :data:`TOOLS` unless a test
    brings its own).
    """

    def __init__(
        self,
        cache_dir: Path | None = None,
        progress: Progress | None = None,
        tools: Sequence[Tool] = TOOLS,
    ) -> None:
        # A container image ships its tools read-only apart from the writable cache.
        baked = os.environ.get("GITWARD_TOOLS_DIR") if cache_dir is None else None
        self.cache_dir = Path(baked) if baked else (cache_dir or default_cache_dir()) / "tools"
        self.progress = progress or SilentProgress()
        self._tools = {t.name: t for t in tools}
        self._go: GoInfo | None = None

    def spec(self, name: str) -> Tool:
        if name not in self._tools:
            known = ", ".join(self._tools)
            raise ToolchainError(f"unknown tool {name!r}", hint=f"known tools: {known}")
        return self._tools[name]

    @property
    def go(self) -> GoInfo:
        if self._go is None:
            self._go = find_go()
        return self._go

    def _digest(self, tool: Tool) -> str:
        h = hashlib.sha256()
        h.update(f"{tool.package}@{tool.version} {' '.join(tool.ldflags)}".encode())
        if tool.module is not None:
            module = module_dir(tool.module)
            h.update((module / "go.mod").read_bytes())
            h.update((module / "go.sum").read_bytes())
            for source in sorted(module.rglob("*.go")):  # a module's own commands (gomod/oidc)
                h.update(source.read_bytes())
        return h.hexdigest()[:10]

    def tool_dir(self, tool: Tool) -> Path:
        return self.cache_dir / f"{tool.name}-{tool.version}-{self.go.version}-{self._digest(tool)}"

    def path(self, name: str) -> Path:
        """The binary for ``name``, or a :class:`ToolchainError` if it is not built."""
        binary = self.tool_dir(self.spec(name)) / name
        if not binary.is_file():
            raise ToolchainError(f"{name} is not built yet", hint="run `gitward dev-cluster build`")
        return binary

    def find(self, name: str) -> Path | None:
        """A built binary of the pinned ``name`` (same version and flags), by any Go.

        For running a tool rather than building it: asks nothing of Go, so it is quick
        (``render`` and ``diff`` look up two tools at every start) and works on a machine
        that has the cache but no Go. The binary of the current Go wins when there are
        several; otherwise the newest.
        """
        tool = self.spec(name)
        pattern = f"{tool.name}-{tool.version}-go*-{self._digest(tool)}"
        built = [d / name for d in self.cache_dir.glob(pattern) if (d / name).is_file()]
        if len(built) > 1:
            with contextlib.suppress(ToolchainError):
                current = self.tool_dir(tool) / name
                if current in built:
                    return current
        return max(built, key=lambda p: p.stat().st_mtime, default=None)

    def missing(self, names: Sequence[str] = ALL_TOOLS) -> list[str]:
        return [n for n in names if not (self.tool_dir(self.spec(n)) / n).is_file()]

    def ensure(self, names: Sequence[str] = ALL_TOOLS) -> dict[str, Path]:
        """Build whatever of ``names`` is missing; return every binary's path."""
        todo = self.missing(names)
        if todo:
            self._announce(todo)
        for name in todo:
            # One lock per tool: a long build (Gitea) never holds up another tool's build.
            with self._lock(name):
                if self.missing([name]):  # another process may have built it meanwhile
                    self._build(name)
        return {n: self.tool_dir(self.spec(n)) / n for n in names}

    def bin_dir(self, names: Sequence[str] = ALL_TOOLS) -> Path:
        """One directory of symlinks to ``names``, for a person's PATH."""
        self.ensure(names)
        paths = {n: self.tool_dir(self.spec(n)) / n for n in names}
        key = hashlib.sha256("".join(str(p) for p in paths.values()).encode()).hexdigest()[:10]
        target = self.cache_dir / f"bin-{key}"
        if not target.is_dir():
            staging = Path(tempfile.mkdtemp(dir=self.cache_dir, prefix=".bin-"))
            for name, binary in paths.items():
                (staging / name).symlink_to(binary)
            _rename_into_place(staging, target)
        return target

    @contextmanager
    def _lock(self, name: str) -> Iterator[None]:
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        with (self.cache_dir / f".{name}.build.lock").open("w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _announce(self, names: list[str]) -> None:
        total = sum(self.spec(n).cold_minutes for n in names)
        self.progress.step(
            f"building {len(names)} tool(s) from Go modules with {self.go.version}: "
            f"{', '.join(names)} (first build takes up to ~{total} min on 2 cores; "
            f"later builds are cached in {self.cache_dir})"
        )

    def _build(self, name: str) -> None:
        tool = self.spec(name)
        started = time.monotonic()
        self.progress.step(f"building {name} {tool.version}")
        self._build_one(tool)
        self.progress.done(f"built {name} {tool.version} in {time.monotonic() - started:.0f}s")

    def _build_one(self, tool: Tool) -> None:
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=self.cache_dir, prefix=f".{tool.name}-"))
        log = self.cache_dir / f"{tool.name}.build.log"
        cgo = "1" if tool.cgo else "0"
        env = {**os.environ, "CGO_ENABLED": cgo, "GOFLAGS": "-buildvcs=false"}
        ldflags = "-ldflags=" + " ".join(tool.ldflags)
        if tool.module is not None:
            cmd = [self.go.binary, "build", "-trimpath"]
            if tool.tags:
                cmd.append("-tags=" + ",".join(tool.tags))
            cmd += [ldflags, "-o", str(staging / tool.name), tool.package]
            cwd = module_dir(tool.module)
        else:
            env["GOBIN"] = str(staging)
            cmd = [
                self.go.binary,
                "install",
                "-trimpath",
                ldflags,
                f"{tool.package}@{tool.version}",
            ]
            cwd = staging
        with log.open("w") as out:
            result = subprocess.run(
                cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, check=False
            )
        built = staging / tool.name
        installed = staging / tool.package.rsplit("/", 1)[-1]  # what `go install` names it
        if tool.module is None and not built.exists() and installed.is_file():
            installed.rename(built)  # e.g. sealed-secrets' cmd/controller
        if result.returncode != 0 or not built.is_file():
            shutil.rmtree(staging, ignore_errors=True)
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-25:])
            raise ToolchainError(
                f"building {tool.name} {tool.version} failed (exit {result.returncode}):\n{tail}",
                hint=f"the full build log is {log}; check that the Go module proxy is reachable",
            )
        _rename_into_place(staging, self.tool_dir(tool))


def _rename_into_place(staging: Path, target: Path) -> None:
    try:
        staging.rename(target)
    except OSError:
        # Another builder won the race; its result is equivalent.
        shutil.rmtree(staging, ignore_errors=True)
        if not target.is_dir():
            raise
