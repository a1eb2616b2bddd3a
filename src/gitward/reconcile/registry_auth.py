"""Credentials for registry sources from a Secret: ``spec.source.secretRef``.

A chart repository or OCI registry source may name a Secret (Flux's ``secretRef`` and
``certSecretRef`` in one; Argo CD's repository Secret keys) holding ``username`` and
``password`` and/or ``ca.crt`` (a PEM CA for a private TLS server). As for SOPS keys
(:mod:`.decryption`), the Secret is read from the application's destination namespace:
whoever may deploy there may use its credentials, and an app cannot borrow another
team's by naming it. It is read at every resolve and render, kept in memory only, and
never logged. Before: the app's declaration. After: :mod:`gitward.source.registries`.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable

from gitward.errors import ConfigError
from gitward.model import AppSpec, RepoCredentials, ResourceKey, SourceSpec
from gitward.ports import Cluster

Credentials = Callable[[str], RepoCredentials | None]
KEYS = ("username", "password", "ca.crt")


async def source_credentials(cluster: Cluster, app: AppSpec, given: Credentials) -> Credentials:
    """``given``, with the credentials of each source's Secret for that source's URL."""
    found: dict[str, RepoCredentials] = {}
    for source in app.all_sources():
        if source.secret_ref is not None:
            found[source.repo_url] = await _read(cluster, app, source)
    if not found:
        return given
    return lambda url: found.get(url) or given(url)


async def _read(cluster: Cluster, app: AppSpec, source: SourceSpec) -> RepoCredentials:
    namespace, name = app.destination.namespace, source.secret_ref or ""
    if not namespace:
        raise ConfigError(
            f"{app.name}: spec.source.secretRef needs spec.destination.namespace",
            hint="the credentials Secret is read from the application's destination namespace",
        )
    where = f"Secret {namespace}/{name}"
    body = await cluster.get(ResourceKey("", "Secret", namespace, name))
    if body is None:
        raise ConfigError(
            f"{app.name}: the registry credentials {where} (spec.source.secretRef) does not exist",
            hint="create it with username and password, and/or ca.crt",
        )
    data = body.get("data") or {}
    values: dict[str, str] = {}
    for key in KEYS:
        if key in data:
            try:
                values[key] = base64.b64decode(str(data[key]), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError) as e:
                raise ConfigError(f"{app.name}: {where} entry {key} is not text") from e
    if not values:
        raise ConfigError(
            f"{app.name}: the registry credentials {where} has none of {', '.join(KEYS)}",
            hint="put username and password (and ca.crt for a private CA) in the Secret",
        )
    return RepoCredentials(
        username=values.get("username"),
        password=values.get("password"),
        ca_data=values.get("ca.crt"),
    )
