"""A real, local Kubernetes control plane on 127.0.0.1, for development and tests.

``up`` starts etcd and kube-apiserver, then (in the ``full`` profile) kube-controller-
manager, kube-scheduler and kwok with one fake Node, so Deployments really roll out and
namespaces really finish deleting. Every component binds to 127.0.0.1 on a free port;
key material is made fresh at each start (see :mod:`pki`). The state directory holds
the state file, the kubeconfig, the logs and etcd's data; ``down`` stops exactly the
processes recorded there and removes it.

Authentication uses static bearer tokens, one identity per component, so RBAC applies
to the controllers as it does in a real cluster; the admin token is in system:masters.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from gitward.devcluster import processes
from gitward.devcluster.pki import Pki, make_pki
from gitward.devcluster.probe import Endpoint, ProbeError
from gitward.errors import ComponentStartError, ControlPlaneError
from gitward.ports import Clock, Progress, SilentProgress, SystemClock
from gitward.toolchain import ALL_TOOLS, KUBERNETES_VERSION, Toolchain

Profile = Literal["full", "light"]
PROFILES: dict[str, tuple[str, ...]] = {
    "full": ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"),
    "light": ("etcd", "kube-apiserver"),
}
NODE_NAME = "kwok-node-0"
STATE_FILE = "state.json"
SERVICE_CIDR = "10.0.0.0/24"


def default_state_dir() -> Path:
    """``$GITWARD_DEV_CLUSTER_DIR``, else ``$XDG_STATE_HOME/gitward/dev-cluster``."""
    if explicit := os.environ.get("GITWARD_DEV_CLUSTER_DIR"):
        return Path(explicit)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "gitward" / "dev-cluster"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class ClusterState:
    """What ``up`` leaves behind for ``status``, ``env`` and ``down`` to find."""

    profile: str
    server: str
    kubeconfig: str
    ca_file: str
    admin_token_file: str
    bin_dir: str
    kubernetes_version: str
    started_at: float
    ports: dict[str, int]
    processes: tuple[processes.ProcessRecord, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "server": self.server,
            "kubeconfig": self.kubeconfig,
            "ca_file": self.ca_file,
            "admin_token_file": self.admin_token_file,
            "bin_dir": self.bin_dir,
            "kubernetes_version": self.kubernetes_version,
            "started_at": self.started_at,
            "ports": self.ports,
            "processes": [p.to_json() for p in self.processes],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ClusterState:
        return cls(
            profile=str(data["profile"]),
            server=str(data["server"]),
            kubeconfig=str(data["kubeconfig"]),
            ca_file=str(data["ca_file"]),
            admin_token_file=str(data["admin_token_file"]),
            bin_dir=str(data["bin_dir"]),
            kubernetes_version=str(data["kubernetes_version"]),
            started_at=float(data["started_at"]),
            ports={str(k): int(v) for k, v in data["ports"].items()},
            processes=tuple(processes.ProcessRecord.from_json(p) for p in data["processes"]),
        )

    def admin_token(self) -> str:
        return Path(self.admin_token_file).read_text().strip()


@dataclass(frozen=True)
class ComponentStatus:
    component: str
    pid: int
    running: bool
    log: str


@dataclass(frozen=True)
class ClusterStatus:
    state: ClusterState | None
    components: tuple[ComponentStatus, ...]
    ready: bool
    message: str


class ControlPlane:
    """One local control plane living in one state directory."""

    def __init__(
        self,
        state_dir: Path | None = None,
        toolchain: Toolchain | None = None,
        *,
        clock: Clock | None = None,
        progress: Progress | None = None,
        ready_timeout: float = 120.0,
    ) -> None:
        self.state_dir = (state_dir or default_state_dir()).resolve()
        self.progress = progress or SilentProgress()
        self.toolchain = toolchain or Toolchain(progress=self.progress)
        self.clock = clock or SystemClock()
        self.ready_timeout = ready_timeout

    # ------------------------------------------------------------------ queries

    def load_state(self) -> ClusterState | None:
        path = self.state_dir / STATE_FILE
        try:
            return ClusterState.from_json(json.loads(path.read_text()))
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError) as e:
            raise ControlPlaneError(
                f"the state file {path} is unreadable: {e}",
                hint="stop any leftover processes and remove that directory",
            ) from e

    def status(self) -> ClusterStatus:
        state = self.load_state()
        if state is None:
            return ClusterStatus(None, (), False, f"no dev cluster in {self.state_dir}")
        components = tuple(
            ComponentStatus(p.component, p.pid, processes.is_running(p), p.log)
            for p in state.processes
        )
        dead = [c.component for c in components if not c.running]
        if dead:
            return ClusterStatus(state, components, False, f"not running: {', '.join(dead)}")
        try:
            ready = self._api(state).get_text("/readyz")
        except (ProbeError, OSError) as e:
            return ClusterStatus(state, components, False, f"apiserver not ready: {e}")
        if ready != "ok":
            return ClusterStatus(state, components, False, f"apiserver not ready: {ready}")
        return ClusterStatus(state, components, True, f"ready at {state.server}")

    def env_lines(self) -> str:
        state = self.load_state()
        if state is None:
            raise ControlPlaneError(
                f"no dev cluster in {self.state_dir}",
                hint="start one with `gitward dev-cluster up`",
            )
        return (
            f"export KUBECONFIG={_shell_quote(state.kubeconfig)}\n"
            f'export PATH={_shell_quote(state.bin_dir)}:"$PATH"\n'
        )

    # ------------------------------------------------------------------ up

    def up(self, profile: Profile = "full") -> ClusterState:
        """Start the control plane, or return the one already running here."""
        if profile not in PROFILES:
            raise ControlPlaneError(f"unknown profile {profile!r}; use one of {list(PROFILES)}")
        current = self.status()
        # A running full cluster also serves a caller that asked for the light one.
        if current.ready and current.state and profile in (current.state.profile, "light"):
            self.progress.done(f"dev cluster already running at {current.state.server}")
            return current.state
        if current.state is not None:
            self.progress.step(f"replacing the stale dev cluster in {self.state_dir}")
            self.down()

        # Build everything `env` puts on PATH, not only what this profile runs.
        binaries = self.toolchain.ensure(ALL_TOOLS)
        bin_dir = self.toolchain.bin_dir()
        started = self.clock.monotonic()
        self.progress.step(f"starting a {profile} control plane in {self.state_dir}")
        try:
            state = self._start(profile, binaries, bin_dir)
        except BaseException:
            self.down()
            raise
        self.progress.done(
            f"Kubernetes {KUBERNETES_VERSION} ready at {state.server} "
            f"in {self.clock.monotonic() - started:.1f}s"
        )
        return state

    def _start(self, profile: Profile, binaries: dict[str, Path], bin_dir: Path) -> ClusterState:
        if self.state_dir.exists():
            shutil.rmtree(self.state_dir)
        self.state_dir.mkdir(parents=True, mode=0o700)
        pki = make_pki(self.state_dir / "pki")
        tokens = {who: secrets.token_urlsafe(24) for who in _IDENTITIES}
        _write_token_file(self.state_dir / "tokens.csv", tokens)
        ports = {
            name: free_port()
            for name in (
                "etcd",
                "etcd-peer",
                "kube-apiserver",
                "kube-controller-manager",
                "kube-scheduler",
            )
        }
        server = f"https://127.0.0.1:{ports['kube-apiserver']}"
        admin_token_file = self.state_dir / "admin-token"
        _write_private(admin_token_file, tokens["admin"] + "\n")
        kubeconfigs = {
            who: self._write_kubeconfig(who, server, pki, tokens[who]) for who in _IDENTITIES
        }
        state = ClusterState(
            profile=profile,
            server=server,
            kubeconfig=str(kubeconfigs["admin"]),
            ca_file=str(pki.ca_cert),
            admin_token_file=str(admin_token_file),
            bin_dir=str(bin_dir),
            kubernetes_version=KUBERNETES_VERSION,
            started_at=self.clock.wall(),
            ports=ports,
        )
        launch = _Launcher(self, state, binaries, pki, kubeconfigs)
        launch.etcd()
        launch.apiserver()
        if profile == "full":
            launch.controllers()
            self._create_node(state)
            self._wait_for(
                "the fake node to be Ready", state, launch.records, lambda: self._node_ready(state)
            )
            self._wait_for(
                "the default ServiceAccount",
                state,
                launch.records,
                lambda: self._exists(state, "/api/v1/namespaces/default/serviceaccounts/default"),
            )
        state = launch.state()
        self._save(state)
        return state

    def _write_kubeconfig(self, who: str, server: str, pki: Pki, token: str) -> Path:
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "gitward-dev",
                    "cluster": {"server": server, "certificate-authority": str(pki.ca_cert)},
                }
            ],
            "users": [{"name": who, "user": {"token": token}}],
            "contexts": [
                {
                    "name": "gitward-dev",
                    "context": {"cluster": "gitward-dev", "user": who, "namespace": "default"},
                }
            ],
            "current-context": "gitward-dev",
        }
        path = (
            self.state_dir / "kubeconfig"
            if who == "admin"
            else self.state_dir / "components" / f"{who}.kubeconfig"
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_private(path, json.dumps(config, indent=2) + "\n")
        return path

    def _save(self, state: ClusterState) -> None:
        path = self.state_dir / STATE_FILE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state.to_json(), indent=2) + "\n")
        tmp.replace(path)

    # ------------------------------------------------------------------ readiness

    def _api(self, state: ClusterState) -> Endpoint:
        return Endpoint(state.server, ca_file=state.ca_file, token=state.admin_token())

    def _exists(self, state: ClusterState, path: str) -> bool:
        try:
            self._api(state).get(path)
        except ProbeError as e:
            if e.status == 404:
                return False
            raise
        return True

    def _node_ready(self, state: ClusterState) -> bool:
        try:
            node = self._api(state).get(f"/api/v1/nodes/{NODE_NAME}")
        except ProbeError:
            return False
        conditions = node.get("status", {}).get("conditions", [])
        return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)

    def _create_node(self, state: ClusterState) -> None:
        self._api(state).post("/api/v1/nodes", _fake_node())

    def _wait_for(
        self,
        what: str,
        state: ClusterState,
        records: Sequence[processes.ProcessRecord],
        ready: Callable[[], bool],
    ) -> None:
        """Poll ``ready`` until it is true; fail fast, with the log, if a component dies."""
        deadline = self.clock.monotonic() + self.ready_timeout
        last_error = "not ready yet"
        delay = 0.05
        while True:
            for record in records:
                if not processes.is_running(record):
                    raise ComponentStartError(
                        record.component,
                        f"exited while waiting for {what}",
                        processes.log_tail(record.log),
                        record.log,
                    )
            try:
                if ready():
                    return
            except ProbeError as e:
                last_error = str(e)
            if self.clock.monotonic() >= deadline:
                culprit = records[-1] if records else None
                raise ComponentStartError(
                    culprit.component if culprit else "control plane",
                    f"{what} not ready after {self.ready_timeout:.0f}s ({last_error})",
                    processes.log_tail(culprit.log) if culprit else "",
                    culprit.log if culprit else str(self.state_dir),
                )
            self.clock.sleep(delay)
            delay = min(delay * 1.5, 0.5)

    # ------------------------------------------------------------------ down

    def down(self) -> list[str]:
        """Stop every process recorded here (controllers first), remove the state."""
        state = None
        with contextlib.suppress(ControlPlaneError):
            state = self.load_state()
        stopped: list[str] = []
        records = list(state.processes) if state else self._partial_records()
        for record in reversed(records):
            if processes.stop(record, self.clock):
                stopped.append(record.component)
        if self.state_dir.exists():
            shutil.rmtree(self.state_dir, ignore_errors=True)
        return stopped

    def _partial_records(self) -> list[processes.ProcessRecord]:
        """Processes a failed ``up`` started before it could write the state file."""
        path = self.state_dir / "starting.json"
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            return []
        return [processes.ProcessRecord.from_json(p) for p in data]


# identity -> (user name, groups) for the static token file
_IDENTITIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "admin": ("admin", ("system:masters",)),
    "kube-controller-manager": ("system:kube-controller-manager", ()),
    "kube-scheduler": ("system:kube-scheduler", ()),
    "kwok": ("kwok", ("system:masters",)),
}


class _Launcher:
    """Starts components in order, recording each as soon as it exists."""

    def __init__(
        self,
        plane: ControlPlane,
        state: ClusterState,
        binaries: dict[str, Path],
        pki: Pki,
        kubeconfigs: dict[str, Path],
    ) -> None:
        self.plane = plane
        self._state = state
        self.binaries = binaries
        self.pki = pki
        self.kubeconfigs = kubeconfigs
        self.records: list[processes.ProcessRecord] = []
        self.logs = plane.state_dir / "logs"

    def state(self) -> ClusterState:
        return ClusterState(**{**self._state.__dict__, "processes": tuple(self.records)})

    def _run(self, component: str, args: Sequence[str]) -> processes.ProcessRecord:
        log = self.logs / f"{component}.log"
        try:
            record = processes.start(component, [str(self.binaries[component]), *args], log)
        except OSError as e:
            raise ComponentStartError(component, str(e), processes.log_tail(log), str(log)) from e
        self.records.append(record)
        # Written before waiting, so `down` can stop what a failed start left behind.
        (self.plane.state_dir / "starting.json").write_text(
            json.dumps([r.to_json() for r in self.records])
        )
        return record

    def etcd(self) -> None:
        port, peer = self._state.ports["etcd"], self._state.ports["etcd-peer"]
        client_url, peer_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{peer}"
        self._run(
            "etcd",
            [
                "--name=default",
                f"--data-dir={self.plane.state_dir / 'etcd'}",
                f"--listen-client-urls={client_url}",
                f"--advertise-client-urls={client_url}",
                f"--listen-peer-urls={peer_url}",
                f"--initial-advertise-peer-urls={peer_url}",
                f"--initial-cluster=default={peer_url}",
                "--unsafe-no-fsync",
                "--log-level=warn",
            ],
        )
        health = Endpoint(client_url)
        self.plane._wait_for(
            "etcd /health",
            self._state,
            self.records,
            lambda: health.get("/health").get("health") == "true",
        )

    def apiserver(self) -> None:
        p = self._state.ports
        self._run(
            "kube-apiserver",
            [
                f"--etcd-servers=http://127.0.0.1:{p['etcd']}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--secure-port={p['kube-apiserver']}",
                f"--tls-cert-file={self.pki.serving_cert}",
                f"--tls-private-key-file={self.pki.serving_key}",
                f"--client-ca-file={self.pki.ca_cert}",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                f"--service-account-key-file={self.pki.sa_public}",
                f"--service-account-signing-key-file={self.pki.sa_private}",
                f"--token-auth-file={self.plane.state_dir / 'tokens.csv'}",
                "--authorization-mode=RBAC",
                "--endpoint-reconciler-type=none",
                "--allow-privileged=true",
                "--profiling=false",
            ],
        )
        api = self.plane._api(self._state)
        self.plane._wait_for(
            "kube-apiserver /readyz",
            self._state,
            self.records,
            lambda: api.get_text("/readyz") == "ok",
        )

    def controllers(self) -> None:
        p = self._state.ports
        serving = [
            f"--tls-cert-file={self.pki.serving_cert}",
            f"--tls-private-key-file={self.pki.serving_key}",
        ]
        for component in ("kube-controller-manager", "kube-scheduler"):
            kubeconfig = self.kubeconfigs[component]
            args = [
                f"--kubeconfig={kubeconfig}",
                f"--authentication-kubeconfig={kubeconfig}",
                f"--authorization-kubeconfig={kubeconfig}",
                "--bind-address=127.0.0.1",
                f"--secure-port={p[component]}",
                "--leader-elect=false",
                *serving,
            ]
            if component == "kube-controller-manager":
                args += [
                    f"--service-account-private-key-file={self.pki.sa_private}",
                    f"--root-ca-file={self.pki.ca_cert}",
                    "--use-service-account-credentials=true",
                    # kwok renews the fake node's status less often than the default
                    # grace period; without these the node lifecycle controller marks
                    # every pod NotReady after ~40 s and kwok never marks them Ready again.
                    "--node-monitor-grace-period=24h",
                    "--node-startup-grace-period=24h",
                ]
            self._run(component, args)
        self._run(
            "kwok",
            [
                f"--kubeconfig={self.kubeconfigs['kwok']}",
                "--manage-all-nodes=true",
                "--node-ip=127.0.0.1",
            ],
        )
        for component in ("kube-controller-manager", "kube-scheduler"):
            health = Endpoint(f"https://127.0.0.1:{p[component]}", ca_file=str(self.pki.ca_cert))
            self.plane._wait_for(
                f"{component} /healthz", self._state, self.records, _healthz(health)
            )


def _healthz(endpoint: Endpoint) -> Callable[[], bool]:
    return lambda: endpoint.get_text("/healthz") == "ok"


def _fake_node() -> dict[str, Any]:
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


def _write_token_file(path: Path, tokens: dict[str, str]) -> None:
    lines = []
    for who, token in tokens.items():
        user, groups = _IDENTITIES[who]
        line = f"{token},{user},{who}-uid"
        if groups:
            line += ',"' + ",".join(groups) + '"'
        lines.append(line)
    _write_private(path, "\n".join(lines) + "\n")


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)


def _shell_quote(value: str) -> str:
    return "'" + value.replace("'", "'\"'\"'") + "'"
