"""`gitward dev-cluster` as a person uses it: up, env, status, up again, down."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from gitward.devcluster import ControlPlane
from gitward.devcluster import processes as procs
from gitward.errors import ComponentStartError
from gitward.toolchain import ALL_TOOLS, KUBERNETES_VERSION, Toolchain

pytestmark = pytest.mark.cluster


def gitward(*args: str, state_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GITWARD_DEV_CLUSTER_DIR": str(state_dir)}
    return subprocess.run(
        [sys.executable, "-m", "gitward", "dev-cluster", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


def status(state_dir: Path) -> dict[str, object]:
    result = gitward("status", "-o", "json", state_dir=state_dir)
    data = json.loads(result.stdout)
    assert isinstance(data, dict)
    return data


def test_up_env_status_idempotent_up_and_down(tmp_path: Path) -> None:
    state_dir = tmp_path / "dev"
    try:
        up = gitward("up", "--profile", "light", state_dir=state_dir)
        assert up.returncode == 0, up.stderr
        first = status(state_dir)
        assert first["ready"] is True
        components = first["components"]
        assert isinstance(components, list)
        assert [c["name"] for c in components] == ["etcd", "kube-apiserver"]

        # The env lines work in a shell: kubectl is ours and reaches our apiserver.
        shell = subprocess.run(
            [
                "bash",
                "-c",
                f'eval "$({sys.executable} -m gitward dev-cluster env)" && kubectl version -o json',
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env={**os.environ, "GITWARD_DEV_CLUSTER_DIR": str(state_dir)},
        )
        assert shell.returncode == 0, shell.stderr
        versions = json.loads(shell.stdout)
        assert versions["clientVersion"]["gitVersion"] == KUBERNETES_VERSION
        assert versions["serverVersion"]["gitVersion"] == KUBERNETES_VERSION

        again = gitward("up", "--profile", "light", state_dir=state_dir)
        assert again.returncode == 0, again.stderr
        assert "already running" in again.stderr
        assert status(state_dir)["components"] == components  # same processes

        down = gitward("down", state_dir=state_dir)
        assert down.returncode == 0, down.stderr
        for component in components:
            assert not Path(f"/proc/{component['pid']}").exists() or not _same(component)
        assert not state_dir.exists()
        after = gitward("status", state_dir=state_dir)
        assert after.returncode == 1
    finally:
        ControlPlane(state_dir).down()


def _same(component: dict[str, object]) -> bool:
    """True if the recorded PID still runs the same program (it must not)."""
    try:
        cmdline = Path(f"/proc/{component['pid']}/cmdline").read_bytes()
    except OSError:
        return False
    return b"kube-apiserver" in cmdline or b"etcd" in cmdline


class BrokenEtcd(Toolchain):
    """The real toolchain, except that etcd is a program that fails like a busy port."""

    def __init__(self, script: Path) -> None:
        super().__init__()
        self.script = script

    def ensure(self, names: Sequence[str] = ALL_TOOLS) -> dict[str, Path]:
        paths = super().ensure(names)
        paths["etcd"] = self.script
        return paths


def test_a_component_that_fails_to_start_is_named_with_its_log(tmp_path: Path) -> None:
    script = tmp_path / "etcd"
    script.write_text(
        "#!/bin/sh\necho 'listen tcp 127.0.0.1:2379: bind: address already in use'\nexit 1\n"
    )
    script.chmod(0o755)
    plane = ControlPlane(tmp_path / "dev", BrokenEtcd(script), ready_timeout=30)

    with pytest.raises(ComponentStartError) as error:
        plane.up("light")

    assert error.value.component == "etcd"
    assert "exited while waiting for etcd /health" in str(error.value)
    assert "bind: address already in use" in str(error.value)
    assert not plane.state_dir.exists()  # a failed start cleans up after itself


def test_down_without_a_cluster_stops_nothing(tmp_path: Path) -> None:
    assert ControlPlane(tmp_path / "none").down() == []


def test_stale_state_is_replaced_by_a_fresh_cluster(tmp_path: Path) -> None:
    plane = ControlPlane(tmp_path / "dev")
    try:
        first = plane.up("light")
        apiserver = next(p for p in first.processes if p.component == "kube-apiserver")
        procs.stop(apiserver, plane.clock)  # the apiserver dies behind our back

        second = plane.up("light")

        assert plane.status().ready
        assert second.server != first.server or second.processes != first.processes
        assert not any(procs.is_running(p) for p in first.processes)
    finally:
        plane.down()
