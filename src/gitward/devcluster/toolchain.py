"""Build the pinned Go programs gitward runs, from the Go module proxy, into a user cache.

Two kinds of build:

* Kubernetes (kube-apiserver, kube-controller-manager, kube-scheduler, kubectl) and etcd
  are built inside our own Go module (``gomod/k8s``). ``k8s.io/kubernetes`` redirects its
  staging modules to ``./staging``; our go.mod replaces each with its published
  ``v0.Y.Z`` and pins the whole graph in go.sum. They are built like upstream builds
  them (static, ``-trimpath``, the ``selinux,notest`` tags) with the version ldflags so
  that ``--version`` reports the real release.
* kwok, kustomize, helm and sops are ``go install``-ed at their tags, each with its own
  upstream go.mod, so Kubernetes' pins do not force versions on them.

Every tool lands in ``<cache>/tools/<name>-<version>-<go>-<digest>/<name>``: the key
changes with the tool version, the Go version and (for the Kubernetes module) go.mod and
go.sum, so a warm cache is reused across clones and a change rebuilds only what changed.
Builds write to a temporary directory and rename into place, under a file lock, so two
concurrent callers never see a half-written binary.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from gitward.errors import ToolchainError
from gitward.ports import Progress, SilentProgress

KUBERNETES_VERSION = "v1.36.3"
ETCD_VERSION = "v3.6.8"  # the version k8s.io/kubernetes v1.36.3 itself requires
MIN_GO = (1, 26)

_K8S_PKG = "k8s.io/kubernetes/cmd/"
_VERSION_PKGS = ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version")


@dataclass(frozen=True)
class Tool:
    """One program to build: where it comes from and how."""

    name: str
    package: str
    version: str
    in_k8s_module: bool = False
    ldflags: tuple[str, ...] = field(default=())
    # Rough cold build time on two cores (measured: about 1 min each once the
    # shared Kubernetes packages are compiled), shown so a person knows what to expect.
    cold_minutes: int = 1


def _k8s_ldflags() -> tuple[str, ...]:
    major, minor, _ = KUBERNETES_VERSION.lstrip("v").split(".")
    flags = ["-s", "-w"]
    for pkg in _VERSION_PKGS:
        flags += [
            f"-X={pkg}.gitVersion={KUBERNETES_VERSION}",
            f"-X={pkg}.gitMajor={major}",
            f"-X={pkg}.gitMinor={minor}",
            f"-X={pkg}.gitTreeState=clean",
        ]
    return tuple(flags)


def _helm_ldflags(version: str) -> tuple[str, ...]:
    # Like helm's own Makefile: without the k8sVersion flags, .Capabilities.KubeVersion
    # defaults to v1.20 and charts that require a newer Kubernetes refuse to render.
    major, minor, _ = KUBERNETES_VERSION.lstrip("v").split(".")
    flags = ["-s", "-w", f"-X=helm.sh/helm/v3/internal/version.version={version}"]
    for pkg in ("helm.sh/helm/v3/pkg/chartutil", "helm.sh/helm/v3/pkg/lint/rules"):
        flags += [f"-X={pkg}.k8sVersionMajor={major}", f"-X={pkg}.k8sVersionMinor={minor}"]
    return tuple(flags)


TOOLS: tuple[Tool, ...] = (
    Tool(
        "etcd",
        "go.etcd.io/etcd/server/v3",
        ETCD_VERSION,
        in_k8s_module=True,
        ldflags=("-s", "-w"),
        cold_minutes=1,
    ),
    Tool(
        "kube-apiserver",
        _K8S_PKG + "kube-apiserver",
        KUBERNETES_VERSION,
        in_k8s_module=True,
        ldflags=_k8s_ldflags(),
        cold_minutes=1,
    ),
    Tool(
        "kube-controller-manager",
        _K8S_PKG + "kube-controller-manager",
        KUBERNETES_VERSION,
        in_k8s_module=True,
        ldflags=_k8s_ldflags(),
        cold_minutes=1,
    ),
    Tool(
        "kube-scheduler",
        _K8S_PKG + "kube-scheduler",
        KUBERNETES_VERSION,
        in_k8s_module=True,
        ldflags=_k8s_ldflags(),
        cold_minutes=1,
    ),
    Tool(
        "kubectl",
        _K8S_PKG + "kubectl",
        KUBERNETES_VERSION,
        in_k8s_module=True,
        ldflags=_k8s_ldflags(),
        cold_minutes=1,
    ),
    Tool("kwok", "sigs.k8s.io/kwok/cmd/kwok", "v0.7.0", ldflags=("-s", "-w"), cold_minutes=1),
    Tool(
        "kustomize",
        "sigs.k8s.io/kustomize/kustomize/v5",
        "v5.8.1",
        ldflags=("-s", "-w"),
        cold_minutes=1,
    ),
    Tool(
        "helm",
        "helm.sh/helm/v3/cmd/helm",
        "v3.21.4",
        ldflags=_helm_ldflags("v3.21.4"),
        cold_minutes=1,
    ),
    Tool(
        "sops",
        "github.com/getsops/sops/v3/cmd/sops",
        "v3.13.2",
        ldflags=("-s", "-w"),
        cold_minutes=1,
    ),
)

CONTROL_PLANE_TOOLS = (
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kwok",
    "kubectl",
)
ALL_TOOLS = tuple(t.name for t in TOOLS)


def tool_spec(name: str) -> Tool:
    for tool in TOOLS:
        if tool.name == name:
            return tool
    raise ToolchainError(f"unknown tool {name!r}", hint=f"known tools: {', '.join(ALL_TOOLS)}")


def default_cache_dir() -> Path:
    """``$GITWARD_CACHE_DIR``, else ``$XDG_CACHE_HOME/gitward``, else ``~/.cache/gitward``."""
    if explicit := os.environ.get("GITWARD_CACHE_DIR"):
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "gitward"


def k8s_module_dir() -> Path:
    """The directory of our Kubernetes Go module (go.mod + go.sum), shipped as package data."""
    path = Path(str(resources.files("gitward.devcluster").joinpath("gomod", "k8s")))
    if not (path / "go.mod").is_file():
        raise ToolchainError(
            f"the Kubernetes Go module is missing at {path}",
            hint="reinstall gitward; the package data is incomplete",
        )
    return path


@dataclass(frozen=True)
class GoInfo:
    binary: str
    version: str  # e.g. "go1.26.8"


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
    out = subprocess.run([go, "env", "GOVERSION"], capture_output=True, text=True, check=False)
    version = out.stdout.strip()
    match = re.match(r"go(\d+)\.(\d+)", version)
    if out.returncode != 0 or match is None:
        raise ToolchainError(f"`{go} env GOVERSION` failed: {out.stderr.strip() or version}")
    if (int(match[1]), int(match[2])) < MIN_GO:
        raise ToolchainError(
            f"Go {version} at {go} is too old: Kubernetes {KUBERNETES_VERSION} needs "
            f"go{MIN_GO[0]}.{MIN_GO[1]} or newer",
            hint="install a newer Go or point GITWARD_GO at one",
        )
    return GoInfo(go, version)


def _usual_go_location() -> str | None:
    candidate = Path("/usr/local/go/bin/go")
    return str(candidate) if candidate.is_file() else None


class Toolchain:
    """Resolves tool names to binaries, building missing ones on demand."""

    def __init__(self, cache_dir: Path | None = None, progress: Progress | None = None) -> None:
        self.cache_dir = (cache_dir or default_cache_dir()) / "tools"
        self.progress = progress or SilentProgress()
        self._go: GoInfo | None = None

    @property
    def go(self) -> GoInfo:
        if self._go is None:
            self._go = find_go()
        return self._go

    def _digest(self, tool: Tool) -> str:
        h = hashlib.sha256()
        h.update(f"{tool.package}@{tool.version} {' '.join(tool.ldflags)}".encode())
        if tool.in_k8s_module:
            module = k8s_module_dir()
            h.update((module / "go.mod").read_bytes())
            h.update((module / "go.sum").read_bytes())
        return h.hexdigest()[:10]

    def tool_dir(self, tool: Tool) -> Path:
        return self.cache_dir / f"{tool.name}-{tool.version}-{self.go.version}-{self._digest(tool)}"

    def path(self, name: str) -> Path:
        """The binary for ``name``, or a :class:`ToolchainError` if it is not built."""
        binary = self.tool_dir(tool_spec(name)) / name
        if not binary.is_file():
            raise ToolchainError(f"{name} is not built yet", hint="run `gitward dev-cluster build`")
        return binary

    def missing(self, names: Sequence[str] = ALL_TOOLS) -> list[str]:
        return [n for n in names if not (self.tool_dir(tool_spec(n)) / n).is_file()]

    def ensure(self, names: Sequence[str] = ALL_TOOLS) -> dict[str, Path]:
        """Build whatever of ``names`` is missing; return every binary's path."""
        todo = self.missing(names)
        if todo:
            with self._lock():
                todo = self.missing(names)  # another process may have built them meanwhile
                if todo:
                    self._build(todo)
        return {n: self.tool_dir(tool_spec(n)) / n for n in names}

    def bin_dir(self, names: Sequence[str] = ALL_TOOLS) -> Path:
        """One directory of symlinks to ``names``, for a person's PATH."""
        self.ensure(names)
        paths = {n: self.tool_dir(tool_spec(n)) / n for n in names}
        key = hashlib.sha256("".join(str(p) for p in paths.values()).encode()).hexdigest()[:10]
        target = self.cache_dir / f"bin-{key}"
        if not target.is_dir():
            staging = Path(tempfile.mkdtemp(dir=self.cache_dir, prefix=".bin-"))
            for name, binary in paths.items():
                (staging / name).symlink_to(binary)
            _rename_into_place(staging, target)
        return target

    @contextmanager
    def _lock(self) -> Iterator[None]:
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        with (self.cache_dir / ".build.lock").open("w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _build(self, names: list[str]) -> None:
        total = sum(tool_spec(n).cold_minutes for n in names)
        self.progress.step(
            f"building {len(names)} tool(s) from Go modules with {self.go.version}: "
            f"{', '.join(names)} (first build takes up to ~{total} min on 2 cores; "
            f"later builds are cached in {self.cache_dir})"
        )
        for name in names:
            tool = tool_spec(name)
            started = time.monotonic()
            self.progress.step(f"building {name} {tool.version}")
            self._build_one(tool)
            self.progress.done(f"built {name} {tool.version} in {time.monotonic() - started:.0f}s")

    def _build_one(self, tool: Tool) -> None:
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=self.cache_dir, prefix=f".{tool.name}-"))
        log = self.cache_dir / f"{tool.name}.build.log"
        env = {**os.environ, "CGO_ENABLED": "0", "GOFLAGS": "-buildvcs=false"}
        ldflags = "-ldflags=" + " ".join(tool.ldflags)
        if tool.in_k8s_module:
            cmd = [
                self.go.binary,
                "build",
                "-trimpath",
                "-tags=selinux,notest",
                ldflags,
                "-o",
                str(staging / tool.name),
                tool.package,
            ]
            cwd = k8s_module_dir()
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
