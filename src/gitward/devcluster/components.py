"""The dev cluster's components as data: command line, readiness probe, profiles.

A :class:`Component` says how to run one program given the :class:`Wiring` (ports,
certificates, kubeconfigs fixed before anything starts) and how to tell that it is
ready. ``cluster`` starts a profile's components in this order; one with
``ready_before_next`` is waited for before the next starts (the apiserver needs etcd;
the controllers need the apiserver), the others are waited for once all are running.
Every listener binds to 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from gitward.devcluster.pki import Pki
from gitward.devcluster.probe import Endpoint

Profile = Literal["full", "light"]
NODE_NAME = "kwok-node-0"
SERVICE_CIDR = "10.0.0.0/24"
PORTS = ("etcd", "etcd-peer", "kube-apiserver", "kube-controller-manager", "kube-scheduler")


@dataclass(frozen=True)
class Wiring:
    """Everything the components' command lines refer to, fixed before the first start."""

    state_dir: Path
    ports: Mapping[str, int]
    pki: Pki
    kubeconfigs: Mapping[str, Path]
    admin_token: str

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.ports['kube-apiserver']}"

    def api(self) -> Endpoint:
        """The apiserver as the admin, verifying TLS against the cluster's CA."""
        return Endpoint(self.server, ca_file=str(self.pki.ca_cert), token=self.admin_token)


Probe = Callable[[], bool]


@dataclass(frozen=True)
class Component:
    name: str
    args: Callable[[Wiring], list[str]]
    # What is awaited, for messages ("etcd /health"), and the probe that says it is there.
    ready_what: str | None = None
    ready: Callable[[Wiring], Probe] | None = None
    ready_before_next: bool = False


def _etcd_urls(w: Wiring) -> tuple[str, str]:
    return f"http://127.0.0.1:{w.ports['etcd']}", f"http://127.0.0.1:{w.ports['etcd-peer']}"


def _etcd_args(w: Wiring) -> list[str]:
    client_url, peer_url = _etcd_urls(w)
    return [
        "--name=default",
        f"--data-dir={w.state_dir / 'etcd'}",
        f"--listen-client-urls={client_url}",
        f"--advertise-client-urls={client_url}",
        f"--listen-peer-urls={peer_url}",
        f"--initial-advertise-peer-urls={peer_url}",
        f"--initial-cluster=default={peer_url}",
        "--unsafe-no-fsync",
        "--log-level=warn",
    ]


def _etcd_ready(w: Wiring) -> Probe:
    health = Endpoint(_etcd_urls(w)[0])
    return lambda: health.get("/health").get("health") == "true"


def _apiserver_args(w: Wiring) -> list[str]:
    return [
        f"--etcd-servers=http://127.0.0.1:{w.ports['etcd']}",
        "--bind-address=127.0.0.1",
        "--advertise-address=127.0.0.1",
        f"--secure-port={w.ports['kube-apiserver']}",
        f"--tls-cert-file={w.pki.serving_cert}",
        f"--tls-private-key-file={w.pki.serving_key}",
        f"--client-ca-file={w.pki.ca_cert}",
        f"--service-cluster-ip-range={SERVICE_CIDR}",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        f"--service-account-key-file={w.pki.sa_public}",
        f"--service-account-signing-key-file={w.pki.sa_private}",
        f"--token-auth-file={w.state_dir / 'tokens.csv'}",
        "--authorization-mode=RBAC",
        "--endpoint-reconciler-type=none",
        "--allow-privileged=true",
        "--profiling=false",
    ]


def _apiserver_ready(w: Wiring) -> Probe:
    api = w.api()
    return lambda: api.get_text("/readyz") == "ok"


def _controller_args(component: str) -> Callable[[Wiring], list[str]]:
    def args(w: Wiring) -> list[str]:
        kubeconfig = w.kubeconfigs[component]
        return [
            f"--kubeconfig={kubeconfig}",
            f"--authentication-kubeconfig={kubeconfig}",
            f"--authorization-kubeconfig={kubeconfig}",
            "--bind-address=127.0.0.1",
            f"--secure-port={w.ports[component]}",
            "--leader-elect=false",
            f"--tls-cert-file={w.pki.serving_cert}",
            f"--tls-private-key-file={w.pki.serving_key}",
        ]

    return args


def _controller_manager_args(w: Wiring) -> list[str]:
    return [
        *_controller_args("kube-controller-manager")(w),
        f"--service-account-private-key-file={w.pki.sa_private}",
        f"--root-ca-file={w.pki.ca_cert}",
        "--use-service-account-credentials=true",
        # kwok renews the fake node's status less often than the default grace period;
        # without these the node lifecycle controller marks every pod NotReady after
        # ~40 s and kwok never marks them Ready again.
        "--node-monitor-grace-period=24h",
        "--node-startup-grace-period=24h",
    ]


def _healthz(component: str) -> Callable[[Wiring], Probe]:
    def probe(w: Wiring) -> Probe:
        health = Endpoint(f"https://127.0.0.1:{w.ports[component]}", ca_file=str(w.pki.ca_cert))
        return lambda: health.get_text("/healthz") == "ok"

    return probe


def _kwok_args(w: Wiring) -> list[str]:
    return [
        f"--kubeconfig={w.kubeconfigs['kwok']}",
        "--manage-all-nodes=true",
        "--node-ip=127.0.0.1",
    ]


COMPONENTS: tuple[Component, ...] = (
    Component("etcd", _etcd_args, "etcd /health", _etcd_ready, ready_before_next=True),
    Component(
        "kube-apiserver",
        _apiserver_args,
        "kube-apiserver /readyz",
        _apiserver_ready,
        ready_before_next=True,
    ),
    Component(
        "kube-controller-manager",
        _controller_manager_args,
        "kube-controller-manager /healthz",
        _healthz("kube-controller-manager"),
    ),
    Component(
        "kube-scheduler",
        _controller_args("kube-scheduler"),
        "kube-scheduler /healthz",
        _healthz("kube-scheduler"),
    ),
    # kwok's readiness is the fake node turning Ready, which ``cluster`` waits for.
    Component("kwok", _kwok_args),
)

PROFILES: dict[str, tuple[str, ...]] = {
    "full": tuple(c.name for c in COMPONENTS),
    "light": ("etcd", "kube-apiserver"),
}


def profile_components(profile: str) -> tuple[Component, ...]:
    return tuple(c for c in COMPONENTS if c.name in PROFILES[profile])


def fake_node() -> dict[str, Any]:
    """The one Node kwok manages, so Pods get scheduled and become Ready."""
    resources = {"cpu": "32", "memory": "256Gi", "pods": "250", "ephemeral-storage": "500Gi"}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": NODE_NAME,
            "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
            "labels": {
                "kubernetes.io/hostname": NODE_NAME,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "type": "kwok",
            },
        },
        "status": {
            "allocatable": resources,
            "capacity": resources,
            "nodeInfo": {
                "architecture": "amd64",
                "operatingSystem": "linux",
                "kubeletVersion": "fake",
                "kubeProxyVersion": "fake",
            },
        },
    }
