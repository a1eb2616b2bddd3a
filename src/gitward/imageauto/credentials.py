"""Registry credentials of an ImageRepository: its ``secretRef``, as Flux reads it.

Flux's image-reflector-controller takes a docker-registry Secret (type
``kubernetes.io/dockerconfigjson``, made by ``kubectl create secret docker-registry``)
from the ImageRepository's namespace and uses the entry of ``auths`` for the image's
registry host: ``username`` and ``password``, or ``auth`` (base64 of ``user:password``).
gitward reads the same, in the cluster gitward runs in (its default cluster), and also
accepts a Secret with plain ``username`` and ``password`` keys (as for Helm and OCI
sources, docs/sources.md). ``certSecretRef`` names a Secret whose ``ca.crt`` is the
registry's private CA, trusted besides the system's (client certificates, ``tls.crt``
and ``tls.key``, are refused by name). Read at every round (a rotated token is used at
once), kept in memory, never logged; a problem is an error on that ImageRepository only.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
from collections.abc import Awaitable, Callable
from typing import Any

from gitward.errors import ConfigError
from gitward.model import RepoCredentials
from gitward.model.images import ImageRepo
from gitward.ports import Cluster
from gitward.secretdata import SecretData, read_secret

RegistryCredentials = Callable[[ImageRepo], Awaitable[RepoCredentials | None]]
DOCKER_CONFIG = ".dockerconfigjson"


async def no_credentials(_repo: ImageRepo) -> RepoCredentials | None:
    return None


def from_secrets(cluster: Callable[[], Cluster]) -> RegistryCredentials:
    """Credentials from each ImageRepository's Secret, read through ``cluster()``."""

    async def secret(repo: ImageRepo, name: str, field_name: str, how: str) -> SecretData:
        return await read_secret(
            cluster(),
            repo.namespace,
            name,
            owner=f"ImageRepository {repo.ref}",
            role="registry",
            field_name=field_name,
            hint=f"create it with {how}, in the ImageRepository's namespace",
        )

    async def read(repo: ImageRepo) -> RepoCredentials | None:
        found: RepoCredentials | None = None
        if repo.secret_name is not None:
            how = "kubectl create secret docker-registry"
            data = await secret(repo, repo.secret_name, "spec.secretRef", how)
            found = credentials_for(repo.image, data)
        if repo.cert_secret_name is not None:
            how = "kubectl create secret generic --from-file=ca.crt"
            data = await secret(repo, repo.cert_secret_name, "spec.certSecretRef", how)
            found = dataclasses.replace(found or RepoCredentials(), ca_data=ca_of(data))
        return found

    return read


def ca_of(data: SecretData) -> str:
    """The PEM text of a certSecretRef's ``ca.crt``."""
    client = [key for key in data if key in ("tls.crt", "tls.key")]
    if client:
        raise ConfigError(
            f"{data.where}: client certificates ({', '.join(client)}) are not supported by gitward",
            hint="keep only ca.crt in the Secret, or authenticate with secretRef",
        )
    if "ca.crt" not in data:
        raise ConfigError(f"{data.where} has no ca.crt", hint="the registry's CA certificate, PEM")
    return data.text("ca.crt")


def credentials_for(image: str, data: SecretData) -> RepoCredentials:
    """The credentials for ``image``'s registry host in a Secret's entries."""
    if DOCKER_CONFIG in data:
        return _from_docker_config(data.text(DOCKER_CONFIG), image, data.where)
    if "username" in data and "password" in data:
        return RepoCredentials(username=data.text("username"), password=data.text("password"))
    raise ConfigError(
        f"{data.where} has neither {DOCKER_CONFIG} nor username and password",
        hint="make it with kubectl create secret docker-registry",
    )


def _from_docker_config(text: str, image: str, where: str) -> RepoCredentials:
    try:
        config = json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError(f"{where}: {DOCKER_CONFIG} is not JSON ({e.msg})") from e
    auths = config.get("auths") if isinstance(config, dict) else None
    host = image.split("/", 1)[0]
    entry = _entry(auths if isinstance(auths, dict) else {}, host)
    if entry is None:
        raise ConfigError(
            f"{where}: {DOCKER_CONFIG} has no entry for the registry {host}",
            hint=f"add {host} to its auths (the --docker-server of the Secret)",
        )
    username, password = entry.get("username"), entry.get("password")
    if isinstance(username, str) and isinstance(password, str):
        return RepoCredentials(username=username, password=password)
    auth = entry.get("auth")
    try:
        user, sep, secret = base64.b64decode(str(auth), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        sep = ""
    if not sep:
        raise ConfigError(f"{where}: the auths entry of {host} has no username and password")
    return RepoCredentials(username=user, password=secret)


def _entry(auths: dict[str, Any], host: str) -> dict[str, Any] | None:
    """The ``auths`` entry for ``host``; keys may be written as URLs (``https://host/v1/``)."""
    for key, value in auths.items():
        name = str(key).split("://", 1)[-1].split("/", 1)[0]
        if name == host and isinstance(value, dict):
            return value
    return None
