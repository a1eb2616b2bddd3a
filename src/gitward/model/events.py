"""What the controller tells the outside world about an app: one value per event.

The controller emits a :class:`SyncEvent` when a sync starts and ends and when it finds
drift it does not correct; :mod:`gitward.notify` turns events into commit statuses,
signed webhooks and chat messages. Stdlib only, like the rest of the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class EventKind(StrEnum):
    STARTED = "started"  # a sync began: the commit status is "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    DEGRADED = "degraded"  # applied, but the app's health is Degraded
    DRIFT = "drift"  # the cluster differs from Git and the app does not self-heal


@dataclass(frozen=True)
class SyncEvent:
    app: str
    kind: EventKind
    repo_url: str
    sha: str  # the commit the event is about; "" when unknown
    message: str = ""
    health: str = ""
    sync_id: int | None = None  # the sync record in the store, when there is one
    at: float = 0.0  # wall-clock seconds since the epoch
