"""Clusters, declared two ways: gitward's ``Cluster`` document, and Argo CD's cluster
Secret read unchanged.

A gitward ``Cluster`` names a kubeconfig file and context (or ``inCluster``); an Argo CD
cluster Secret (``v1`` Secret labelled ``argocd.argoproj.io/secret-type: cluster``)
carries ``name``, ``server`` and a ``config`` JSON with ``bearerToken``,
``username``/``password`` and ``tlsClientConfig``, in ``data`` (base64) or
``stringData``. Both become a :class:`ClusterSpec`; the Secret's other labels are the
cluster's labels, as Argo CD's cluster generator sees them.

The Secret holds credentials: they live in :class:`ArgoCredentials` (out of ``repr``),
and no error here quotes a value, only the field that is wrong. Commands from Git are
never run: ``execProviderConfig`` and ``awsAuthConfig`` are refused.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gitward.errors import ConfigError
from gitward.spec.application import _Reader

CLUSTER_API_VERSION = "gitward.dev/v1alpha1"
ARGO_SECRET_TYPE = "argocd.argoproj.io/secret-type"  # noqa: S105 - a label key
# Cluster names become part of app instance names (``<app>.<cluster>``, see
# gitward.fleet.targets), so they are DNS labels that may hold dots.
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
_UNSUPPORTED = {
    "execProviderConfig": "it would run a command named in Git",
    "awsAuthConfig": "AWS authentication is not supported",
}


@dataclass(frozen=True)
class ArgoCredentials:
    """How to authenticate to a cluster of an Argo CD Secret. Never in ``repr``."""

    bearer_token: str | None = field(default=None, repr=False)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    insecure: bool = False
    ca_data: str | None = field(default=None, repr=False)  # base64 PEM, as in kubeconfigs
    cert_data: str | None = field(default=None, repr=False)
    key_data: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class ClusterSpec:
    """How to reach one cluster. Without kubeconfig or server it is the controller's own
    default (the current kubeconfig context)."""

    name: str
    kubeconfig: str | None = None
    context: str | None = None
    in_cluster: bool = False
    labels: tuple[tuple[str, str], ...] = ()
    server: str | None = None  # an Argo CD Secret's API server URL
    credentials: ArgoCredentials | None = None  # an Argo CD Secret's config
    origin: str = ""  # the file it was declared in

    def connection(self) -> tuple[object, ...]:
        """What the client is built from: a change here needs a new connection, a
        change of labels alone does not."""
        return (self.kubeconfig, self.context, self.in_cluster, self.server, self.credentials)

    def kubeconfig_dict(self) -> dict[str, Any]:
        """An in-memory kubeconfig for an Argo CD cluster (``server`` set)."""
        creds = self.credentials or ArgoCredentials()
        cluster: dict[str, Any] = {"server": self.server}
        if creds.ca_data:
            cluster["certificate-authority-data"] = creds.ca_data
        if creds.insecure:
            cluster["insecure-skip-tls-verify"] = True
        user: dict[str, Any] = {}
        for key, value in (
            ("token", creds.bearer_token),
            ("username", creds.username),
            ("password", creds.password),
            ("client-certificate-data", creds.cert_data),
            ("client-key-data", creds.key_data),
        ):
            if value:
                user[key] = value
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "current-context": self.name,
            "clusters": [{"name": self.name, "cluster": cluster}],
            "users": [{"name": self.name, "user": user}],
            "contexts": [{"name": self.name, "context": {"cluster": self.name, "user": self.name}}],
        }


def is_argo_cluster_secret(doc: Mapping[str, Any]) -> bool:
    if doc.get("kind") != "Secret" or doc.get("apiVersion") != "v1":
        return False
    labels = (doc.get("metadata") or {}).get("labels") or {}
    return isinstance(labels, Mapping) and labels.get(ARGO_SECRET_TYPE) == "cluster"


def check_name(name: str, where: str) -> None:
    if not _NAME.match(name) or len(name) > 63:
        raise ConfigError(
            f"{where}: cluster name {name!r} must be lowercase letters, digits, '-' and '.' "
            "(at most 63)",
            hint="app instances are named <app>.<cluster>, so the name must fit a label value",
        )


def parse_cluster(doc: Mapping[str, Any], origin: str) -> ClusterSpec:
    """A gitward ``Cluster`` document."""
    root = _Reader(doc, "", origin)
    root.str_("apiVersion", required=True)
    root.str_("kind", required=True)
    metadata = root.child("metadata") or _Reader({}, "metadata", origin)
    name = metadata.str_("name", required=True) or ""
    check_name(name, f"{origin}: metadata.name")
    spec = root.child("spec") or _Reader({}, "spec", origin)
    cluster = ClusterSpec(
        name=name,
        kubeconfig=spec.str_("kubeconfig"),
        context=spec.str_("context"),
        in_cluster=spec.bool_("inCluster"),
        labels=_labels(metadata),
        origin=origin,
    )
    if cluster.in_cluster and cluster.kubeconfig:
        raise spec.fail("inCluster", "and kubeconfig are both set; choose one")
    for reader in (metadata, spec, root):
        reader.finish()
    return cluster


def parse_argo_cluster_secret(doc: Mapping[str, Any], origin: str) -> ClusterSpec:
    """An Argo CD cluster Secret, read as Argo CD reads it."""
    metadata = _Reader(doc.get("metadata") or {}, "metadata", origin)
    secret = metadata.str_("name", required=True) or ""
    where = f"{origin}: Secret {secret!r}"
    fields = _secret_fields(doc, where)
    server = fields.get("server", "").strip()
    if not server.startswith(("https://", "http://")):
        raise ConfigError(f"{where}: server must be an https:// URL of the API server")
    name = fields.get("name", "").strip() or secret
    check_name(name, f"{where}: name")
    labels = tuple(kv for kv in _labels(metadata) if kv[0] != ARGO_SECRET_TYPE)
    credentials = _credentials(fields.get("config", "{}"), where)
    return ClusterSpec(
        name=name, labels=labels, server=server, credentials=credentials, origin=origin
    )


def _labels(metadata: _Reader) -> tuple[tuple[str, str], ...]:
    labels = metadata.get("labels") or {}
    if not isinstance(labels, Mapping):
        raise metadata.fail("labels", "must be a mapping")
    return tuple(sorted((str(k), str(v)) for k, v in labels.items()))


def _secret_fields(doc: Mapping[str, Any], where: str) -> dict[str, str]:
    """``stringData`` over base64-decoded ``data``, as the API server merges them."""
    fields: dict[str, str] = {}
    data, string_data = doc.get("data") or {}, doc.get("stringData") or {}
    if not isinstance(data, Mapping) or not isinstance(string_data, Mapping):
        raise ConfigError(f"{where}: data and stringData must be mappings")
    for key, value in data.items():
        try:
            fields[str(key)] = base64.b64decode(str(value), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as e:
            raise ConfigError(f"{where}: data.{key} is not base64 of UTF-8 text") from e
    fields.update({str(k): str(v) for k, v in string_data.items()})
    return fields


def _credentials(text: str, where: str) -> ArgoCredentials:
    try:
        config = json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError(
            f"{where}: config is not JSON (line {e.lineno} column {e.colno})",
            hint='e.g. {"bearerToken": "...", "tlsClientConfig": {"caData": "..."}}',
        ) from None
    if not isinstance(config, Mapping):
        raise ConfigError(f"{where}: config must be a JSON object")
    for key, why in _UNSUPPORTED.items():
        if key in config:
            raise ConfigError(f"{where}: config.{key} is not supported: {why}")
    tls = config.get("tlsClientConfig") or {}
    if not isinstance(tls, Mapping):
        raise ConfigError(f"{where}: config.tlsClientConfig must be an object")

    def text_of(table: Mapping[str, Any], key: str, path: str) -> str | None:
        value = table.get(key)
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"{where}: {path}{key} must be a string")
        return value or None

    return ArgoCredentials(
        bearer_token=text_of(config, "bearerToken", "config."),
        username=text_of(config, "username", "config."),
        password=text_of(config, "password", "config."),
        insecure=bool(tls.get("insecure", False)),
        ca_data=text_of(tls, "caData", "config.tlsClientConfig."),
        cert_data=text_of(tls, "certData", "config.tlsClientConfig."),
        key_data=text_of(tls, "keyData", "config.tlsClientConfig."),
    )
