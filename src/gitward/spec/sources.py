"""Parse an Application's ``spec.source`` or ``spec.sources`` into :class:`SourceSpec` values.

The Application parser (:mod:`gitward.spec.application`) reads the fields of a source
itself and hands the renderer options to this module. Argo CD's renderer options are read
here: ``directory`` (with ``jsonnet``), ``helm``
(values files, inline values, ``parameters`` and ``fileParameters``) and ``kustomize``
(images, name prefix and suffix, common labels and annotations, namespace, patches).
Each value is checked where it is read, so a mistake is reported with the field that
holds it, before anything is rendered: a Helm parameter name ``--set`` would read
differently, a ``$ref`` naming no source, two sources with the same ``ref``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from gitward.model import (
    DirectoryOptions,
    HelmFileParameter,
    HelmOptions,
    HelmParameter,
    JsonnetOptions,
    JsonnetVariable,
    KustomizeOptions,
    SourceSpec,
)

if TYPE_CHECKING:  # the reader lives in the Application parser, which calls this module
    from gitward.spec.application import _Reader as Reader

# A Helm --set key: dotted segments of letters, digits, "_", "-" and "/" (or escaped
# dots, as in "podAnnotations.prometheus\.io/scrape"), each with optional [N] indexes.
_SEGMENT = r"(?:[A-Za-z0-9_\-/]|\\\.)+(?:\[\d+\])*"
HELM_PARAMETER_NAME = re.compile(rf"^{_SEGMENT}(?:\.{_SEGMENT})*$")
_REF = re.compile(r"^[A-Za-z0-9_-]+$")


def source_ref(r: Reader) -> str | None:
    """A source's ``ref``: the name its files go by in other sources' ``$ref/`` paths."""
    ref = r.str_("ref")
    if ref is not None and not _REF.match(ref):
        raise r.fail("ref", f"{ref!r} must be letters, digits, '-' or '_' (used as $ref/...)")
    return ref


def parse_sources(
    spec: Reader, parse_source: Callable[[Reader], SourceSpec]
) -> tuple[SourceSpec, tuple[SourceSpec, ...]]:
    """The app's rendering source and, for ``spec.sources``, every source in order."""
    many = spec.items("sources")
    single = spec.child("source")
    if many and single is not None:
        spec.used.discard("source")  # Argo CD ignores it then; gitward says so
        raise spec.fail("source", "and spec.sources are both set; keep one of them")
    if not many:
        if single is None:
            raise spec.fail("source", "is required (or spec.sources)")
        source = parse_source(single)
        _check_refs(spec, (source,), lambda _: "source")
        return source, ()
    sources = tuple(parse_source(r) for r in many)
    _check_refs(spec, sources, lambda index: f"sources[{index}]")
    rendering = [s for s in sources if s.renders]
    if not rendering:
        raise spec.fail("sources", "has only ref sources; at least one source must render")
    return rendering[0], sources


def _check_refs(spec: Reader, sources: tuple[SourceSpec, ...], field: Callable[[int], str]) -> None:
    """Each ``ref`` names one source; each ``$ref/`` value file names an existing ref."""
    refs: dict[str, int] = {}
    for index, source in enumerate(sources):
        if source.ref is None:
            continue
        if source.ref in refs:
            raise spec.fail(
                f"{field(index)}.ref",
                f"{source.ref!r} is also the ref of sources[{refs[source.ref]}]; refs are unique",
            )
        refs[source.ref] = index
    for index, source in enumerate(sources):
        for position, name in enumerate(source.helm.value_files if source.helm else ()):
            ref = ref_of(name)
            if ref is not None and ref not in refs:
                known = ", ".join(sorted(refs)) or "none"
                raise spec.fail(
                    f"{field(index)}.helm.valueFiles[{position}]",
                    f"{name!r} names ref {ref!r}, but no source has that ref (refs: {known}); "
                    "add `ref: <name>` to the source that holds the file",
                )


def ref_of(value_file: str) -> str | None:
    """``"values"`` for ``"$values/path/x.yaml"``; None for a path relative to the chart."""
    if not value_file.startswith("$"):
        return None
    return value_file[1:].split("/", 1)[0]


def parse_directory(r: Reader) -> DirectoryOptions:
    jsonnet = r.child("jsonnet")
    result = DirectoryOptions(
        recurse=r.bool_("recurse"),
        include=r.str_("include"),
        exclude=r.str_("exclude"),
        jsonnet=_jsonnet(jsonnet) if jsonnet else JsonnetOptions(),
    )
    r.finish()
    return result


def _jsonnet(r: Reader) -> JsonnetOptions:
    result = JsonnetOptions(
        ext_vars=tuple(_jsonnet_variable(v) for v in r.items("extVars")),
        tlas=tuple(_jsonnet_variable(v) for v in r.items("tlas")),
        libs=r.strings("libs"),
    )
    r.finish()
    return result


def _jsonnet_variable(r: Reader) -> JsonnetVariable:
    result = JsonnetVariable(
        name=r.str_("name", required=True) or "",
        value=r.str_("value", "") or "",
        code=r.bool_("code"),
    )
    r.finish()
    return result


def parse_helm(r: Reader) -> HelmOptions:
    result = HelmOptions(
        release_name=r.str_("releaseName"),
        values=_inline_values(r),
        value_files=r.strings("valueFiles"),
        skip_crds=r.bool_("skipCrds"),
        parameters=tuple(_helm_parameter(p) for p in r.items("parameters")),
        file_parameters=tuple(_helm_file_parameter(p) for p in r.items("fileParameters")),
    )
    r.finish()
    return result


def _inline_values(r: Reader) -> str | None:
    """``helm.values`` (YAML text or a mapping) or ``helm.valuesObject``, as YAML text."""
    values = r.get("values")
    values_object = r.get("valuesObject")
    if values is not None and values_object is not None:
        raise r.fail("valuesObject", "and values are both set; give one of them")
    if values is not None and not isinstance(values, str | Mapping):
        raise r.fail("values", "must be a YAML string or a mapping")
    if values_object is not None and not isinstance(values_object, Mapping):
        raise r.fail("valuesObject", "must be a mapping")
    structured = values_object if values_object is not None else values
    if isinstance(structured, Mapping):
        return json.dumps(structured, sort_keys=True)  # JSON is YAML, keys sorted
    return values if isinstance(values, str) else None


def _helm_name(r: Reader) -> str:
    name = r.str_("name", required=True) or ""
    if not HELM_PARAMETER_NAME.match(name):
        raise r.fail(
            "name",
            f"{name!r} is not a Helm value path; use dotted keys like image.tag or "
            "ports[0].name (escape a dot inside a key as \\.)",
        )
    return name


def _helm_parameter(r: Reader) -> HelmParameter:
    result = HelmParameter(
        name=_helm_name(r), value=r.str_("value", "") or "", force_string=r.bool_("forceString")
    )
    r.finish()
    return result


def _helm_file_parameter(r: Reader) -> HelmFileParameter:
    result = HelmFileParameter(name=_helm_name(r), path=r.str_("path", required=True) or "")
    r.finish()
    return result


def parse_kustomize(r: Reader) -> KustomizeOptions:
    result = KustomizeOptions(
        enable_helm=r.bool_("enableHelm"),
        images=r.strings("images"),
        name_prefix=r.str_("namePrefix"),
        name_suffix=r.str_("nameSuffix"),
        common_labels=_string_map(r, "commonLabels"),
        common_annotations=_string_map(r, "commonAnnotations"),
        namespace=r.str_("namespace"),
        patches=tuple(_patch(p) for p in r.items("patches")),
        generate=r.bool_("generate"),
        ignore=r.str_("ignore"),
    )
    if result.ignore is not None and not result.generate:
        raise r.fail("ignore", "applies to generated builds only: set generate: true")
    r.finish()
    return result


def _string_map(r: Reader, key: str) -> tuple[tuple[str, str], ...]:
    value = r.get(key)
    if value is None:
        return ()
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise r.fail(key, "must be a mapping of strings to strings (quote numbers and booleans)")
    return tuple(sorted(value.items()))


def _patch(r: Reader) -> str:
    """A kustomize patch entry (``patch`` or ``path``, optional ``target``), as JSON text."""
    patch, path = r.str_("patch"), r.str_("path")
    if (patch is None) == (path is None):
        raise r.fail("patch", "or path: give exactly one of them")
    target = r.get("target")
    if target is not None and not isinstance(target, Mapping):
        raise r.fail("target", "must be a mapping (group, version, kind, name, ...)")
    options = r.get("options")
    if options is not None and not isinstance(options, Mapping):
        raise r.fail("options", "must be a mapping")
    entry = {"patch": patch, "path": path, "target": target, "options": options}
    r.finish()
    return json.dumps({k: v for k, v in entry.items() if v is not None}, sort_keys=True)
