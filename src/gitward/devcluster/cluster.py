"""A real, local Kubernetes control plane on 127.0.0.1, for development and tests.

``up`` starts etcd and kube-apiserver, then (in the ``full`` profile) kube-controller-
manager, kube-scheduler and kwok with one fake Node, so Deployments really roll out and
namespaces really finish deleting. What each component runs with is data in
:mod:`components`; key material is made fresh at each start (:mod:`pki`), credentials
are in :mod:`kubeconfig`, and what ``up`` leaves behind is :mod:`state`. ``down`` stops
exactly the processes recorded there and removes the state directory.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
from collections.abc import Callable, Sequence
from pathlib import Path

from gitward.devcluster import kubeconfig, processes
from gitward.devcluster.components import (
    NODE_NAME,
    PORTS,
    PROFILES,
    Component,
    Profile,
    Wiring,
    fake_node,
    profile_components,
)
from gitward.devcluster.pki import make_pki
from gitward.devcluster.probe import Endpoint, ProbeError
from gitward.devcluster.state import (
    ClusterState,
    ClusterStatus,
    ComponentStatus,
    default_state_dir,
    read_starting,
    read_state,
    record_starting,
    write_state,
)
from gitward.errors import ComponentStartError, ControlPlaneError
from gitward.ports import Clock, Progress, SilentProgress, SystemClock
from gitward.toolchain import ALL_TOOLS, KUBERNETES_VERSION, Toolchain

__all__ = ["ClusterState", "ClusterStatus", "ControlPlane", "Profile"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
        return read_state(self.state_dir)

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
            ready = _admin(state).get_text("/readyz")
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
        wiring = self._wire()
        state = ClusterState(
            profile=profile,
            server=wiring.server,
            kubeconfig=str(wiring.kubeconfigs["admin"]),
            ca_file=str(wiring.pki.ca_cert),
            admin_token_file=str(self.state_dir / "admin-token"),
            bin_dir=str(bin_dir),
            kubernetes_version=KUBERNETES_VERSION,
            started_at=self.clock.wall(),
            ports=dict(wiring.ports),
        )
        records = self._launch(profile_components(profile), wiring, binaries)
        if profile == "full":
            api = wiring.api()
            api.post("/api/v1/nodes", fake_node())
            self._wait_for("the fake node to be Ready", records, lambda: _node_ready(api))
            self._wait_for(
                "the default ServiceAccount",
                records,
                lambda: _exists(api, "/api/v1/namespaces/default/serviceaccounts/default"),
            )
        state = ClusterState(**{**state.__dict__, "processes": tuple(records)})
        write_state(self.state_dir, state)
        return state

    def _wire(self) -> Wiring:
        """A fresh state directory: PKI, tokens, ports and kubeconfigs for every identity."""
        if self.state_dir.exists():
            shutil.rmtree(self.state_dir)
        self.state_dir.mkdir(parents=True, mode=0o700)
        pki = make_pki(self.state_dir / "pki")
        tokens = kubeconfig.new_tokens()
        kubeconfig.write_token_file(self.state_dir / "tokens.csv", tokens)
        kubeconfig.write_private(self.state_dir / "admin-token", tokens["admin"] + "\n")
        ports = {name: free_port() for name in PORTS}
        server = f"https://127.0.0.1:{ports['kube-apiserver']}"
        configs = {
            who: kubeconfig.write_kubeconfig(self.state_dir, who, server, pki.ca_cert, token)
            for who, token in tokens.items()
        }
        return Wiring(self.state_dir, ports, pki, configs, tokens["admin"])

    def _launch(
        self, components: Sequence[Component], wiring: Wiring, binaries: dict[str, Path]
    ) -> list[processes.ProcessRecord]:
        """Start ``components`` in order, recording each process as soon as it exists."""
        records: list[processes.ProcessRecord] = []
        later: list[Component] = []
        for component in components:
            records.append(self._run(component, wiring, binaries))
            # Written before waiting, so `down` can stop what a failed start left behind.
            record_starting(self.state_dir, records)
            if component.ready_before_next:
                self._wait_ready(component, wiring, records)
            else:
                later.append(component)
        for component in later:
            self._wait_ready(component, wiring, records)
        return records

    def _run(
        self, component: Component, wiring: Wiring, binaries: dict[str, Path]
    ) -> processes.ProcessRecord:
        log = self.state_dir / "logs" / f"{component.name}.log"
        argv = [str(binaries[component.name]), *component.args(wiring)]
        try:
            return processes.start(component.name, argv, log)
        except OSError as e:
            raise ComponentStartError(
                component.name, str(e), processes.log_tail(log), str(log)
            ) from e

    def _wait_ready(
        self, component: Component, wiring: Wiring, records: Sequence[processes.ProcessRecord]
    ) -> None:
        if component.ready is not None and component.ready_what is not None:
            self._wait_for(component.ready_what, records, component.ready(wiring))

    def _wait_for(
        self, what: str, records: Sequence[processes.ProcessRecord], ready: Callable[[], bool]
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
        records = list(state.processes) if state else read_starting(self.state_dir)
        for record in reversed(records):
            if processes.stop(record, self.clock):
                stopped.append(record.component)
        if self.state_dir.exists():
            shutil.rmtree(self.state_dir, ignore_errors=True)
        return stopped


def _admin(state: ClusterState) -> Endpoint:
    return Endpoint(state.server, ca_file=state.ca_file, token=state.admin_token())


def _exists(api: Endpoint, path: str) -> bool:
    try:
        api.get(path)
    except ProbeError as e:
        if e.status == 404:
            return False
        raise
    return True


def _node_ready(api: Endpoint) -> bool:
    try:
        node = api.get(f"/api/v1/nodes/{NODE_NAME}")
    except ProbeError:
        return False
    conditions = node.get("status", {}).get("conditions", [])
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _shell_quote(value: str) -> str:
    return "'" + value.replace("'", "'\"'\"'") + "'"
