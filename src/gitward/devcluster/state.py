"""What ``up`` leaves in the state directory for ``status``, ``env`` and ``down`` to find.

``state.json`` is written once every component is ready; ``starting.json`` lists each
process as soon as it exists, so that ``down`` can stop what a failed ``up`` left behind.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitward.devcluster.processes import ProcessRecord
from gitward.errors import ControlPlaneError

STATE_FILE = "state.json"
STARTING_FILE = "starting.json"


def default_state_dir() -> Path:
    """``$GITWARD_DEV_CLUSTER_DIR``, else ``$XDG_STATE_HOME/gitward/dev-cluster``."""
    if explicit := os.environ.get("GITWARD_DEV_CLUSTER_DIR"):
        return Path(explicit)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "gitward" / "dev-cluster"


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
    processes: tuple[ProcessRecord, ...] = field(default=())

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
            processes=tuple(ProcessRecord.from_json(p) for p in data["processes"]),
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


def read_state(state_dir: Path) -> ClusterState | None:
    """The recorded cluster, ``None`` when there is none, an error when unreadable."""
    path = state_dir / STATE_FILE
    try:
        return ClusterState.from_json(json.loads(path.read_text()))
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError) as e:
        raise ControlPlaneError(
            f"the state file {path} is unreadable: {e}",
            hint="stop any leftover processes and remove that directory",
        ) from e


def write_state(state_dir: Path, state: ClusterState) -> None:
    path = state_dir / STATE_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state.to_json(), indent=2) + "\n")
    tmp.replace(path)


def record_starting(state_dir: Path, records: Sequence[ProcessRecord]) -> None:
    (state_dir / STARTING_FILE).write_text(json.dumps([r.to_json() for r in records]))


def read_starting(state_dir: Path) -> list[ProcessRecord]:
    """Processes a failed ``up`` started before it could write the state file."""
    try:
        data = json.loads((state_dir / STARTING_FILE).read_text())
    except (OSError, ValueError):
        return []
    return [ProcessRecord.from_json(p) for p in data]
