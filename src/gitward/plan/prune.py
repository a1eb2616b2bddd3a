"""Prune: what Git no longer holds is removed, as "previous inventory minus new desired".

The inventory is what the app applied last time, so gitward never deletes an object it
did not create. Each candidate becomes a PRUNE step, or a KEEP step with the reason it
stays: the object opts out (``Prune=false``, ``IgnoreExtraneous``), or pruning is off. An
empty desired state that would prune everything is refused unless explicitly allowed,
because it is far more often a broken render or a wrong path than an intent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from gitward.model import Action, JsonObject, ResourceKey, Step
from gitward.plan import sync_annotations
from gitward.plan.errors import EmptyDesiredStateError, InvalidAnnotationError


def prune_steps(
    desired: Iterable[ResourceKey],
    previous: Iterable[ResourceKey],
    live: Mapping[ResourceKey, JsonObject],
    *,
    prune: bool,
    allow_empty: bool = False,
) -> list[Step]:
    """PRUNE or KEEP steps for live objects that were in ``previous`` but are not desired.

    Candidates with no live object are already gone and get no step.
    """
    wanted = set(desired)
    candidates = sorted({k for k in previous if k not in wanted and k in live})
    if not wanted and candidates and not allow_empty:
        raise EmptyDesiredStateError(
            f"the desired state is empty, but {len(candidates)} object(s) from the last sync "
            f"are live (first: {candidates[0]}); refusing to prune them all",
            hint="check the source path and renderer output; allow an empty sync "
            "(allowEmpty) if removing everything is really intended",
        )
    return [_step(key, live[key], prune) for key in candidates]


def _step(key: ResourceKey, obj: JsonObject, prune: bool) -> Step:
    reason = keep_reason(obj, prune)
    action = Action.KEEP if reason else Action.PRUNE
    return Step(key, action, wave=_wave(obj), live=obj, reason=reason or "not in Git any more")


def keep_reason(obj: JsonObject, prune: bool) -> str:
    """Why a prune candidate stays, or "" when it is to be pruned."""
    controller = _controller(obj)
    if controller:
        return f"controlled by {controller}, which deletes it"
    if sync_annotations.prune_protected(obj):
        return "annotated Prune=false"
    if sync_annotations.ignore_extraneous(obj):
        return "annotated IgnoreExtraneous"
    if not prune:
        return "pruning is off"
    return ""


def _controller(obj: JsonObject) -> str:
    """The owner that controls ``obj`` ("SealedSecret db"), or "".

    An object another controller made and owns (the Secret the Sealed Secrets
    controller unseals, a ReplicaSet) is that controller's to delete, even if it once
    was gitward's: its name may have been in the inventory before the controller took
    it over, and pruning it would only make the controller create it again.
    """
    meta = obj.get("metadata")
    owners = meta.get("ownerReferences") if isinstance(meta, dict) else None
    for owner in owners if isinstance(owners, list) else []:
        if isinstance(owner, dict) and owner.get("controller") is True:
            return f"{owner.get('kind')} {owner.get('name')}"
    return ""


def _wave(obj: JsonObject) -> int:
    """The live object's wave; a broken annotation on a live object must not block pruning."""
    try:
        return sync_annotations.sync_wave(obj)
    except InvalidAnnotationError:
        return 0
