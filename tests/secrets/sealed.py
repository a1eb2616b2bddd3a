"""The real Sealed Secrets controller, run against the dev cluster as if it were in it.

The controller reads only in-cluster configuration: ``KUBERNETES_SERVICE_HOST/PORT``
and a ServiceAccount token, CA and namespace at
``/var/run/secrets/kubernetes.io/serviceaccount/``. It runs in a private mount namespace
(``unshare -m``, as root) where a prepared directory is bind-mounted over ``/run`` (the
target of ``/var/run``); the machine's own ``/run`` never changes. Its CRD and RBAC come
from the Helm chart in the module it was built from (``helm template``), applied with
the pinned kubectl; the token is a TokenRequest for the chart's ServiceAccount. Both
listeners bind 127.0.0.1. The public certificate is read from ``/v1/cert.pem``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2 as httpx
import yaml

from gitward.devcluster import ClusterState
from gitward.toolchain import SEALED_SECRETS_VERSION, Toolchain, find_go
from tests.support.serve_process import free_port
from tests.support.waiting import eventually_sync

NAMESPACE = "kube-system"
MODULE = "github.com/bitnami-labs/sealed-secrets"
_INSTALLED = {
    "CustomResourceDefinition",
    "ServiceAccount",
    "ClusterRole",
    "ClusterRoleBinding",
    "Role",
    "RoleBinding",
}


@dataclass
class SealedSecretsController:
    process: subprocess.Popen[bytes]
    cert: Path  # the controller's public certificate, for kubeseal --cert
    log: Path
    url: str

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def module_dir() -> Path:
    """The sealed-secrets module in the Go module cache (the build put it there)."""
    result = subprocess.run(
        [find_go().binary, "mod", "download", "-json", f"{MODULE}@{SEALED_SECRETS_VERSION}"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "GOFLAGS": "-mod=mod"},
    )
    return Path(json.loads(result.stdout)["Dir"])


def kubectl(cluster: ClusterState, *args: str, stdin: str | None = None) -> str:
    binary = Toolchain().ensure(["kubectl"])["kubectl"]
    result = subprocess.run(
        [str(binary), "--kubeconfig", cluster.kubeconfig, *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"kubectl {' '.join(args)}: {result.stderr}"
    return result.stdout


def install(cluster: ClusterState) -> str:
    """Apply the chart's CRD and RBAC; return the controller's ServiceAccount name."""
    helm = Toolchain().ensure(["helm"])["helm"]
    chart = module_dir() / "helm" / "sealed-secrets"
    rendered = subprocess.run(
        [
            str(helm),
            "template",
            "sealed-secrets",
            str(chart),
            "--namespace",
            NAMESPACE,
            "--include-crds",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    objects: list[dict[str, Any]] = [
        doc for doc in yaml.safe_load_all(rendered) if doc and doc.get("kind") in _INSTALLED
    ]
    kubectl(
        cluster,
        "apply",
        "--server-side",
        "--force-conflicts",
        "-f",
        "-",
        stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}),
    )
    kubectl(
        cluster,
        "wait",
        "--for=condition=Established",
        "--timeout=120s",
        "crd/sealedsecrets.bitnami.com",
    )
    (account,) = (o["metadata"]["name"] for o in objects if o["kind"] == "ServiceAccount")
    return str(account)


def service_account_dir(cluster: ClusterState, account: str, root: Path) -> Path:
    """A stand-in for /run: ``secrets/kubernetes.io/serviceaccount/{token,ca.crt,namespace}``."""
    token = kubectl(cluster, "create", "token", account, "-n", NAMESPACE, "--duration=24h")
    target = root / "secrets" / "kubernetes.io" / "serviceaccount"
    target.mkdir(parents=True)
    (target / "token").write_text(token.strip())
    (target / "ca.crt").write_bytes(Path(cluster.ca_file).read_bytes())
    (target / "namespace").write_text(NAMESPACE)
    for path in [root, *root.rglob("*")]:
        path.chmod(0o700 if path.is_dir() else 0o600)
    return root


def start(cluster: ClusterState, workdir: Path) -> SealedSecretsController:
    if os.geteuid() != 0:
        raise RuntimeError(
            "the Sealed Secrets tests run the controller in a private mount "
            "namespace (unshare -m, mount --bind), which needs root"
        )
    binary = Toolchain().ensure(["sealed-secrets-controller"])["sealed-secrets-controller"]
    fake_run = service_account_dir(cluster, install(cluster), workdir / "run")
    port, metrics = free_port(), free_port()
    api_port = cluster.server.rsplit(":", 1)[1]
    log = workdir / "controller.log"
    script = 'mount --bind "$1" /run && shift && exec "$@"'
    argv = [
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        script,
        "sh",
        str(fake_run),
        str(binary),
        f"--listen-addr=127.0.0.1:{port}",
        f"--listen-metrics-addr=127.0.0.1:{metrics}",
        "--key-renew-period=0",
    ]
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "KUBERNETES_SERVICE_HOST": "127.0.0.1",
        "KUBERNETES_SERVICE_PORT": api_port,
        "POD_NAMESPACE": NAMESPACE,
    }
    with log.open("wb") as out:
        process = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
    controller = SealedSecretsController(
        process, workdir / "pub.pem", log, f"http://127.0.0.1:{port}"
    )

    def certificate() -> str | None:
        if process.poll() is not None:
            raise AssertionError(f"the controller exited:\n{log.read_text()}")
        response = httpx.get(f"{controller.url}/v1/cert.pem", timeout=5)
        return response.text if response.status_code == 200 else None

    try:
        pem = eventually_sync(
            certificate,
            what="the controller's certificate",
            timeout=120,
            ignoring=(httpx.TransportError,),
        )
    except BaseException:
        controller.stop()
        raise
    assert pem is not None
    controller.cert.write_text(pem)
    return controller
