"""ImageRepository ``secretRef``: a private registry's tags listed with the credentials of
a docker-registry Secret read from the real control plane; without them, that
ImageRepository fails alone, with a clear error and no password in it."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
import yaml
from lightkube import Client
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Secret

from gitward.devcluster import ClusterState
from gitward.devcluster.pki import make_pki
from gitward.errors import ConfigError
from gitward.imageauto.credentials import credentials_for, from_secrets
from gitward.imageauto.scan import ImageUpdater
from gitward.kube.client import KubeClient
from gitward.model.images import ImageAutomation, ImagePolicy, ImageRepo, PolicyKind
from gitward.secretdata import SecretData
from gitward.source.oci import list_tags
from gitward.spec.declarations import parse_declarations
from gitward.toolchain import Toolchain
from tests.registries.servers import registry, run

USER, PASSWORD = "ci-bot", "registry-token-7c1d"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def docker_config(host: str, entry: dict[str, str]) -> dict[str, str]:
    return {".dockerconfigjson": b64(json.dumps({"auths": {host: entry}}))}


@pytest.mark.parametrize(
    "data",
    [
        docker_config("r.example:5000", {"username": USER, "password": PASSWORD}),
        docker_config("r.example:5000", {"auth": b64(f"{USER}:{PASSWORD}")}),
        docker_config("https://r.example:5000/v1/", {"username": USER, "password": PASSWORD}),
        {"username": b64(USER), "password": b64(PASSWORD)},
    ],
)
def test_the_secret_forms_flux_and_kubectl_write(data: dict[str, str]) -> None:
    found = credentials_for("r.example:5000/team/web", SecretData("Secret ns/s", data))
    assert (found.username, found.password) == (USER, PASSWORD)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (docker_config("other.example", {"auth": b64("a:b")}), "no entry for the registry"),
        ({".dockerconfigjson": b64("{not json")}, "is not JSON"),
        ({"token": b64("x")}, "neither .dockerconfigjson nor username and password"),
        (docker_config("r.example:5000", {"auth": b64("no-colon")}), "no username and password"),
    ],
)
def test_a_secret_that_cannot_serve_is_named(data: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        credentials_for("r.example:5000/team/web", SecretData("Secret ns/s", data))
    assert "Secret ns/s" in str(caught.value)


def test_secret_ref_is_read_from_the_document() -> None:
    doc = {
        "apiVersion": "image.toolkit.fluxcd.io/v1beta2",
        "kind": "ImageRepository",
        "metadata": {"name": "web", "namespace": "team"},
        "spec": {"image": "r.example/team/web", "interval": "1m", "secretRef": {"name": "pull"}},
    }
    images = parse_declarations([("i.yaml", doc)]).images
    assert images.repositories["team/web"].secret_name == "pull"


@pytest.mark.cluster
async def test_a_round_lists_a_private_registry_with_the_secret(
    tmp_path: Path, control_plane: ClusterState, kube: Client, namespace: str
) -> None:
    tools = Toolchain().ensure(["registry", "oras"])
    home = tmp_path / "oras"
    home.mkdir()
    (home / "layer.txt").write_text("x\n")
    with registry(tools["registry"], tmp_path / "registry", user=(USER, PASSWORD)) as server:
        host = server.host
        target = f"{host}/team/web:1.0.0,1.3.0,2.0.0"
        push: list[str | Path] = [tools["oras"], "push", "--plain-http", "-u", USER, "-p", PASSWORD]
        run([*push, target, "layer.txt:text/plain"], home, home)
        kube.create(
            Secret(
                metadata=ObjectMeta(name="pull", namespace=namespace),
                type="kubernetes.io/dockerconfigjson",
                data=docker_config(host, {"auth": b64(f"{USER}:{PASSWORD}")}),
            )
        )
        repos = {
            f"{namespace}/{name}": ImageRepo(
                namespace, name, f"{host}/team/web", plain_http=True, secret_name=secret
            )
            for name, secret in (("web", "pull"), ("anonymous", None))
        }
        policies = {
            f"{namespace}:{name}": ImagePolicy(
                namespace, name, f"{namespace}/{name}", PolicyKind.SEMVER, "1.x"
            )
            for name in ("web", "anonymous")
        }
        async with KubeClient.from_kubeconfig(control_plane.kubeconfig) as cluster:
            updater = ImageUpdater(
                tmp_path / "cache", list_tags, registry_credentials=from_secrets(lambda: cluster)
            )
            found = await updater.run_once(ImageAutomation(repos, policies, ()))
    assert found.latest[f"{namespace}:web"].tag == "1.3.0"
    assert list(found.errors) == [f"ImageRepository {namespace}/anonymous"]
    refused = found.errors[f"ImageRepository {namespace}/anonymous"]
    assert "refused access without credentials (HTTP 401)" in refused
    assert all(PASSWORD not in e for e in found.errors.values())


@pytest.mark.cluster
async def test_a_registry_behind_a_private_ca_is_listed_with_the_cert_secret(
    tmp_path: Path, control_plane: ClusterState, kube: Client, namespace: str
) -> None:
    """certSecretRef: the CA in ca.crt is trusted for that ImageRepository only; without
    it the TLS error names the way out; a client certificate is refused by name."""
    tools = Toolchain().ensure(["registry", "oras"])
    pki = make_pki(tmp_path / "pki")  # a CA and a serving certificate for 127.0.0.1
    home = tmp_path / "oras"
    home.mkdir()
    (home / "layer.txt").write_text("x\n")
    tls = (pki.serving_cert, pki.serving_key)
    with registry(tools["registry"], tmp_path / "registry", tls=tls) as server:
        host = server.host
        push: list[str | Path] = [tools["oras"], "push", "--ca-file", pki.ca_cert]
        run([*push, f"{host}/team/web:1.0.0,1.4.0", "layer.txt:text/plain"], home, home)
        ca = {"ca.crt": b64(pki.ca_cert.read_text())}
        for name, data in (("ca", ca), ("mtls", {**ca, "tls.crt": b64("x"), "tls.key": b64("y")})):
            kube.create(Secret(metadata=ObjectMeta(name=name, namespace=namespace), data=data))
        repos = {
            f"{namespace}/{name}": ImageRepo(
                namespace, name, f"{host}/team/web", cert_secret_name=secret
            )
            for name, secret in (("web", "ca"), ("untrusted", None), ("client", "mtls"))
        }
        policies = {
            f"{namespace}:{name}": ImagePolicy(
                namespace, name, f"{namespace}/{name}", PolicyKind.SEMVER, "1.x"
            )
            for name in ("web", "untrusted", "client")
        }
        async with KubeClient.from_kubeconfig(control_plane.kubeconfig) as cluster:
            updater = ImageUpdater(
                tmp_path / "cache", list_tags, registry_credentials=from_secrets(lambda: cluster)
            )
            found = await updater.run_once(ImageAutomation(repos, policies, ()))
    assert found.latest[f"{namespace}:web"].tag == "1.4.0"
    assert sorted(found.errors) == [
        f"ImageRepository {namespace}/client",
        f"ImageRepository {namespace}/untrusted",
    ]
    assert (
        "TLS certificate is not trusted" in found.errors[f"ImageRepository {namespace}/untrusted"]
    )
    assert (
        "client certificates (tls.crt, tls.key) are not supported"
        in (found.errors[f"ImageRepository {namespace}/client"])
    )


def test_cert_secret_ref_is_read_from_the_document() -> None:
    text = """\
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImageRepository
metadata: {name: web, namespace: apps}
spec: {image: registry.internal/team/web, interval: 5m, certSecretRef: {name: registry-ca}}
"""
    repo = parse_declarations([("i.yaml", yaml.safe_load(text))]).images.repositories["apps/web"]
    assert (repo.cert_secret_name, repo.secret_name) == ("registry-ca", None)
