"""The Helm renderer: ``helm template`` on a chart directory in the repository.

The chart is rendered as Argo CD renders it: release name (default: the application's
name), ``--namespace`` of the destination, the target cluster's version and API versions
for ``.Capabilities``, ``--include-crds`` unless ``skip_crds``, the values files (relative
to the chart directory, each confined to the repository) and then the inline values,
which win. ``helm template`` has no network (:mod:`gitward.render.process`). A
dependency missing from ``charts/`` is built once by :mod:`gitward.render.helmdeps`
(``helm dependency build``, cached by the dependencies' digest) when the renderer has a
dependency cache, and reported before Helm runs, with what to do, when it has none.

Hooks: ``helm.sh/hook`` annotations are kept; the plan stage maps them to phases.
Test hooks (``test``, ``test-success``, ``test-failure``) are dropped, for two reasons:
they are run by ``helm test`` on request, never by an install or upgrade, so applying
them would change what the chart means; and charts commonly give them random names
(podinfo uses ``randAlphaNum``), which would make every render differ and the
application never in sync.

Each object's source is the template it came from (Helm's ``# Source:`` comment mapped
into the repository), without a line: lines of Helm's output are not lines of a file.
"""

from __future__ import annotations

import bisect
import posixpath
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gitward.errors import RenderError
from gitward.loading import load_one
from gitward.model import HelmOptions, Resource, SourceLocation
from gitward.paths import check_tree_symlinks, confine
from gitward.render.directory import repo_path
from gitward.render.helmdeps import build_dependencies, chart_with_dependencies
from gitward.render.parse import Locate, parse_yaml
from gitward.render.process import offline_environment, run_tool

TEST_HOOKS = frozenset({"test", "test-success", "test-failure"})
_SOURCE_COMMENT = "# Source: "


@dataclass(frozen=True)
class HelmRun:
    """How to run ``helm template`` for one request."""

    helm: Path
    release: str
    namespace: str | None
    kube_version: str | None
    api_versions: tuple[str, ...]
    search_path: str
    timeout: float
    dependency_cache: Path | None = None  # None: missing dependencies are an error
    plain_http: bool = False  # OCI chart dependencies over HTTP (a registry without TLS)


def _declared_dependencies(chart_dir: Path, label: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for name in ("Chart.yaml", "requirements.yaml"):  # requirements.yaml: apiVersion v1
        file = chart_dir / name
        if not file.is_file():
            continue
        try:
            data = load_one(file.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as e:
            raise RenderError(f"cannot read {name}: {e}", location=f"{label}/{name}") from e
        deps = data.get("dependencies") if isinstance(data, dict) else None
        found.extend(dep for dep in deps or [] if isinstance(dep, dict))
    return found


def missing_dependencies(chart_dir: Path, label: str) -> list[dict[str, Any]]:
    """The declared dependencies of the chart that are not vendored in ``charts/``."""
    charts = chart_dir / "charts"
    present = {p.name for p in charts.iterdir()} if charts.is_dir() else set()
    missing = []
    for dep in _declared_dependencies(chart_dir, label):
        name = str(dep.get("name", ""))
        if name in present or any(p.startswith(f"{name}-") and p.endswith(".tgz") for p in present):
            continue
        missing.append(dep)
    return missing


def check_dependencies(chart_dir: Path, label: str) -> None:
    """Refuse a chart whose declared dependencies are not vendored in ``charts/``."""
    for dep in missing_dependencies(chart_dir, label):
        raise RenderError(
            f"chart dependency {dep.get('name', '')!r} (version {dep.get('version', '?')}) "
            "is declared but missing from charts/, and this renderer has no dependency cache",
            location=f"{label}/Chart.yaml",
            hint=f"run `helm dependency build {label}` and commit the charts/ directory",
        )


def _with_dependencies(chart_dir: Path, label: str, run: HelmRun, home: Path) -> Path:
    """The chart to render: itself, or a private copy with its dependencies built."""
    if run.dependency_cache is None:
        check_dependencies(chart_dir, label)
        return chart_dir
    if not missing_dependencies(chart_dir, label):
        return chart_dir
    archives = build_dependencies(
        chart_dir,
        _declared_dependencies(chart_dir, label),
        helm=run.helm,
        cache=run.dependency_cache,
        label=label,
        search_path=run.search_path,
        timeout=run.timeout,
        plain_http=run.plain_http,
    )
    return chart_with_dependencies(chart_dir, archives, home)


def value_file_args(
    root: Path,
    chart_path: str,
    value_files: tuple[str, ...],
    refs: Mapping[str, Path] | None = None,
) -> list[str]:
    """``--values`` arguments; each file is relative to the chart and inside the repository,
    or, written ``$ref/path``, relative to the tree of the source whose ``ref`` is ``ref``
    (multi-source apps) and inside that tree."""
    args: list[str] = []
    for name in value_files:
        if "://" in name:
            raise RenderError(
                f"values file {name!r} is a URL; gitward renders without network",
                location=chart_path,
                hint="commit the values file to the repository",
            )
        tree, relative = _value_file_tree(root, chart_path, name, refs or {})
        file = confine(tree, relative, what=f"Helm values file {name!r}")
        if not file.is_file():
            raise RenderError(
                f"Helm values file {name!r} does not exist (looked for {relative})",
                location=chart_path,
                hint="values files are relative to the chart directory, as in Argo CD",
            )
        args += ["--values", str(file)]
    return args


def _value_file_tree(
    root: Path, chart_path: str, name: str, refs: Mapping[str, Path]
) -> tuple[Path, str]:
    """The tree a values file is in, and its path in that tree."""
    name = name.replace("\\", "/")
    if not name.startswith("$"):
        return root, posixpath.normpath(posixpath.join(chart_path, name))
    ref, _, inside = name[1:].partition("/")
    if ref not in refs:
        known = ", ".join(sorted(refs)) or "none"
        raise RenderError(
            f"values file {name!r} names ref {ref!r}, but no source has that ref (refs: {known})",
            location=chart_path,
            hint="add `ref: <name>` to the source of spec.sources that holds the file",
        )
    return refs[ref].resolve(), posixpath.normpath(inside or ".")


def _set_value(value: str) -> str:
    """A value for ``--set``: commas and backslashes escaped, so it stays one value;
    ``{a,b}`` is left as Helm's list syntax, as Argo CD leaves it."""
    if value.startswith("{") and value.endswith("}"):
        return value
    return value.replace("\\", "\\\\").replace(",", "\\,")


def parameter_args(root: Path, chart_path: str, options: HelmOptions) -> list[str]:
    """``--set``, ``--set-string`` and ``--set-file`` for helm.parameters and fileParameters;
    they come last on the command line, so they win over every values file."""
    args: list[str] = []
    for parameter in options.parameters:
        flag = "--set-string" if parameter.force_string else "--set"
        args += [flag, f"{parameter.name}={_set_value(parameter.value)}"]
    for file_parameter in options.file_parameters:
        relative = posixpath.normpath(posixpath.join(chart_path, file_parameter.path))
        what = f"Helm file parameter {file_parameter.name!r}"
        file = confine(root, relative, what=what)
        if not file.is_file():
            raise RenderError(
                f"{what}: file {file_parameter.path!r} does not exist (looked for {relative})",
                location=chart_path,
                hint="fileParameters paths are relative to the chart directory",
            )
        args += ["--set-file", f"{file_parameter.name}={_set_value(str(file))}"]
    return args


def helm_argv(run: HelmRun, chart_dir: Path, options: HelmOptions) -> list[str]:
    argv = [str(run.helm), "template", run.release, str(chart_dir), "--skip-tests"]
    if run.namespace:
        argv += ["--namespace", run.namespace]
    if run.kube_version:
        argv += ["--kube-version", run.kube_version]
    for api_version in run.api_versions:
        argv += ["--api-versions", api_version]
    if not options.skip_crds:
        argv.append("--include-crds")
    return argv


def _template_locator(output: str, chart_path: str) -> Locate:
    """Sources from Helm's ``# Source: <chart>/templates/x.yaml`` comments."""
    lines: list[int] = []
    templates: list[str] = []
    for number, text in enumerate(output.splitlines(), start=1):
        if text.startswith(_SOURCE_COMMENT):
            _, _, inside_chart = text[len(_SOURCE_COMMENT) :].strip().partition("/")
            lines.append(number)
            templates.append(repo_path(chart_path, inside_chart))

    def locate(line: int, index: int) -> SourceLocation:
        at = bisect.bisect_left(lines, line) - 1
        return SourceLocation(templates[at] if at >= 0 else chart_path, None, index)

    return locate


def is_test_hook(resource: Resource) -> bool:
    hooks = resource.annotations.get("helm.sh/hook", "")
    return any(hook.strip() in TEST_HOOKS for hook in str(hooks).split(","))


def render_helm(
    root: Path,
    app_path: str,
    options: HelmOptions,
    run: HelmRun,
    refs: Mapping[str, Path] | None = None,
) -> list[Resource]:
    """The objects of the chart at ``app_path`` in the repository ``root``; ``refs`` are
    the trees of a multi-source app's ``ref`` sources, for ``$ref/`` values files."""
    real_root = root.resolve()
    chart_dir = confine(real_root, app_path, what="application path")
    chart_path = repo_path(str(chart_dir.relative_to(real_root)))
    if not (chart_dir / "Chart.yaml").is_file():
        raise RenderError("no Chart.yaml in this directory", location=chart_path)
    check_tree_symlinks(real_root, chart_dir)
    values = value_file_args(real_root, chart_path, options.value_files, refs)
    with tempfile.TemporaryDirectory(prefix="gitward-helm-") as home:
        chart = _with_dependencies(chart_dir, chart_path, run, Path(home) / "chart")
        argv = helm_argv(run, chart, options) + values
        if options.values:
            inline = Path(home) / "inline-values.yaml"
            inline.write_text(options.values, encoding="utf-8")
            argv += ["--values", str(inline)]
        argv += parameter_args(real_root, chart_path, options)
        env = offline_environment(Path(home) / "home", run.search_path)
        output = run_tool(
            argv,
            what="helm template",
            location=chart_path,
            env=env,
            cwd=Path(home),
            timeout=run.timeout,
        )
    label = f"helm template output of {chart_path}"
    parsed = parse_yaml(output, label=label, locate=_template_locator(output, chart_path))
    return [resource for resource in parsed if not is_test_hook(resource)]
