"""Helm values an app reads from the cluster (Flux's ``valuesFrom``), merged before render.

Each reference names a ConfigMap or Secret (in the HelmRelease's namespace) and the key
holding a values document (``values.yaml`` by default), or one value to set at a
``targetPath``. They are read at every render, merged in order, and the app's inline
values go on top (:mod:`gitward.render.helmvalues`). The result replaces the app's
inline values for this render only: it lives in memory and in the render cache, and
no message names a value. A missing object or key fails the render unless the reference
is ``optional``. Before: the app's declaration. After: the Helm renderer.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
from typing import Any

import yaml

from gitward.errors import ConfigError
from gitward.model import AppSpec, HelmOptions, ResourceKey, ValuesReference
from gitward.ports import Cluster
from gitward.render.helmvalues import merge, set_path


async def with_values_from(cluster: Cluster, app: AppSpec) -> AppSpec:
    """``app`` with its ``valuesFrom`` layers merged into its inline values."""
    if not app.values_from:
        return app
    values: dict[str, Any] = {}
    for ref in app.values_from:
        text = await _read(cluster, app, ref)
        if text is None:
            continue
        values = (
            set_path(values, ref.target_path, text)
            if ref.target_path
            else merge(values, _document(app, ref, text))
        )
    helm = app.source.helm or HelmOptions()
    if helm.values:
        values = merge(values, _document(app, None, helm.values))
    merged = dataclasses.replace(helm, values=json.dumps(values, sort_keys=True))
    return dataclasses.replace(app, source=dataclasses.replace(app.source, helm=merged))


def _where(ref: ValuesReference) -> str:
    return f"{ref.kind} {ref.namespace}/{ref.name}"


async def _read(cluster: Cluster, app: AppSpec, ref: ValuesReference) -> str | None:
    body = await cluster.get(ResourceKey("", ref.kind, ref.namespace, ref.name))
    if body is None:
        if ref.optional:
            return None
        raise ConfigError(
            f"{app.name}: valuesFrom names {_where(ref)}, which does not exist",
            hint="create it, or mark the reference optional: true",
        )
    data = body.get("data") or {}
    if ref.values_key not in data:
        if ref.optional:
            return None
        raise ConfigError(f"{app.name}: {_where(ref)} has no key {ref.values_key!r} (valuesFrom)")
    raw = str(data[ref.values_key])
    if ref.kind == "ConfigMap":
        return raw
    try:
        return base64.b64decode(raw, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise ConfigError(
            f"{app.name}: {_where(ref)} key {ref.values_key!r} is not UTF-8 text"
        ) from None


def _document(app: AppSpec, ref: ValuesReference | None, text: str) -> dict[str, Any]:
    where = f"{_where(ref)} key {ref.values_key!r}" if ref else "its inline values"
    try:
        values = yaml.safe_load(text)
    except yaml.YAMLError:
        raise ConfigError(f"{app.name}: {where} is not valid YAML (valuesFrom)") from None
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise ConfigError(f"{app.name}: {where} is not a mapping of values (valuesFrom)")
    return values
