"""Jsonnet, as Argo CD evaluates it in a directory source: each ``.jsonnet`` file.

Argo CD evaluates every ``.jsonnet`` file of a directory source (``.libsonnet`` files
are libraries, read only through imports) with ``directory.jsonnet``'s external
variables, top-level arguments and library paths, and takes the result as an object, a
list of objects, or a ``List``. gitward does the same with go-jsonnet, the
implementation Argo CD links, through its Python binding (``gojsonnet``, a wheel for
CPython 3.11: nothing to compile, no Go tool to build). The evaluation runs in a child
process (:mod:`gitward.render.jsonnet_child`) under :func:`~gitward.render.process.run_tool`:
the deadline kills a file that loops forever, the output is bounded, and every import
goes through a callback that keeps it inside the repository. Library paths are
confined here, before the child starts. One child evaluates all the files of a render.

Called by :mod:`gitward.render.directory`; the objects go to the same parser as JSON
files (:func:`gitward.render.parse.objects_of`).
"""

from __future__ import annotations

import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from gitward.errors import RenderError
from gitward.model import JsonnetOptions, Resource, SourceLocation
from gitward.paths import confine
from gitward.render.parse import objects_of
from gitward.render.process import offline_environment, run_tool

_CHILD = Path(__file__).with_name("jsonnet_child.py")


@dataclass(frozen=True)
class JsonnetRun:
    """How to run the evaluations: the deadline (for all files of one render) and ``PATH``."""

    timeout: float
    search_path: str


def _request(root: Path, files: list[str], options: JsonnetOptions) -> str:
    libs = [str(confine(root, lib, what="directory.jsonnet.libs entry")) for lib in options.libs]
    return json.dumps(
        {
            "root": str(root),
            "files": [str(root / file) for file in files],
            "libs": libs,
            "ext_vars": [[v.name, v.value, v.code] for v in options.ext_vars],
            "tlas": [[v.name, v.value, v.code] for v in options.tlas],
        }
    )


def _objects(value: object, file: str) -> list[Resource]:
    """An object, a list of objects (nested lists flattened) or a ``List``, as Argo CD
    reads them."""
    values = value if isinstance(value, list) else [value]
    found: list[Resource] = []
    for index, item in enumerate(values):
        if isinstance(item, list):
            found.extend(_objects(item, file))
            continue
        for body in objects_of(item, f"{file} (Jsonnet output, item {index})"):
            found.append(Resource.of(body, SourceLocation(file, None, index)))
    return found


def _stopped(error: RenderError, files: list[str], timeout: float, location: str) -> RenderError:
    """The error to show for a failed evaluation: a file that ran too long or crashed the
    evaluator (a deep recursion overflows go-jsonnet's stack, whichever comes first) is
    named with what to look for; any other failure is go-jsonnet's own message."""
    evaluation = f"jsonnet evaluation of {', '.join(files)}"
    hint = "look for a recursion that never ends (a function calling itself without a base case)"
    crashed = "crashed:" in error.detail
    if "did not finish" in error.detail:
        message = f"{evaluation} did not finish within {timeout:g} s and was stopped"
    elif crashed and "stack overflow" in error.detail:
        message = f"{evaluation} overflowed the evaluator's stack and was stopped"
    elif crashed and "out of memory" in error.detail:
        message = f"{evaluation} ran out of memory (4 GiB) and was stopped"
        hint += ", or a value built too large"
    else:
        return error
    return RenderError(message, location=location, hint=hint)


def render_jsonnet(
    root: Path, files: list[str], options: JsonnetOptions, run: JsonnetRun, location: str
) -> list[Resource]:
    """The objects the Jsonnet ``files`` (repository paths, in order) evaluate to.

    ``root`` is the resolved repository; ``location`` names the application path."""
    if not files:
        return []
    argv = [sys.executable, "-I", str(_CHILD), _request(root, files, options)]
    with tempfile.TemporaryDirectory(prefix="gitward-jsonnet-") as home:
        try:
            output = run_tool(
                argv,
                what="jsonnet",
                location=location,
                env=offline_environment(Path(home), run.search_path),
                cwd=Path(home),
                timeout=run.timeout,
            )
        except RenderError as e:
            raise _stopped(e, files, run.timeout, location) from e
    try:
        results = json.loads(output)
    except json.JSONDecodeError as e:  # pragma: no cover - the child writes JSON or fails
        raise RenderError(
            f"jsonnet: unreadable answer from the evaluator: {e}", location=location
        ) from e
    resources: list[Resource] = []
    for file, value in results:
        resources.extend(_objects(value, file))
    return resources
