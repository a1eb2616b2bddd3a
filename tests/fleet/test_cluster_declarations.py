"""Clusters declared as gitward ``Cluster`` documents and as Argo CD cluster Secrets."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from gitward.errors import ConfigError
from gitward.spec.clusters import ArgoCredentials, ClusterSpec
from gitward.spec.declarations import parse_declarations

TOKEN = "s3cr3t-token-value"


def argo_secret(
    name: str = "prod-eu",
    config: dict[str, Any] | str | None = None,
    *,
    encoded: bool = True,
    labels: dict[str, str] | None = None,
    server: str = "https://10.1.2.3:6443",
) -> dict[str, Any]:
    config = config if config is not None else {"bearerToken": TOKEN}
    fields = {
        "name": name,
        "server": server,
        "config": config if isinstance(config, str) else json.dumps(config),
    }
    body: dict[str, Any] = (
        {"data": {k: base64.b64encode(v.encode()).decode() for k, v in fields.items()}}
        if encoded
        else {"stringData": fields}
    )
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": f"cluster-{name}",
            "labels": {"argocd.argoproj.io/secret-type": "cluster", **(labels or {})},
        },
        "type": "Opaque",
        **body,
    }


@pytest.mark.parametrize("encoded", [True, False])
def test_an_argo_cd_cluster_secret_is_a_cluster_with_its_labels(encoded: bool) -> None:
    doc = argo_secret(
        config={"bearerToken": TOKEN, "tlsClientConfig": {"caData": "Q0E=", "insecure": False}},
        encoded=encoded,
        labels={"env": "prod", "region": "eu-west"},
    )
    cluster = parse_declarations([("clusters.yaml", doc)]).clusters["prod-eu"]
    assert cluster.server == "https://10.1.2.3:6443"
    assert cluster.labels == (("env", "prod"), ("region", "eu-west"))
    assert cluster.credentials == ArgoCredentials(bearer_token=TOKEN, ca_data="Q0E=")
    assert TOKEN not in repr(cluster)
    config = cluster.kubeconfig_dict()
    assert config["users"][0]["user"] == {"token": TOKEN}
    assert config["clusters"][0]["cluster"]["certificate-authority-data"] == "Q0E="


def test_the_secret_name_names_the_cluster_when_its_data_does_not() -> None:
    doc = argo_secret(name="")
    doc["metadata"]["name"] = "staging"
    assert list(parse_declarations([("c.yaml", doc)]).clusters) == ["staging"]


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (argo_secret(config="{not json"), "config is not JSON (line 1"),
        (argo_secret(config={"execProviderConfig": {"command": "x"}}), "would run a command"),
        (argo_secret(config={"awsAuthConfig": {}}), "awsAuthConfig is not supported"),
        (argo_secret(config={"bearerToken": 42}), "config.bearerToken must be a string"),
        (argo_secret(server="10.0.0.1"), "server must be an https:// URL"),
        (argo_secret(name="Prod_EU"), "cluster name 'Prod_EU' must be lowercase"),
    ],
)
def test_a_bad_cluster_secret_is_an_error_naming_the_field_never_the_token(
    doc: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=r"clusters\.yaml: Secret") as caught:
        parse_declarations([("clusters.yaml", doc)])
    assert message in str(caught.value)
    assert TOKEN not in str(caught.value)


def test_a_secret_and_a_cluster_of_the_same_name_are_a_duplicate() -> None:
    document = {
        "apiVersion": "gitward.dev/v1alpha1",
        "kind": "Cluster",
        "metadata": {"name": "prod-eu"},
        "spec": {"context": "prod-eu"},
    }
    with pytest.raises(ConfigError, match=r"declared twice: in a\.yaml and b\.yaml"):
        parse_declarations([("a.yaml", document), ("b.yaml", argo_secret())])


def test_other_secrets_are_not_declarations() -> None:
    doc = argo_secret()
    doc["metadata"]["labels"] = {"argocd.argoproj.io/secret-type": "repository"}
    with pytest.raises(ConfigError, match="Secret in v1 is not a gitward declaration"):
        parse_declarations([("a.yaml", doc)])


def test_a_label_change_keeps_the_connection_a_credential_change_does_not() -> None:
    base = ClusterSpec("c", server="https://h", credentials=ArgoCredentials(bearer_token="a"))
    relabelled = ClusterSpec(
        "c", server="https://h", credentials=ArgoCredentials(bearer_token="a"), labels=(("x", "y"),)
    )
    rotated = ClusterSpec("c", server="https://h", credentials=ArgoCredentials(bearer_token="b"))
    assert base.connection() == relabelled.connection()
    assert base.connection() != rotated.connection()
