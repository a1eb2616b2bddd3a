"""Fixtures for fault tests: a control plane of the test's own, and serve against it.

A fault test kills, stops or partitions components, so it never uses the session's
control plane: ``own_control_plane`` starts a light one (etcd + kube-apiserver) in the
test's tmp dir and stops it afterwards. :class:`Plane` kills and restarts components by
the PIDs recorded in its state, and keeps that state current so ``down`` always stops
what runs. ``serve_on`` starts ``gitward serve`` in-process against any kubeconfig (the
plane's, or one that points through a :class:`~tests.support.tcp_proxy.FaultyProxy`).
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from lightkube import Client

from gitward.devcluster import ClusterState, ControlPlane, processes
from gitward.devcluster.probe import Endpoint, ProbeError
from gitward.reconcile.config import ConfigLocation
from gitward.serve import ServeSettings, Service
from tests.conftest import client_for
from tests.engine.conftest import repo
from tests.serve.conftest import WEBHOOK_SECRET, Running
from tests.support.waiting import eventually_sync, stopped

__all__ = ["Plane", "ServeOn", "repo"]  # repo: a shared fixture


class Plane:
    """A control plane a test may break: kill, pause and restart its components."""

    def __init__(self, plane: ControlPlane, state: ClusterState) -> None:
        self.plane = plane
        self.state = state
        self._admin: Client | None = None

    @property
    def admin(self) -> Client:
        """A lightkube client as the cluster's admin (closed with the plane)."""
        if self._admin is None:
            self._admin = client_for(self.state)
        return self._admin

    def down(self) -> None:
        if self._admin is not None:
            self._admin.close()
        self.plane.down()

    @property
    def kubeconfig(self) -> str:
        return self.state.kubeconfig

    @property
    def api_port(self) -> int:
        return int(urlparse(self.state.server).port or 443)

    def kubeconfig_via(self, port: int, directory: Path) -> str:
        """A copy of the admin kubeconfig that reaches the API server through ``port``."""
        config = json.loads(Path(self.kubeconfig).read_text())
        config["clusters"][0]["cluster"]["server"] = f"https://127.0.0.1:{port}"
        path = directory / f"kubeconfig-via-{port}"
        path.write_text(json.dumps(config))
        return str(path)

    def record(self, component: str) -> processes.ProcessRecord:
        return next(p for p in self.state.processes if p.component == component)

    def kill(self, component: str) -> None:
        """SIGKILL, like the OOM killer: no graceful shutdown."""
        record = self.record(component)
        os.kill(record.pid, signal.SIGKILL)
        eventually_sync(
            lambda: not processes.is_running(record), what=f"{component} to exit", timeout=60
        )

    def pause(self, component: str) -> None:
        os.kill(self.record(component).pid, signal.SIGSTOP)

    def resume(self, component: str) -> None:
        os.kill(self.record(component).pid, signal.SIGCONT)

    def start(self, component: str) -> None:
        """Start ``component`` again with the same arguments, ports and data."""
        old = self.record(component)
        new = processes.start(component, old.argv, Path(old.log))
        self.state = dataclasses.replace(
            self.state,
            processes=tuple(new if p is old else p for p in self.state.processes),
        )
        path = self.plane.state_dir / "state.json"
        path.write_text(json.dumps(self.state.to_json(), indent=2) + "\n")

    def wait_ready(self, timeout: float = 180.0) -> None:
        api = Endpoint(
            self.state.server, ca_file=self.state.ca_file, token=self.state.admin_token()
        )
        eventually_sync(
            lambda: api.get_text("/readyz"),
            lambda text: text == "ok",
            what="kube-apiserver /readyz",
            timeout=timeout,
            ignoring=(ProbeError, OSError),
        )


@pytest.fixture
def own_control_plane(tmp_path: Path) -> Iterator[Plane]:
    """etcd + kube-apiserver of this test alone, in its tmp dir; stopped afterwards."""
    plane = ControlPlane(tmp_path / "control-plane", ready_timeout=180.0)
    try:
        broken = Plane(plane, plane.up("light"))
    except BaseException:
        plane.down()
        raise
    try:
        yield broken
    finally:
        broken.down()


@pytest.fixture(scope="package")
def shared_fault_plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Plane]:
    """A light control plane shared by the fault tests that break Git or the store, never
    Kubernetes (so sharing it is safe); still not the session's."""
    plane = ControlPlane(tmp_path_factory.mktemp("fault-control-plane"), ready_timeout=180.0)
    try:
        shared = Plane(plane, plane.up("light"))
    except BaseException:
        plane.down()
        raise
    try:
        yield shared
    finally:
        shared.down()


ServeOn = Callable[..., Awaitable[Running]]


@pytest.fixture
async def serve_on(tmp_path: Path) -> AsyncIterator[ServeOn]:
    """Start ``gitward serve`` in-process with the given declarations and kubeconfig."""
    started: list[Service] = []

    async def start(declarations: dict[str, str], *, kubeconfig: str, **settings: Any) -> Running:
        config = tmp_path / "config"
        config.mkdir(exist_ok=True)
        for name, text in declarations.items():
            (config / name).write_text(text)
        secret = tmp_path / "webhook-secret"
        secret.write_bytes(WEBHOOK_SECRET)
        service = Service(
            ServeSettings(
                config=ConfigLocation.parse(str(config)),
                state_dir=settings.pop("state_dir", tmp_path / "state"),
                port=0,
                kubeconfig=kubeconfig,
                webhook_secret_file=secret,
                poll_interval=settings.pop("poll_interval", 3600.0),
                cache_dir=tmp_path / "cache",
                **settings,
            )
        )
        await service.start()
        started.append(service)
        assert service.token_path is not None
        return Running(
            service,
            f"http://127.0.0.1:{service.port}",
            service.token_path.read_text().strip(),
            config,
        )

    yield start
    for service in started:
        await stopped(service)
