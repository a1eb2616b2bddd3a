"""Replica Leases (``coordination.k8s.io/v1``) as values, and what to do with them.

A replica's heartbeat is a Lease named ``gitward-replica-<id>`` whose holder is the
replica id. It is live while ``renewTime + leaseDurationSeconds`` lies in the future.
The replica renews it every third of the duration, so two renewals may fail before the
others see it expire. A Lease whose holder does not match its name (a person edited
it, or another process with the same id took it) makes no replica live: the named
replica must not sync, and nobody else pretends to be it.

Everything here is pure: the Lease port (:mod:`.ports`) reads and writes the objects,
:mod:`.replica` calls :func:`plan` and :func:`live_members` with the injected clock.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

PREFIX = "gitward-replica-"
LABELS = {"app.kubernetes.io/name": "gitward", "gitward.dev/role": "replica"}
SELECTOR = ",".join(f"{k}={v}" for k, v in LABELS.items())
_INVALID = re.compile(r"[^a-z0-9.-]+")
_MAX_NAME = 253


def lease_name(replica: str) -> str:
    """The Lease name for ``replica``: a DNS subdomain, unique per id.

    Ids are pod names or host names; anything else (upper case, underscores, too long)
    is folded and suffixed with a short hash so that two ids never share a Lease.
    """
    folded = _INVALID.sub("-", replica.lower()).strip("-.")
    name = PREFIX + folded
    if folded == replica and len(name) <= _MAX_NAME:
        return name
    digest = hashlib.blake2b(replica.encode(), digest_size=4).hexdigest()
    return f"{name[: _MAX_NAME - 9].rstrip('-.')}-{digest}"


@dataclass(frozen=True)
class LeaseRecord:
    """What gitward reads of a Lease. Times are Unix seconds (wall clock)."""

    name: str
    holder: str
    duration: float
    renew_time: float | None
    acquire_time: float | None = None
    transitions: int = 0
    resource_version: str = ""

    def expires_at(self) -> float | None:
        return None if self.renew_time is None else self.renew_time + self.duration

    def live(self, now: float) -> bool:
        expiry = self.expires_at()
        return bool(self.holder) and expiry is not None and expiry > now

    def names_its_holder(self) -> bool:
        return bool(self.holder) and self.name == lease_name(self.holder)


def live_members(leases: Iterable[LeaseRecord], now: float) -> frozenset[str]:
    """The replica ids whose own Lease is live at ``now``."""
    return frozenset(r.holder for r in leases if r.names_its_holder() and r.live(now))


def taken_from(leases: Iterable[LeaseRecord], me: str) -> str:
    """Why ``me`` no longer holds its own Lease as listed ("" if it does, live or not)."""
    name = lease_name(me)
    record = next((r for r in leases if r.name == name), None)
    if record is None:
        return f"Lease {name} is now held by nobody (deleted)"
    return "" if record.holder == me else f"Lease {name} is now held by {record.holder!r}"


def next_expiry(leases: Iterable[LeaseRecord], now: float) -> float | None:
    """The earliest time a live Lease expires if not renewed: when to look again."""
    times = [e for r in leases if r.live(now) and (e := r.expires_at()) is not None]
    return min(times, default=None)


class Step(StrEnum):
    CREATE = "create"  # no Lease yet
    RENEW = "renew"  # ours: write a new renewTime
    TAKE = "take"  # someone else's, expired or released: take it (a transition)
    WAIT = "wait"  # someone else holds it and it is live: we hold nothing


def plan(current: LeaseRecord | None, me: str, now: float) -> Step:
    """What replica ``me`` does with its Lease, as read at ``now``."""
    if current is None:
        return Step.CREATE
    if current.holder == me:
        return Step.RENEW
    if current.live(now):
        return Step.WAIT
    return Step.TAKE


def body(
    namespace: str,
    me: str,
    duration: float,
    now: float,
    current: LeaseRecord | None,
) -> dict[str, Any]:
    """The Lease ``me`` writes at ``now``: created, renewed or taken over.

    ``resourceVersion`` of the Lease as read makes the write conditional: if anyone
    wrote it since, the API server answers 409 and nothing changes.
    """
    step = plan(current, me, now)
    kept = current is not None and step is Step.RENEW
    acquired = current.acquire_time if kept and current and current.acquire_time else now
    transitions = (current.transitions if current else 0) + (step is Step.TAKE)
    metadata: dict[str, Any] = {
        "name": lease_name(me),
        "namespace": namespace,
        "labels": dict(LABELS),
    }
    if current is not None and current.resource_version:
        metadata["resourceVersion"] = current.resource_version
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": metadata,
        "spec": {
            "holderIdentity": me,
            "leaseDurationSeconds": max(1, round(duration)),
            "acquireTime": micro_time(acquired),
            "renewTime": micro_time(now),
            "leaseTransitions": transitions,
        },
    }


def parse(obj: dict[str, Any]) -> LeaseRecord:
    """A Lease object from the API server as a :class:`LeaseRecord`."""
    meta = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    return LeaseRecord(
        name=str(meta.get("name", "")),
        holder=str(spec.get("holderIdentity") or ""),
        duration=float(spec.get("leaseDurationSeconds") or 0),
        renew_time=parse_time(spec.get("renewTime")),
        acquire_time=parse_time(spec.get("acquireTime")),
        transitions=int(spec.get("leaseTransitions") or 0),
        resource_version=str(meta.get("resourceVersion", "")),
    )


def micro_time(at: float) -> str:
    """Kubernetes ``MicroTime``: RFC 3339 with microseconds, in UTC."""
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(value: object) -> float | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value).timestamp()
    except ValueError:
        return None  # a Lease edited by hand with a bad time: treated as never renewed
