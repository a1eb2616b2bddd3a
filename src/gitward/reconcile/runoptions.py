"""The engine's options for one reconcile: the app's sync policy, unless a person's
:class:`~gitward.model.syncrequest.SyncRequest` (the sync dialog, ``POST .../sync``)
says otherwise for this one run.

Used by :mod:`.step` before ``Engine.look`` and ``Engine.write`` (:mod:`.pipeline`); the
request came with the queued trigger (:mod:`.queue`). Pure: no I/O.
"""

from __future__ import annotations

from gitward.model import AppSpec
from gitward.model.history import Trigger
from gitward.model.syncrequest import SyncRequest
from gitward.reconcile.decide import Requeue
from gitward.reconcile.pipeline import SyncOptions


def look_options(spec: AppSpec, request: SyncRequest | None) -> SyncOptions:
    """Look with the force and prune a sync would use: a field taken by hand is then one
    dry-run, not a conflict followed by a forced retry; the plan is the one written."""
    request = request or SyncRequest()
    force = spec.sync_policy.automated if request.force is None else request.force
    return SyncOptions(prune=request.prune, force_conflicts=force, only=frozenset(request.only))


def write_options(
    spec: AppSpec, trigger: Trigger, request: SyncRequest | None, timeout: float
) -> SyncOptions:
    """Git is the source of truth: automated syncs, self-heal and a person's sync take
    fields back, unless the person said not to force this time."""
    request = request or SyncRequest()
    force = spec.sync_policy.automated or trigger.asks_sync
    return SyncOptions(
        prune=request.prune,
        force_conflicts=force if request.force is None else request.force,
        timeout=timeout,
        wait=False,
        only=frozenset(request.only),
    )


def narrowed(request: SyncRequest | None) -> bool:
    """A sync that may have left differences behind on purpose (some objects only, or no
    pruning): its success does not mean the app is as Git says."""
    return request is not None and (bool(request.only) or request.prune is False)


def after_narrowed(
    requeue: Requeue | None, synced: bool, request: SyncRequest | None
) -> Requeue | None:
    """After a narrowed sync, look again at once under the app's own policy, so that its
    status shows what the sync left out (OutOfSync) instead of Synced until the poll.
    A HEALTH look never syncs: an automated app takes the rest at its next poll."""
    if synced and narrowed(request):
        return Requeue(0.0, Trigger.HEALTH)
    return requeue
