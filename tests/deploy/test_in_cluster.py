"""`gitward serve` as it runs in a pod, with the chart's own RBAC.

The process gets what a pod gets, and nothing else: ``KUBERNETES_SERVICE_HOST/PORT``,
and a ServiceAccount token (a TokenRequest for the chart's ServiceAccount), the cluster
CA and its namespace at ``/var/run/secrets/kubernetes.io/serviceaccount``. That path is a
bind mount in a private mount namespace (``unshare -m``, as root), so the machine's own
``/run`` never changes; no kubeconfig is reachable (``HOME`` is empty). The install is
multi-tenant (writes allowed in one namespace): so the test proves both that the chart's
rules are enough for a sync and that they are not more than that.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from gitward import compose
from gitward.devcluster import ClusterState
from gitward.install.manifests import InstallOptions, render
from gitward.toolchain import Toolchain
from tests.deploy.conftest import delete_install, kubectl
from tests.engine.conftest import GitRepo
from tests.serve.conftest import application
from tests.support.serve_process import ServeProcess

pytestmark = pytest.mark.cluster

INSTALL = "gw-incluster"
CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {mode: pod}\n"


@pytest.fixture
def installed(control_plane: ClusterState) -> Iterator[tuple[str, str]]:
    allowed, denied = "gw-tenant-a", "gw-tenant-b"
    for namespace in (allowed, denied):
        kubectl(control_plane, "create", "namespace", namespace, check=False)
    options = InstallOptions(namespace=INSTALL, write_namespaces=(allowed,))
    kubectl(
        control_plane,
        "apply",
        "--server-side",
        "-f",
        "-",
        stdin=render(compose.tool("helm"), options),
    )
    yield allowed, denied
    delete_install(control_plane, INSTALL)
    for namespace in (allowed, denied):
        kubectl(control_plane, "delete", "namespace", namespace, "--wait=false")


def _service_account_run_dir(cluster: ClusterState, root: Path) -> Path:
    """A stand-in for /run holding ``secrets/kubernetes.io/serviceaccount``."""
    token = kubectl(cluster, "-n", INSTALL, "create", "token", "gitward", "--duration=1h")
    account = root / "secrets" / "kubernetes.io" / "serviceaccount"
    account.mkdir(parents=True)
    (account / "token").write_text(token.strip())
    (account / "ca.crt").write_bytes(Path(cluster.ca_file).read_bytes())
    (account / "namespace").write_text(INSTALL)
    return root


def test_serve_in_a_pod_syncs_where_allowed_and_reports_forbidden_writes(
    control_plane: ClusterState, installed: tuple[str, str], tmp_path: Path
) -> None:
    if os.geteuid() != 0:
        pytest.fail("this test needs root: it bind-mounts the service account in unshare -m")
    allowed, denied = installed
    repo = GitRepo(tmp_path / "repo")
    repo.write({"app/settings.yaml": CONFIGMAP})
    repo.commit()
    config = tmp_path / "config"
    config.mkdir()
    (config / "ok.yaml").write_text(application("tenant-ok", repo, "app", allowed))
    (config / "denied.yaml").write_text(application("tenant-denied", repo, "app", denied))
    fake_run = _service_account_run_dir(control_plane, tmp_path / "run")
    home = tmp_path / "home"
    home.mkdir()
    server = ServeProcess(
        tmp_path,
        "unused",
        config,
        extra=("--inventory-namespace", INSTALL),
        env={
            "HOME": str(home),
            "KUBERNETES_SERVICE_HOST": "127.0.0.1",
            "KUBERNETES_SERVICE_PORT": control_plane.server.rsplit(":", 1)[1],
            "GITWARD_TOOLS_DIR": str(Toolchain().cache_dir),
        },
    )
    server.env.pop("KUBECONFIG", None)
    at = server.cmd.index("--kubeconfig")
    del server.cmd[at : at + 2]  # a pod has no kubeconfig
    script = 'mount --bind "$1" /run && shift && exec "$@"'
    server.cmd = ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh",
                  str(fake_run), *server.cmd]  # fmt: skip
    server.start()
    try:
        ok = server.wait(
            "/api/v1/applications/tenant-ok",
            lambda a: a["syncState"] == "Synced" and a["health"]["status"] == "Healthy",
            timeout=120,
        )
        assert ok["revision"]["live"]
        live = kubectl(control_plane, "-n", allowed, "get", "configmap", "settings", "-o", "name")
        assert live.strip() == "configmap/settings"

        denied_app = server.wait(
            "/api/v1/applications/tenant-denied",
            lambda a: bool(a["lastOperation"]) and a["lastOperation"]["result"] == "Failed",
            timeout=120,
        )
        text = str(denied_app["lastOperation"])
        assert "forbidden" in text.lower(), text
        assert "ConfigMap" in text, "the error names the object"
        assert denied in text, "the error names the namespace"
        assert "service account" in text, "the hint says what to check in a pod"
        absent = kubectl(control_plane, "-n", denied, "get", "configmap", "settings", check=False)
        assert "NotFound" in absent
    finally:
        server.stop()
    assert "Traceback" not in server.log_text()
