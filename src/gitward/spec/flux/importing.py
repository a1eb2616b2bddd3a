"""``gitward import``: Flux or Argo CD objects from a live cluster as gitward declarations.

Pure translation; the CLI (:mod:`gitward.cli.importing`) lists the objects and writes
the files. Each live object is first reduced to what its owner wrote (kind, name,
namespace, labels, annotations, spec; no status, no server-set metadata), then:

- Flux: every Kustomization and HelmRelease becomes an ``Application`` with the source
  it references
  (:mod:`gitward.spec.flux`, then :mod:`.appdoc`); the document is read back and must
  declare the same app, so nothing is lost without a word;
- Argo CD: every ``Application`` and ``AppProject`` is kept as written, with gitward's
  API version, once gitward's reader accepts it.

An object gitward cannot translate is left out and reported with the reason (the
field it does not implement), and so is a whole set that does not hold together
(a ``dependsOn`` naming an app that was left out).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from gitward.errors import ConfigError
from gitward.spec.application import parse_application
from gitward.spec.declarations import parse_declarations
from gitward.spec.flux import FluxDocuments
from gitward.spec.flux.appdoc import API_VERSION, application
from gitward.spec.project import parse_project

FLUX_KINDS = (
    ("source.toolkit.fluxcd.io", "GitRepository"),
    ("source.toolkit.fluxcd.io", "OCIRepository"),
    ("source.toolkit.fluxcd.io", "HelmRepository"),
    ("source.toolkit.fluxcd.io", "HelmChart"),
    ("source.toolkit.fluxcd.io", "Bucket"),
    ("kustomize.toolkit.fluxcd.io", "Kustomization"),
    ("helm.toolkit.fluxcd.io", "HelmRelease"),
)
ARGOCD_KINDS = (("argoproj.io", "AppProject"), ("argoproj.io", "Application"))
_APP_KINDS = ("Kustomization", "HelmRelease")
_SERVER_ANNOTATIONS = ("kubectl.kubernetes.io/last-applied-configuration",)


@dataclass
class Imported:
    """Declaration files by name, and what could not be translated (one line each)."""

    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def clean(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The object as its author wrote it: no status, no server-set metadata."""
    meta = obj.get("metadata") or {}
    metadata: dict[str, Any] = {"name": meta.get("name")}
    if meta.get("namespace"):
        metadata["namespace"] = meta["namespace"]
    if meta.get("labels"):
        metadata["labels"] = dict(meta["labels"])
    annotations = {
        k: v for k, v in (meta.get("annotations") or {}).items() if k not in _SERVER_ANNOTATIONS
    }
    if annotations:
        metadata["annotations"] = annotations
    result = {"apiVersion": obj.get("apiVersion"), "kind": obj.get("kind"), "metadata": metadata}
    if "spec" in obj:
        result["spec"] = obj["spec"]
    return result


def origin_of(doc: Mapping[str, Any]) -> str:
    meta = doc.get("metadata") or {}
    return f"{doc.get('kind')} {meta.get('namespace') or 'default'}/{meta.get('name')}"


def import_flux(objects: Iterable[Mapping[str, Any]]) -> Imported:
    """Applications for the Kustomizations among ``objects`` (live Flux objects)."""
    docs = [clean(o) for o in objects]
    result = Imported()
    sources = []
    for doc in (d for d in docs if d["kind"] not in _APP_KINDS):
        try:
            FluxDocuments(_readers([doc])).apps()  # a source alone: checks its fields
        except ConfigError as e:
            result.problems.append(str(e))
            continue
        sources.append(doc)
    for doc in (d for d in docs if d["kind"] in _APP_KINDS):
        try:
            name, written = _application(doc, sources)
        except ConfigError as e:
            result.problems.append(str(e))
            continue
        except ValueError as e:
            result.problems.append(
                f"{_where(doc)}: {doc['kind']}: {e}; gitward reads the {doc['kind']} "
                "document itself: keep it (and its sources) in the config folder"
            )
            continue
        result.files[f"{name}.yaml"] = written
    return _checked(result)


def import_argocd(objects: Iterable[Mapping[str, Any]]) -> Imported:
    """Argo CD Applications and AppProjects as gitward declarations, checked."""
    result = Imported()
    parsers: dict[str, Callable[[Any, str], Any]] = {
        "Application": parse_application,
        "AppProject": parse_project,
    }
    for obj in objects:
        doc = clean(obj)
        doc["apiVersion"] = API_VERSION
        doc["metadata"].pop("namespace", None)  # gitward's declarations are not namespaced
        try:
            parsers[str(doc["kind"])](doc, origin_of(obj))
        except ConfigError as e:
            result.problems.append(str(e))
            continue
        result.files[f"{str(doc['kind']).lower()}-{doc['metadata']['name']}.yaml"] = doc
    return _checked(result)


def _application(doc: dict[str, Any], sources: list[dict[str, Any]]) -> tuple[str, Any]:
    """The Application for one Flux app object, checked to read back as the same app."""
    [(app, _)] = FluxDocuments(_readers([*sources, doc])).apps()
    written = application(app)
    if parse_application(written, _where(doc)) != app:
        raise ConfigError(f"{_where(doc)}: does not read back as the same app")
    return app.name, written


def _where(doc: Mapping[str, Any]) -> str:
    """How a Flux object is named in messages (the kind follows in each message)."""
    meta = doc.get("metadata") or {}
    return f"{meta.get('namespace') or 'default'}/{meta.get('name')}"


def _readers(docs: Iterable[dict[str, Any]]) -> list[Any]:
    flux = FluxDocuments()
    for doc in docs:
        flux.add(_where(doc), doc)
    return flux.documents


def _checked(result: Imported) -> Imported:
    """The files as one set of declarations must hold together; else say why."""
    try:
        parse_declarations(sorted(result.files.items()))
    except ConfigError as e:
        result.problems.append(f"the imported set does not hold together: {e}")
    return result
