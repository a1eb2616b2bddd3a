"""Parse YAML and JSON manifests into :class:`~gitward.model.Resource` objects.

Every renderer ends here: the directory renderer feeds it files, the Kustomize and Helm
renderers feed it the programs' standard output. What comes out goes to
:mod:`gitward.render.output` for sorting and the duplicate check, then to the plan stage.

Texts are read within the bounds of :mod:`gitward.loading` (size, alias expansion), so
a hostile commit fails with an error naming its file instead of exhausting memory.
YAML is read as YAML 1.1 with libyaml (``CSafeLoader``), like ``kubectl``: ``yes`` is a
boolean and ``0755`` an octal number. Two things are kept the way ``kubectl`` keeps
them, because later stages serialise bodies to JSON: unquoted timestamps stay strings,
mapping keys that YAML reads as booleans, numbers or null become strings, and a bare
``=`` is the string "=".

Every object must be a mapping with ``apiVersion``, ``kind`` and ``metadata.name``;
``generateName`` is refused because GitOps needs a stable name to compare and prune,
except on hooks, which are created anew on every sync and never compared or pruned.
Errors name the source and the 1-based line where the document starts.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import yaml

from gitward.errors import RenderError
from gitward.loading import BoundedLoader, LimitExceeded, SafeLoader, check_size, yaml_documents
from gitward.model import JsonObject, Resource, SourceLocation
from gitward.model.annotations import HELM_HOOK, HOOK

Locate = Callable[[int, int], SourceLocation]
"""Builds the source of the document starting at a 1-based line, with its index."""

_REQUIRED = "a mapping with apiVersion, kind and metadata.name"


def _key_str(key: object) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    return str(key)


INT64 = (-(2**63), 2**63 - 1)  # the integers JSON bodies of Kubernetes objects can hold


def _int64(value: int) -> int:
    if not INT64[0] <= value <= INT64[1]:
        raise _too_big(str(value))
    return value


def _too_big(digits: str) -> ValueError:
    shown = digits if len(digits) <= 30 else f"{digits[:27]}..."
    return ValueError(f"the integer {shown} does not fit in 64 bits, as Kubernetes needs")


class _ManifestLoader(SafeLoader):
    """libyaml's safe loader with kubectl's treatment of timestamps and mapping keys.

    Integers must fit in 64 bits: Kubernetes reads them as int64, and every later stage
    serialises bodies with ``orjson``, which refuses larger ones.
    """

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        try:
            return _int64(super().construct_yaml_int(node))
        except ValueError as e:
            raise yaml.constructor.ConstructorError(None, None, str(e), node.start_mark) from e

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        if all(type(key) is str for key in mapping):
            return mapping
        return {_key_str(key): value for key, value in mapping.items()}

    def construct_as_text(self, node: yaml.ScalarNode) -> str:
        return str(self.construct_scalar(node))


# A timestamp stays the text it was; so does a bare "=" (YAML 1.1's "value" type, which
# PyYAML cannot construct and Go's YAML reads as a string: Prometheus Operator's CRDs
# hold one in an enum).
_ManifestLoader.add_constructor("tag:yaml.org,2002:timestamp", _ManifestLoader.construct_as_text)
_ManifestLoader.add_constructor("tag:yaml.org,2002:value", _ManifestLoader.construct_as_text)
_ManifestLoader.add_constructor("tag:yaml.org,2002:int", _ManifestLoader.construct_yaml_int)


class _BoundedManifestLoader(BoundedLoader, _ManifestLoader):
    """The manifest loader with the alias budget, for texts that hold aliases."""


def _yaml_error(error: yaml.YAMLError, label: str) -> RenderError:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    context = getattr(error, "context", None)
    text = f"invalid YAML: {problem}" + (f" ({context})" if context else "")
    location = f"{label}:{mark.line + 1}:{mark.column + 1}" if mark is not None else label
    return RenderError(text, location=location, hint="fix the YAML syntax at this position")


def limit_error(error: LimitExceeded, label: str) -> RenderError:
    """A bound of :mod:`gitward.loading` was hit: name the file (and line) and say why."""
    location = f"{label}:{error.line}" if error.line else label
    return RenderError(error.message, location=location, hint=error.hint)


def _yaml_documents(text: str, label: str) -> Iterator[tuple[int, Any]]:
    """Each document of a stream with the 1-based line where its content starts."""
    try:
        yield from yaml_documents(text, _ManifestLoader, _BoundedManifestLoader)
    except LimitExceeded as e:
        raise limit_error(e, label) from e
    except yaml.YAMLError as e:
        raise _yaml_error(e, label) from e


def _is_list(obj: JsonObject) -> bool:
    kind = obj.get("kind")
    return isinstance(kind, str) and kind.endswith("List") and isinstance(obj.get("items"), list)


def _check_object(obj: Any, where: str) -> JsonObject:
    if not isinstance(obj, dict):
        shown = type(obj).__name__
        raise RenderError(
            f"document is a {shown}, not a Kubernetes object ({_REQUIRED})", location=where
        )
    for field in ("apiVersion", "kind"):
        value = obj.get(field)
        if not isinstance(value, str) or not value:
            raise RenderError(f"object has no {field} ({_REQUIRED})", location=where)
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        raise RenderError(f"{obj['kind']} has no metadata ({_REQUIRED})", location=where)
    name = meta.get("name")
    if name is not None and not isinstance(name, str):
        raise RenderError(
            f"{obj['kind']} has metadata.name {name!r}, a {type(name).__name__}, not a string",
            location=where,
            hint="quote the name: YAML 1.1 reads no, yes, on, off and numbers as other types",
        )
    if not name:
        generate = meta.get("generateName")
        if generate and isinstance(generate, str) and _is_hook(meta):
            return obj  # created anew on every sync, cleaned up by its delete policy
        if generate:
            raise RenderError(
                f"{obj['kind']} uses metadata.generateName, which GitOps cannot track",
                location=where,
                hint="set a fixed metadata.name: a generated name changes on every apply, "
                "so the object could never be compared or pruned (only hooks, annotated "
                f"{HOOK[1]} or {HELM_HOOK}, may use generateName)",
            )
        raise RenderError(f"{obj['kind']} has no metadata.name ({_REQUIRED})", location=where)
    return obj


def _is_hook(meta: Mapping[str, Any]) -> bool:
    annotations = meta.get("annotations")
    if not isinstance(annotations, Mapping):
        return False
    return any(key in annotations for key in (*HOOK, HELM_HOOK))


def objects_of(data: Any, where: str) -> list[JsonObject]:
    """The objects in one document: itself, or the items of a ``List``, checked."""
    if isinstance(data, dict) and _is_list(data):
        found: list[JsonObject] = []
        for item in data["items"]:
            found.extend(objects_of(item, where))
        return found
    return [_check_object(data, where)]


def parse_yaml(text: str, *, label: str, locate: Locate) -> list[Resource]:
    """The objects of a multi-document YAML stream; empty documents are skipped.

    ``label`` names the stream in errors (a file path, or "helm template output ...").
    """
    resources: list[Resource] = []
    for index, (line, data) in enumerate(_yaml_documents(text, label)):
        if data is None:
            continue
        source = locate(line, index)
        for body in objects_of(data, f"{label}:{line}"):
            resources.append(Resource.of(body, source))
    return resources


def parse_json(text: str, *, label: str, locate: Locate) -> list[Resource]:
    """The objects of a JSON file: one object, or a ``List`` of them."""
    try:
        check_size(text)
    except LimitExceeded as e:
        raise limit_error(e, label) from e
    try:
        data = json.loads(text, parse_int=_json_int)
    except json.JSONDecodeError as e:
        raise RenderError(
            f"invalid JSON: {e.msg}",
            location=f"{label}:{e.lineno}:{e.colno}",
            hint="fix the JSON syntax at this position",
        ) from e
    except RecursionError as e:
        raise RenderError(
            "invalid JSON: arrays and objects are nested too deeply", location=label
        ) from e
    except ValueError as e:  # from _json_int
        raise RenderError(f"invalid JSON: {e}", location=label) from e
    source = locate(1, 0)
    return [Resource.of(body, source) for body in objects_of(data, f"{label}:1")]


def _json_int(text: str) -> int:
    if len(text.lstrip("-")) > 20:  # longer than any int64, and maybe than int() accepts
        raise _too_big(text)
    return _int64(int(text))


def file_locator(path: str) -> Locate:
    """Sources for documents of the repository file ``path``."""

    def locate(line: int, index: int) -> SourceLocation:
        return SourceLocation(path, line, index)

    return locate
