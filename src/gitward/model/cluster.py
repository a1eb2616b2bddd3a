"""What gitward knows about each cluster it deploys to: how it answered last.

``gitward serve`` keeps one :class:`ClusterHealth` per connected cluster (see
:mod:`gitward.fleet.monitor`), from its probes and from every request its apps make;
the API and ``gitward cluster list|get`` show it. Credentials are never part of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

CONFIRMING_FAILURES = 2  # consecutive failures before an unreachable cluster is gated


class ClusterState(StrEnum):
    """Whether gitward can work with a cluster right now."""

    UNKNOWN = "Unknown"  # not contacted yet
    READY = "Ready"  # the API server answered
    UNREACHABLE = "Unreachable"  # no answer: connection refused, timeout, TLS failure
    UNAUTHORIZED = "Unauthorized"  # it answered, and refused gitward's credentials
    INVALID = "Invalid"  # its declaration cannot be used (a kubeconfig that does not load)


@dataclass(frozen=True)
class ClusterHealth:
    """The last known health of one cluster, as people see it."""

    name: str
    state: ClusterState = ClusterState.UNKNOWN
    server: str = ""  # the API server URL, without credentials
    version: str = ""  # the server's gitVersion, as last probed
    last_contact: datetime | None = None  # the last answer of any kind from the server
    last_error: str = ""  # why it is not Ready (kept after recovery until the next error)
    since: datetime | None = None  # when it entered its current state
    failures: int = 0  # consecutive failed probes or requests

    @property
    def usable(self) -> bool:
        """Whether apps should try to reach it (Unknown: yes, find out). One failed probe
        is not enough to stop them: on a loaded machine a probe can time out while the
        cluster is fine; a dead one fails the next probe too, half a second later."""
        if self.state is ClusterState.UNREACHABLE:
            return self.failures < CONFIRMING_FAILURES
        return self.state in (ClusterState.READY, ClusterState.UNKNOWN)
