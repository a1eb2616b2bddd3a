"""What a replica is told (its settings, the controller's hooks) and what it tells back.

Values only, apart from :mod:`.replica` so that the replica's loop stays one module.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class HaSettings:
    replica_id: str
    namespace: str = "gitward-system"
    lease_duration: float = 15.0
    grace: float = 30.0  # SIGTERM: how long syncs in flight may take to finish
    shard_by: str = "app"  # "cluster": every app of one destination cluster on one replica

    @property
    def renew_every(self) -> float:
        return self.lease_duration / 3


@dataclass(frozen=True)
class Hooks:
    """What the replica tells the controller."""

    apps: Callable[[], Iterable[str]]  # every declared app
    gained: Callable[[str, bool], Awaitable[None]]  # (app, finish an interrupted sync)
    # a queued (app, trigger, actor, options): options is SyncRequest.encode(), "" for none
    triggered: Callable[[str, str, str, str], Awaitable[None]]
    shard_key: Callable[[str], str] = str  # what is hashed to pick an app's replica


@dataclass(frozen=True)
class Note:
    """One thing the controller must hear: an app taken over (``trigger`` None), or a
    trigger another replica queued for it."""

    app: str
    trigger: str | None = None
    actor: str = ""
    finish: bool = False
    options: str = ""  # a person's sync options, SyncRequest.encode()
