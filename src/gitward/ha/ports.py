"""The I/O seams of high availability: replica Leases and the store's app owners.

``compose`` builds the real ones (``kube.leases.KubeLeases`` and
``store.ownership.Ownership``); :mod:`.replica` sees only these protocols.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from gitward.ha.lease import LeaseRecord


class Leases(Protocol):
    """The replica Leases of one namespace. Errors leave as ``KubeError`` (409: someone
    wrote the Lease since it was read)."""

    async def list(self) -> list[LeaseRecord]: ...

    async def get(self, name: str) -> LeaseRecord | None: ...

    async def write(self, body: dict[str, Any], *, create: bool) -> LeaseRecord: ...

    async def delete(self, name: str) -> None: ...

    async def aclose(self) -> None: ...


class Taken(Protocol):
    @property
    def epoch(self) -> int: ...

    @property
    def interrupted(self) -> tuple[int, ...]: ...

    @property
    def finish(self) -> bool: ...


class Owners(Protocol):
    """Apps owned in the store, and triggers queued for their owners (PostgreSQL)."""

    async def adopt(self, app: str, members: frozenset[str], expires: float) -> Taken: ...

    def hold(
        self, app: str, members: frozenset[str], expires: float
    ) -> AbstractAsyncContextManager[int]: ...

    async def release(self, keep: Collection[str] = ()) -> list[str]: ...

    async def owned(self) -> set[str]: ...

    # each (app, trigger, actor, options): options is SyncRequest.encode(), "" for none
    async def queue_triggers(self, triggers: Sequence[tuple[str, str, str, str]]) -> None: ...

    async def take_triggers(self, apps: Iterable[str]) -> list[tuple[str, str, str, str]]: ...

    async def announce(self) -> None: ...

    async def listen(self, on_notify: Callable[[str, str], None]) -> None: ...

    async def schema_problem(self) -> str: ...
