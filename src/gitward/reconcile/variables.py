"""The substitution variables of an app: ``substituteFrom`` objects, then ``substitute``.

Flux's ``postBuild.substituteFrom`` names ConfigMaps and Secrets in the Kustomization's
own namespace; they are read through the :class:`~gitward.ports.Cluster` port at every
render, in order (a later one wins), and the inline ``substitute`` values win over all.
A missing object fails the render unless it is ``optional``. Secret values are decoded
in memory only and never appear in a message. Before: the app's declaration. After:
:func:`gitward.render.postbuild.post_build`.
"""

from __future__ import annotations

import base64
import binascii

from gitward.errors import ConfigError
from gitward.model import AppSpec, PostBuild, ResourceKey, VariableSource
from gitward.ports import Cluster
from gitward.render.envsubst import VARIABLE_NAME


async def app_variables(cluster: Cluster, app: AppSpec) -> dict[str, str]:
    """Every variable ``app``'s post-build step substitutes ({} without one)."""
    spec = app.post_build
    if spec is None:
        return {}
    values: dict[str, str] = {}
    for source in spec.substitute_from:
        values.update(await _read(cluster, app, spec, source))
    return check_names(app.name, {**values, **dict(spec.substitute)})


def inline_variables(app: AppSpec) -> dict[str, str]:
    """The inline ``substitute`` values only (rendering without a cluster)."""
    spec = app.post_build
    return check_names(app.name, dict(spec.substitute)) if spec else {}


def check_names(app: str, values: dict[str, str]) -> dict[str, str]:
    """Flux refuses variable names that ``${...}`` could not name; so does gitward."""
    for name in values:
        if not VARIABLE_NAME.fullmatch(name):
            raise ConfigError(
                f"{app}: substitution variable {name!r} is not a valid name",
                hint="names start with a letter or _ and hold only letters, digits and _",
            )
    return values


async def _read(
    cluster: Cluster, app: AppSpec, spec: PostBuild, source: VariableSource
) -> dict[str, str]:
    where = f"{source.kind} {spec.namespace}/{source.name}"
    body = await cluster.get(ResourceKey("", source.kind, spec.namespace, source.name))
    if body is None:
        if source.optional:
            return {}
        raise ConfigError(
            f"{app.name}: postBuild.substituteFrom names {where}, which does not exist",
            hint="create it, or mark the entry optional: true",
        )
    data = body.get("data") or {}
    if source.kind == "ConfigMap":
        return {str(k): str(v) for k, v in data.items()}
    values = {}
    for key, encoded in data.items():
        try:
            values[str(key)] = base64.b64decode(str(encoded), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError) as e:
            raise ConfigError(f"{app.name}: {where} entry {key} is not UTF-8 text") from e
    return values
