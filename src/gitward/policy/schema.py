"""Validate objects against the Kubernetes OpenAPI schema of their kind, offline.

The schemas are Kubernetes' own (the ``/openapi/v3`` snapshot in
:mod:`gitward.policy.catalog`, or a CRD's ``openAPIV3Schema``), adapted once to plain
JSON Schema: ``nullable`` becomes a null type, int-or-string and quantities accept
both forms, and objects that do not preserve unknown fields reject them, as the API
server does for ``kubectl apply`` (strict field validation): a misspelt field is an
error here rather than silently dropped. Validators are compiled by jsonschema-rs once
per kind and version. An object of a kind with no schema is named (a warning): it may
be a CRD installed by other means. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import jsonschema_rs

from gitward.model import Resource, split_api_version
from gitward.model.policy import PolicyKind, PolicyMode, Violation
from gitward.policy.catalog import Catalog, KindInfo

_INT_OR_STRING = {"anyOf": [{"type": "integer"}, {"type": "string"}]}
_QUANTITY = {"anyOf": [{"type": "number"}, {"type": "string"}]}
_SPECIAL = {
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString": _INT_OR_STRING,
    "io.k8s.apimachinery.pkg.api.resource.Quantity": _QUANTITY,
}
_ROOT_FIELDS = {"apiVersion": {"type": "string"}, "kind": {"type": "string"}}
POLICY = "schema"


def to_json_schema(node: Any, *, root: bool = False) -> Any:
    """Kubernetes' OpenAPI v3 dialect → JSON Schema (draft 2020-12), recursively."""
    if isinstance(node, list):
        return [to_json_schema(n) for n in node]
    if not isinstance(node, Mapping):
        return node
    if node.get("x-kubernetes-int-or-string"):
        return dict(_INT_OR_STRING)
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key.startswith("x-kubernetes-") or key in ("description", "example", "nullable"):
            continue
        if key == "$ref" and isinstance(value, str):
            out[key] = value.replace("#/components/schemas/", "#/$defs/")
        elif key in ("properties", "patternProperties", "$defs"):
            out[key] = {k: to_json_schema(v) for k, v in value.items()}
        else:
            out[key] = to_json_schema(value)
    if node.get("nullable") and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    _close(node, out, root)
    return out


def _close(node: Mapping[str, Any], out: dict[str, Any], root: bool) -> None:
    """Reject unknown fields where Kubernetes would (not under preserve-unknown-fields)."""
    if node.get("x-kubernetes-preserve-unknown-fields") or "additionalProperties" in node:
        return
    if "properties" not in node:
        return
    if root:
        out["properties"] = {**_ROOT_FIELDS, "metadata": {"type": "object"}, **out["properties"]}
    out["additionalProperties"] = False


def definitions(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The snapshot's definitions in JSON Schema form, with the special types replaced."""
    converted = {name: to_json_schema(schema) for name, schema in raw.items()}
    converted.update({name: dict(schema) for name, schema in _SPECIAL.items()})
    return converted


class SchemaValidator:
    """Validates objects against a :class:`Catalog`; validators are compiled lazily."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._definitions: dict[str, Any] | None = None
        self._validators: dict[tuple[str, str, str], Any] = {}

    def validate(self, resources: Sequence[Resource]) -> list[Violation]:
        catalog = self.catalog.with_crds(resources)
        found: list[Violation] = []
        for resource in resources:
            found.extend(self._one(catalog, resource))
        return found

    def _one(self, catalog: Catalog, resource: Resource) -> list[Violation]:
        key = resource.key
        _group, version = split_api_version(resource.api_version)
        info = catalog.get(key.group, key.kind)
        if info is None or info.schemas.get(version, "missing") == "missing":
            where = f"{resource.api_version} {key.kind}"
            if info is not None:
                served = ", ".join(sorted(info.schemas)) or "none"
                message = f"{where} is not served (versions: {served})"
                return [self._violation(resource, "apiVersion", message, PolicyMode.DENY)]
            message = f"unknown kind {where}: no schema in Kubernetes {catalog.kubernetes} or a CRD"
            return [self._violation(resource, "kind", message, PolicyMode.WARN)]
        validator = self._validator(info, version)
        if validator is None:
            return []
        return [
            self._violation(resource, _path(error.instance_path), error.message, PolicyMode.DENY)
            for error in validator.iter_errors(resource.body)
        ]

    def _validator(self, info: KindInfo, version: str) -> Any:
        cache_key = (info.group, info.kind, version)
        if cache_key not in self._validators:
            schema = info.schemas.get(version)
            if schema is None:
                self._validators[cache_key] = None
            else:
                self._validators[cache_key] = jsonschema_rs.validator_for(
                    self._document(schema, info), validate_formats=False
                )
        return self._validators[cache_key]

    def _document(self, schema: Mapping[str, Any], info: KindInfo) -> dict[str, Any]:
        if info.origin == "kubernetes":
            if self._definitions is None:
                self._definitions = definitions(self.catalog.definitions)
            return {**dict(schema), "$defs": self._definitions}
        return dict(to_json_schema(schema, root=True))

    def _violation(
        self, resource: Resource, rule: str, message: str, mode: PolicyMode
    ) -> Violation:
        return Violation(
            resource.key, POLICY, rule, message, mode, PolicyKind.SCHEMA, resource.source
        )


def _path(parts: Sequence[str | int]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(object)"
