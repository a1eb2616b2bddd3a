"""Chart dependencies: ``helm dependency build`` once per set of dependencies, then cached.

Before it: :func:`gitward.render.helm.render_helm` found a chart whose ``Chart.yaml``
(or ``requirements.yaml``) declares dependencies missing from ``charts/``. After it:
``helm template`` renders a private copy of the chart with ``charts/`` filled in.

This is the one render step that reaches the network, so it is fenced: the built
``helm`` runs with a throwaway home (its own ``repositories.yaml``, listing only the
HTTP repositories the chart declares; no registry login, no repository of the host),
without credentials, with the render deadline and the output bound of
:mod:`.process`, and its result must stay under :data:`MAX_DEPENDENCY_BYTES`.

The archives are cached under ``<cache>/charts/<key>`` where the key is the sha256 of
the declared dependencies and of ``Chart.lock`` (whose versions ``helm dependency
build`` follows): a second render of the same chart, or of any commit with the same
dependencies, copies them from the cache without running helm. A ``file://``
dependency is refused: it would read outside the chart (vendor it into ``charts/``).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from gitward.errors import RenderError
from gitward.render.process import offline_environment, run_tool

MAX_DEPENDENCY_BYTES = 64 * 1024 * 1024
_LOCK_FILES = ("Chart.lock", "requirements.lock")
_PROXIES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")


def dependency_key(chart_dir: Path, declared: list[dict[str, Any]]) -> str:
    """What the built ``charts/`` depends on: the declarations and the lock file."""
    digest = hashlib.sha256(json.dumps(declared, sort_keys=True, default=str).encode())
    for name in _LOCK_FILES:
        lock = chart_dir / name
        if lock.is_file():
            digest.update(name.encode() + b"\0" + lock.read_bytes())
    return digest.hexdigest()


def _repositories(declared: list[dict[str, Any]], label: str) -> list[str]:
    """The HTTP repositories to list in ``repositories.yaml``; oci:// needs none."""
    urls: list[str] = []
    for dep in declared:
        repo = str(dep.get("repository") or "")
        name = dep.get("name", "?")
        if repo.startswith(("http://", "https://")):
            if repo not in urls:
                urls.append(repo)
        elif not repo.startswith("oci://"):
            raise RenderError(
                f"chart dependency {name!r} has repository {repo or '(none)'!r}: gitward "
                "builds dependencies from http(s):// and oci:// repositories only",
                location=f"{label}/Chart.yaml",
                hint="give the repository URL (not an alias), or vendor the dependency "
                "into charts/ (a file:// dependency must be committed there)",
            )
    return urls


def _repositories_yaml(urls: list[str]) -> str:
    entries = [{"name": f"dependency-{i}", "url": url} for i, url in enumerate(urls)]
    document = {"apiVersion": "", "generated": "0001-01-01T00:00:00Z", "repositories": entries}
    return json.dumps(document)


def _network_environment(home: Path, search_path: str) -> dict[str, str]:
    """The render environment, with the network open (the closed proxies removed)."""
    env = offline_environment(home, search_path)
    for name in _PROXIES:
        env.pop(name, None)
        env.pop(name.lower(), None)
    return env


def build_dependencies(
    chart_dir: Path,
    declared: list[dict[str, Any]],
    *,
    helm: Path,
    cache: Path,
    label: str,
    search_path: str,
    timeout: float,
    plain_http: bool = False,
) -> Path:
    """A directory of the dependencies' archives, from the cache or built now."""
    cached = cache / dependency_key(chart_dir, declared)
    if cached.is_dir():
        return cached
    urls = _repositories(declared, label)
    with tempfile.TemporaryDirectory(prefix="gitward-helmdeps-") as work:
        home, chart = Path(work) / "home", Path(work) / "chart"
        chart.mkdir()
        for name in ("Chart.yaml", "requirements.yaml", *_LOCK_FILES):
            if (chart_dir / name).is_file():
                shutil.copyfile(chart_dir / name, chart / name)
        env = _network_environment(home, search_path)
        config = Path(env["HELM_CONFIG_HOME"]) / "repositories.yaml"
        config.write_text(_repositories_yaml(urls), encoding="utf-8")
        argv = [str(helm), "dependency", "build", str(chart), "--repository-config", str(config)]
        if plain_http:
            argv.append("--plain-http")
        run_tool(
            argv,
            what="helm dependency build",
            location=label,
            env=env,
            cwd=Path(work),
            timeout=timeout,
        )
        return _publish(chart / "charts", cached, label)


def _publish(built: Path, cached: Path, label: str) -> Path:
    archives = sorted(built.glob("*.tgz")) if built.is_dir() else []
    total = sum(a.stat().st_size for a in archives)
    if total > MAX_DEPENDENCY_BYTES:
        raise RenderError(
            f"the chart's dependencies are {total // 2**20} MiB, more than the limit of "
            f"{MAX_DEPENDENCY_BYTES // 2**20} MiB",
            location=f"{label}/Chart.yaml",
        )
    cached.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=cached.parent, prefix=f".{cached.name}."))
    for archive in archives:
        shutil.copyfile(archive, staging / archive.name)
    try:
        staging.rename(cached)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)  # another render published it first
    return cached


def chart_with_dependencies(chart_dir: Path, archives: Path, into: Path) -> Path:
    """A private copy of the chart with the dependency archives in ``charts/``."""
    copy = into / chart_dir.name
    shutil.copytree(chart_dir, copy, symlinks=True)
    for path in [copy, *copy.rglob("*")]:  # the checkout is read-only; the copy is ours
        if not path.is_symlink():
            path.chmod(0o755 if path.is_dir() else 0o644)
    charts = copy / "charts"
    charts.mkdir(exist_ok=True)
    for archive in archives.glob("*.tgz"):
        if not (charts / archive.name).exists():
            shutil.copyfile(archive, charts / archive.name)
    return copy
