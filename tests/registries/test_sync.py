"""Registry sources synced into the real control plane with ``gitward sync``, then no diff.

Argo CD's ``helm-dependency`` example (its Chart.yaml and values as published, the
dependency served from a local chart repository made by the real ``helm``), a chart
from an HTTP repository by semver range with basic auth, a chart from the real OCI
registry, and an OCI artifact pushed with ``oras`` by tag, semver range and digest.
"""

from __future__ import annotations

import base64
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from lightkube import Client
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import ConfigMap, Secret

from gitward import compose
from gitward.devcluster import ClusterState
from gitward.errors import ConfigError
from gitward.kube.client import KubeClient
from gitward.model import AppSpec, Destination, SourceSpec
from gitward.reconcile.pipeline import SyncOptions
from tests.engine.conftest import GitRepo
from tests.engine.test_cli import assert_in_sync, sync_json

from .conftest import Tools, index_repository, package, write_chart
from .servers import Registry, StaticServer, registry
from .test_oci import push_manifests, pushed_charts  # noqa: F401 (a fixture)

pytestmark = pytest.mark.cluster

# A stand-in for the stable repository's wordpress 9.0.3: the values the example sets
# (fullname, wordpressPassword, mariadb.*) drive a Deployment, a Service and a Secret.
WORDPRESS_TEMPLATES = {
    "deployment.yaml": """\
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: {{ .Values.fullname | lower }}}
        spec:
          replicas: 1
          selector: {matchLabels: {app: {{ .Values.fullname | lower }}}}
          template:
            metadata: {labels: {app: {{ .Values.fullname | lower }}}}
            spec:
              containers:
                - name: wordpress
                  image: docker.io/bitnami/wordpress:5.3.2
                  env:
                    - name: MARIADB_HOST
                      value: {{ .Values.mariadb.enabled | ternary "mariadb" "external" }}
        """,
    "service.yaml": """\
        apiVersion: v1
        kind: Service
        metadata: {name: {{ .Values.fullname | lower }}}
        spec:
          selector: {app: {{ .Values.fullname | lower }}}
          ports: [{port: 80}]
        """,
    "secret.yaml": """\
        apiVersion: v1
        kind: Secret
        metadata: {name: {{ .Values.fullname | lower }}}
        stringData:
          wordpress-password: {{ .Values.wordpressPassword | quote }}
          mariadb-password: {{ .Values.mariadb.db.password | quote }}
        """,
}


def wordpress_chart(root: Path) -> Path:
    chart = write_chart(root, "wordpress", "9.0.3")
    (chart / "templates" / "cm.yaml").unlink()
    for name, text in WORDPRESS_TEMPLATES.items():
        (chart / "templates" / name).write_text(textwrap.dedent(text))
    (chart / "values.yaml").write_text(
        "fullname: wordpress\nwordpressPassword: ''\nmariadb:\n  enabled: true\n"
        "  db: {password: ''}\n  rootUser: {password: ''}\n"
    )
    return chart


@pytest.fixture
def chart_root(tools: Tools, tmp_path: Path) -> Path:
    """A chart repository: the wordpress stand-in and ``hello`` 1.0.0, 1.2.0 and 2.0.0."""
    home, out, sources = tmp_path / "home", tmp_path / "packages", tmp_path / "sources"
    packages = [package(tools, wordpress_chart(sources), out, home)]
    packages += [
        package(tools, write_chart(sources, "hello", v), out, home)
        for v in ("1.0.0", "1.2.0", "2.0.0")
    ]
    return index_repository(tools, packages, tmp_path / "served", home)


@pytest.fixture
def charts(chart_root: Path) -> Iterator[StaticServer]:
    with StaticServer(chart_root) as server:
        yield server


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    return GitRepo(tmp_path / "repo")


def application(path: Path, name: str, namespace: str, source: dict[str, Any]) -> Path:
    """An Argo CD Application file, as a user would write it."""
    document = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": name, "namespace": "argocd"},
        "spec": {
            "project": "default",
            "source": source,
            "destination": {"server": "https://kubernetes.default.svc", "namespace": namespace},
        },
    }
    path.write_text(yaml.safe_dump(document))
    return path


def test_argo_cd_helm_dependency_example_syncs_healthy_without_diff(
    repo: GitRepo, charts: StaticServer, control_plane: ClusterState, namespace: str, tmp_path: Path
) -> None:
    repo.write(
        {
            "helm-dependency/Chart.yaml": textwrap.dedent(
                f"""\
                apiVersion: v2
                name: wordpress
                description: A Helm chart for Kubernetes
                type: application
                version: 0.1.0
                appVersion: "1.0"
                dependencies:
                - name: wordpress
                  version: 9.0.3
                  repository: {charts.url}
                """
            ),
            "helm-dependency/values.yaml": textwrap.dedent(
                """\
                wordpress:
                  fullname: myWordPress
                  wordpressPassword: foo
                  mariadb:
                    db:
                      password: bar
                    rootUser:
                      password: baz
                """
            ),
        }
    )
    repo.commit()
    app = application(
        tmp_path / "app.yaml",
        f"wp-{namespace}",
        namespace,
        {"repoURL": str(repo.path), "targetRevision": "HEAD", "path": "helm-dependency"},
    )
    cache = tmp_path / "cache"
    data = sync_json("-f", str(app), cluster=control_plane, cache=cache)
    assert data["result"] == "succeeded"
    assert data["health"] == "Healthy"
    kinds = {(o["kind"], o["name"]) for o in data["objects"]}
    assert kinds == {
        ("Deployment", "mywordpress"),
        ("Service", "mywordpress"),
        ("Secret", "mywordpress"),
    }
    downloads = [p for p in charts.requests if p.endswith(".tgz")]
    assert downloads == ["/wordpress-9.0.3.tgz"]
    assert_in_sync("-f", str(app), cluster=control_plane, cache=cache)
    assert [p for p in charts.requests if p.endswith(".tgz")] == downloads  # cached


def test_a_chart_from_a_private_http_repository_by_semver_range(
    chart_root: Path, control_plane: ClusterState, namespace: str, tmp_path: Path
) -> None:
    password = tmp_path / "password"
    password.write_text("chart-pass\n")
    auth = ("--username", "reader", "--password-file", str(password))
    cache = tmp_path / "cache"
    with StaticServer(chart_root, basic=("reader", "chart-pass")) as server:
        app = application(
            tmp_path / "app.yaml",
            f"hello-{namespace}",
            namespace,
            {
                "repoURL": server.url,
                "chart": "hello",
                "targetRevision": "^1.0",
                "helm": {"valuesObject": {"greeting": "synced"}},
            },
        )
        data = sync_json("-f", str(app), *auth, cluster=control_plane, cache=cache)
        assert data["result"] == "succeeded"
        assert data["revision"]["requested"] == "^1.0"
        assert data["revision"]["sha"].startswith("sha256:")
        assert_in_sync("-f", str(app), *auth, cluster=control_plane, cache=cache)
    (cm,) = [o for o in data["objects"] if o["kind"] == "ConfigMap"]
    assert cm["name"] == f"hello-{namespace}-hello"


@pytest.mark.usefixtures("pushed_charts")
def test_a_chart_from_the_oci_registry_syncs_without_diff(
    oci: Registry, control_plane: ClusterState, namespace: str, tmp_path: Path
) -> None:
    source = {
        "repoURL": f"oci://{oci.host}/charts",
        "chart": "hello",
        "targetRevision": "~1.2",
        "plainHTTP": True,
        "helm": {"releaseName": "oci"},
    }
    app = application(tmp_path / "app.yaml", f"oci-{namespace}", namespace, source)
    cache = tmp_path / "cache"
    data = sync_json("-f", str(app), cluster=control_plane, cache=cache)
    assert data["result"] == "succeeded"
    assert [(o["kind"], o["name"]) for o in data["objects"]] == [("ConfigMap", "oci-hello")]
    assert_in_sync("-f", str(app), cluster=control_plane, cache=cache)


def test_an_oci_artifact_syncs_by_tag_semver_and_digest_with_a_secret_for_the_registry(
    tools: Tools, kube: Client, control_plane: ClusterState, namespace: str, tmp_path: Path
) -> None:
    user = ("deployer", "artifact-pass-9")
    with registry(tools.registry, tmp_path / "reg", user=user) as oci:
        first = push_manifests(tools, oci, "1.0.0", tmp_path / "a", "one")
        push_manifests(tools, oci, "1.1.0", tmp_path / "b", "two")
        push_manifests(tools, oci, "2.0.0", tmp_path / "c", "three")
        kube.create(
            Secret(
                metadata=ObjectMeta(name="registry", namespace=namespace),
                data={
                    k: base64.b64encode(v.encode()).decode()
                    for k, v in zip(("username", "password"), user, strict=True)
                },
            )
        )
        cache = tmp_path / "cache"
        for wanted, value in (("1.0.0", "one"), ("^1.0", "two"), (first, "one")):
            source = {
                "repoURL": f"oci://{oci.host}/manifests/web",
                "targetRevision": wanted,
                "path": "deploy",
                "directory": {"recurse": True},
                "plainHTTP": True,
                "secretRef": {"name": "registry"},
            }
            app = application(tmp_path / "app.yaml", f"art-{namespace}", namespace, source)
            data = sync_json("-f", str(app), cluster=control_plane, cache=cache)
            assert data["result"] == "succeeded", wanted
            live = {n: kube.get(ConfigMap, n, namespace=namespace).data for n in ("one", "two")}
            assert live == {"one": {"v": value}, "two": {"v": value}}, wanted
            assert_in_sync("-f", str(app), cluster=control_plane, cache=cache)
        assert data["revision"]["sha"] == first


@pytest.fixture
def pushed_manifests(tools: Tools, oci: Registry, tmp_path: Path) -> str:
    return push_manifests(tools, oci, "1.0.0", tmp_path / "a", "one")


@pytest.mark.usefixtures("pushed_manifests")
async def test_the_engine_refuses_a_missing_registry_secret_and_applies_nothing(
    oci: Registry, control_plane: ClusterState, kube: Client, namespace: str, tmp_path: Path
) -> None:
    spec = AppSpec(
        name=f"nosecret-{namespace}",
        source=SourceSpec(
            f"oci://{oci.host}/manifests/web",
            "deploy",
            "1.0.0",
            plain_http=True,
            secret_ref="absent",
        ),
        destination=Destination(namespace=namespace),
    )
    async with KubeClient.from_kubeconfig(control_plane.kubeconfig) as cluster:
        engine = compose.engine(compose.Settings(cache_dir=tmp_path / "cache"), cluster)
        with pytest.raises(ConfigError, match=f"Secret {namespace}/absent .* does not exist"):
            await engine.sync(spec, SyncOptions())
    names = {cm.metadata.name for cm in kube.list(ConfigMap, namespace=namespace) if cm.metadata}
    assert names <= {"kube-root-ca.crt"}
