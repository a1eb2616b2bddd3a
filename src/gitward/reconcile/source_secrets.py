"""Credentials for an app's sources from a Secret: ``spec.source.secretRef``.

Any source may name a Secret (Flux's ``secretRef`` and ``certSecretRef`` in one, with
the keys Flux and Argo CD use): ``username`` and ``password`` (a password or an access
token; registries, chart repositories, Git over HTTPS), ``ca.crt`` (a PEM CA for a
private TLS registry or chart repository), ``identity`` and ``known_hosts`` (Git over
SSH: the private key, and the host keys to trust). As for SOPS keys (:mod:`.decryption`),
the Secret is read from the application's destination namespace: whoever may deploy
there may use its credentials, and an app cannot borrow another team's by naming it. A
Flux source document names its own namespace (``SourceSpec.secret_namespace``), where
Flux reads it. The Secret is read at every resolve and render, kept in memory only
(the SSH key is handed to libgit2 from memory, never written to a file), and never
logged. Before: the app's declaration. After: :mod:`gitward.source`.
"""

from __future__ import annotations

from collections.abc import Callable

from gitward.errors import ConfigError
from gitward.model import AppSpec, RepoCredentials, SourceKind, SourceSpec
from gitward.ports import Cluster
from gitward.secretdata import read_secret

Credentials = Callable[[str], RepoCredentials | None]
KEYS = ("username", "password", "ca.crt", "identity", "known_hosts")


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
    namespace = source.secret_namespace or app.destination.namespace
    name = source.secret_ref or ""
    if not namespace:
        raise ConfigError(
            f"{app.name}: spec.source.secretRef needs spec.destination.namespace",
            hint="the credentials Secret is read from the application's destination namespace",
        )
    secret = await read_secret(
        cluster,
        namespace,
        name,
        owner=app.name,
        role="credentials",
        field_name="spec.source.secretRef",
        hint=_wanted(source),
    )
    values = {key: secret.text(key) for key in KEYS if key in secret}
    if not values:
        raise ConfigError(f"{secret.where} has none of {', '.join(KEYS)}", hint=_wanted(source))
    return RepoCredentials(
        username=values.get("username"),
        password=values.get("password"),
        ca_data=values.get("ca.crt"),
        ssh_private_key=values.get("identity"),
        known_hosts=values.get("known_hosts"),
    )


def _wanted(source: SourceSpec) -> str:
    if source.kind() is SourceKind.GIT:
        return (
            "create it with username and password (HTTPS), or identity (a private key) and "
            "known_hosts (SSH)"
        )
    return "create it with username and password, and/or ca.crt"
