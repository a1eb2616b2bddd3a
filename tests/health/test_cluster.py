"""Health through real syncs on the dev cluster: operator kinds, kube-prometheus, APIService.

No operator runs here, which is the point: a custom resource nobody reconciles must not
look Healthy. For a sample of the bundled rules, each fixture's object is synced, then
its status is written through the status subresource as the operator would, and the
next sync must report the fixture's expected health. The sample's CRDs are minimal
structural CRDs with a status subresource written here (the published ones are not
reachable offline); the Prometheus operator's are its published CRDs.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from lightkube import ApiError, Client, codecs
from lightkube.generic_resource import create_namespaced_resource
from lightkube.resources.apiextensions_v1 import CustomResourceDefinition
from lightkube.resources.apiregistration_v1 import APIService
from lightkube.types import PatchType

from gitward.healthrules import load_library
from gitward.model import GroupKind, HealthRule, HealthStatus, ResourceKey
from gitward.reconcile.pipeline import Engine, SyncOptions
from tests.engine.conftest import TESTDATA, GitRepo, app
from tests.health.test_library import EXPECT, EXPECT_MESSAGE, LIBRARY
from tests.support.waiting import eventually_sync

pytestmark = pytest.mark.cluster

# (fixture file, plural): one kind per operator family, all namespaced.
SAMPLE = [
    ("cert-manager.io/fixtures/certificate.yaml", "certificates"),
    ("kustomize.toolkit.fluxcd.io/fixtures/kustomization.yaml", "kustomizations"),
    ("external-secrets.io/fixtures/externalsecret.yaml", "externalsecrets"),
    ("keda.sh/fixtures/scaledobject.yaml", "scaledobjects"),
    ("velero.io/fixtures/backup.yaml", "backups"),
    ("gateway.networking.k8s.io/fixtures/httproute.yaml", "httproutes"),
    ("kafka.strimzi.io/fixtures/kafkatopic.yaml", "kafkatopics"),
    ("postgresql.cnpg.io/fixtures/cluster.yaml", "clusters"),
]
WAITING = "waiting for its controller: no status yet"
NO_WAIT = SyncOptions(wait=False)


def structural_crd(group: str, version: str, kind: str, plural: str) -> dict[str, Any]:
    open_object = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": f"{plural}.{group}",
            # Required for *.k8s.io groups; the published Gateway API CRDs carry it too.
            "annotations": {
                "api-approved.kubernetes.io": "https://github.com/kubernetes-sigs/gateway-api/pull/2466"
            },
        },
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"kind": kind, "plural": plural, "listKind": f"{kind}List"},
            "versions": [
                {
                    "name": version,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {"spec": open_object, "status": open_object},
                        }
                    },
                }
            ],
        },
    }


def as_synced(doc: dict[str, Any], index: int, namespace: str) -> dict[str, Any]:
    """The fixture as Git would hold it: no status, no server-set fields, a unique name."""
    obj = copy.deepcopy(doc)
    obj.pop("status", None)
    meta = obj["metadata"]
    meta.pop("generation", None)
    meta["name"] = f"{meta['name']}-{index}"
    meta["namespace"] = namespace
    return obj


@pytest.mark.parametrize("case", SAMPLE, ids=[s[1] for s in SAMPLE])
async def test_bundled_rules_on_synced_objects(
    repo: GitRepo, engine: Engine, kube: Client, namespace: str, case: tuple[str, str]
) -> None:
    fixture, plural = case
    docs = list(yaml.load_all((LIBRARY / fixture).read_text(), Loader=yaml.CSafeLoader))
    # The cluster sets generation 1 on create; fixtures of later generations cannot be
    # reproduced by a status write.
    docs = [d for d in docs if d and d["metadata"].get("generation", 1) == 1]
    group, _, version = docs[0]["apiVersion"].rpartition("/")
    kind = docs[0]["kind"]
    objects = [as_synced(d, i, namespace) for i, d in enumerate(docs)]
    repo.write(
        {
            "app/crd.yaml": yaml.safe_dump(structural_crd(group, version, kind, plural)),
            "app/objects.yaml": yaml.safe_dump_all(objects),
        }
    )
    repo.commit()
    spec = app(repo, "app", namespace, name=plural)

    first = await engine.sync(spec, NO_WAIT)
    assert not first.failed, first.changes
    keys = [ResourceKey(group, kind, namespace, o["metadata"]["name"]) for o in objects]
    assert {str(first.health[k]) for k in keys} == {f"Progressing: {WAITING}"}

    resource = create_namespaced_resource(group, version, kind, plural)
    for doc, obj in zip(docs, objects, strict=True):
        if "status" in doc:
            kube.patch(
                resource.Status,
                obj["metadata"]["name"],
                {"status": doc["status"]},
                namespace=namespace,
                patch_type=PatchType.MERGE,
            )

    second = await engine.sync(spec, NO_WAIT)
    for doc, key in zip(docs, keys, strict=True):
        annotations = doc["metadata"]["annotations"]
        health = second.health[key]
        assert health.status.value == annotations[EXPECT], (key, health)
        assert annotations[EXPECT_MESSAGE].lower() in health.message.lower(), (key, health)


Prometheus = create_namespaced_resource("monitoring.coreos.com", "v1", "Prometheus", "prometheuses")
Alertmanager = create_namespaced_resource(
    "monitoring.coreos.com", "v1", "Alertmanager", "alertmanagers"
)


def _listable(kube: Client, resource: Any) -> bool:
    """Established comes before the API server can list a new kind ("storage is
    (re)initializing", HTTP 429); any other error fails the test."""
    try:
        list(kube.list(resource, namespace="default"))
    except ApiError as e:
        if e.status.code != 429:
            raise
        return False
    return True


@pytest.fixture(scope="module")
def prometheus_crds(kube: Client) -> None:
    """The Prometheus operator's published CRDs, installed as a cluster admin would."""
    folder = TESTDATA / "prometheus-operator-crds"
    for name in (
        "monitoring.coreos.com_prometheuses.yaml",
        "monitoring.coreos.com_alertmanagers.yaml",
    ):
        crd = codecs.load_all_yaml((folder / name).read_text())[0]
        kube.apply(crd, field_manager="gitward-tests", force=True)
        assert crd.metadata is not None
        assert crd.metadata.name
        kube.wait(CustomResourceDefinition, crd.metadata.name, for_conditions=["Established"])
    for resource in (Prometheus, Alertmanager):
        eventually_sync(
            functools.partial(_listable, kube, resource),
            what=f"the API server to list {resource.__name__}",
            timeout=120,
        )


KUBE_PROMETHEUS = """\
apiVersion: monitoring.coreos.com/v1
kind: Prometheus
metadata: {name: k8s, labels: {app.kubernetes.io/part-of: kube-prometheus}}
spec:
  replicas: 2
  serviceAccountName: prometheus-k8s
  serviceMonitorSelector: {}
  alerting:
    alertmanagers: [{name: alertmanager-main, namespace: monitoring, port: web}]
---
apiVersion: monitoring.coreos.com/v1
kind: Alertmanager
metadata: {name: main, labels: {app.kubernetes.io/part-of: kube-prometheus}}
spec:
  replicas: 3
  serviceAccountName: alertmanager-main
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: prometheus-k8s}
"""


@pytest.mark.usefixtures("prometheus_crds")
async def test_kube_prometheus_without_its_operator_is_not_healthy(
    repo: GitRepo, engine: Engine, namespace: str
) -> None:
    repo.write({"monitoring/kube-prometheus.yaml": KUBE_PROMETHEUS})
    repo.commit()
    spec = app(repo, "monitoring", namespace, name="kube-prometheus")
    result = await engine.sync(spec, NO_WAIT)
    assert not result.failed, result.changes
    for kind, name in (("Prometheus", "k8s"), ("Alertmanager", "main")):
        health = result.health[ResourceKey("monitoring.coreos.com", kind, namespace, name)]
        assert (health.status, health.message) == (HealthStatus.PROGRESSING, WAITING)
    account = result.health[ResourceKey("", "ServiceAccount", namespace, "prometheus-k8s")]
    assert account.status is HealthStatus.HEALTHY

    # An app that knows better overrides the bundled rule for its Alertmanager only.
    override = HealthRule(
        kind="Alertmanager",
        group="monitoring.coreos.com",
        healthy="!has(object.status)",
        message='"managed outside the cluster"',
    )
    with_rule = await engine.sync(
        spec.__class__(**{**spec.__dict__, "health_rules": (override,)}), NO_WAIT
    )
    alertmanager = with_rule.health[
        ResourceKey("monitoring.coreos.com", "Alertmanager", namespace, "main")
    ]
    assert str(alertmanager) == "Healthy: managed outside the cluster"
    prometheus = with_rule.health[
        ResourceKey("monitoring.coreos.com", "Prometheus", namespace, "k8s")
    ]
    assert prometheus.status is HealthStatus.PROGRESSING


@pytest.fixture
def api_service_name(kube: Client, namespace: str) -> Iterator[str]:
    """A unique APIService name; deleted afterwards, since a broken one disturbs discovery."""
    name = f"v1alpha1.{namespace}.health.gitward.dev"
    yield name
    kube.delete(APIService, name)


async def test_an_api_service_without_its_service_is_degraded(
    repo: GitRepo, engine: Engine, namespace: str, api_service_name: str
) -> None:
    group = api_service_name.removeprefix("v1alpha1.")
    repo.write(
        {
            "api/apiservice.yaml": yaml.safe_dump(
                {
                    "apiVersion": "apiregistration.k8s.io/v1",
                    "kind": "APIService",
                    "metadata": {"name": api_service_name},
                    "spec": {
                        "group": group,
                        "version": "v1alpha1",
                        "groupPriorityMinimum": 1000,
                        "versionPriority": 15,
                        "insecureSkipTLSVerify": True,
                        "service": {"name": "absent", "namespace": namespace, "port": 443},
                    },
                }
            )
        }
    )
    repo.commit()
    spec = app(repo, "api", namespace, name="apiservice")
    result = await engine.sync(spec, SyncOptions(timeout=120))
    health = result.health[
        ResourceKey("apiregistration.k8s.io", "APIService", "", api_service_name)
    ]
    assert health.status is HealthStatus.DEGRADED, health
    assert health.message.startswith("APIService is not available: ")
    assert "ServiceNotFound" in health.message or "FailedDiscoveryCheck" in health.message
    assert "absent" in health.message


def test_sample_kinds_are_in_the_library() -> None:
    library = load_library()
    for fixture, _ in SAMPLE:
        doc = next(yaml.load_all((LIBRARY / fixture).read_text(), Loader=yaml.CSafeLoader))
        gk = GroupKind(doc["apiVersion"].rpartition("/")[0], doc["kind"])
        assert library.lookup(gk) is not None
