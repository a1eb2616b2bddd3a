"""Read the per-object annotations that steer a sync: wave, hook, delete policy, options.

gitward's own annotations win over Argo CD's of the same meaning, which win over Helm's
hook annotations (``helm.sh/hook``), so charts and Argo CD manifests work unchanged. The
names are defined once in :mod:`gitward.model.annotations`; this module gives them meaning.
Invalid values raise :class:`InvalidAnnotationError` naming the object, because guessing a
wave or a hook phase could run things in the wrong order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gitward.model import HookDeletePolicy, Phase, ResourceKey
from gitward.model import annotations as names
from gitward.plan.errors import InvalidAnnotationError

_PHASES = {p.value.lower(): p for p in Phase}
_SKIP = "skip"

# Helm hook names → gitward phases. Install and upgrade are both "a sync" to gitward.
_HELM_PHASES = {
    "pre-install": Phase.PRE_SYNC,
    "pre-upgrade": Phase.PRE_SYNC,
    "post-install": Phase.POST_SYNC,
    "post-upgrade": Phase.POST_SYNC,
}
# Helm hooks that gitward knows but never runs during a sync: tests, delete and rollback.
_HELM_NOT_RUN = frozenset(
    {"test", "test-success", "test-failure", "pre-delete", "post-delete"}
    | {"pre-rollback", "post-rollback", "crd-install"}
)

_DELETE_POLICIES = {p.value.lower(): p for p in HookDeletePolicy} | {
    "before-hook-creation": HookDeletePolicy.BEFORE_HOOK_CREATION,
    "hook-succeeded": HookDeletePolicy.HOOK_SUCCEEDED,
    "hook-failed": HookDeletePolicy.HOOK_FAILED,
}


@dataclass(frozen=True)
class HookSpec:
    """How an object takes part in a sync when it is a hook.

    ``phases`` is empty for an object that is a hook but must not run (``Skip``, Helm
    test hooks); ``not_run_reason`` then says why.
    """

    phases: tuple[Phase, ...]
    delete_policies: tuple[HookDeletePolicy, ...]
    not_run_reason: str = ""


def annotations_of(obj: Mapping[str, Any]) -> Mapping[str, str]:
    meta = obj.get("metadata")
    found = meta.get("annotations") if isinstance(meta, Mapping) else None
    return found if isinstance(found, Mapping) else {}


def _first(obj: Mapping[str, Any], keys: tuple[str, ...]) -> tuple[str, str] | None:
    annotations = annotations_of(obj)
    for key in keys:
        if key in annotations:
            return key, str(annotations[key])
    return None


def _fail(obj: Mapping[str, Any], key: str, value: str, expected: str) -> InvalidAnnotationError:
    return InvalidAnnotationError(
        f"{ResourceKey.of(obj)}: annotation {key}={value!r} is invalid: {expected}",
        hint=f"fix the annotation {key} in Git",
    )


def _int_annotation(obj: Mapping[str, Any], key: str, value: str) -> int:
    try:
        return int(value.strip())
    except ValueError:
        raise _fail(obj, key, value, "expected an integer such as -1, 0 or 5") from None


def sync_wave(obj: Mapping[str, Any]) -> int:
    """The object's wave: gitward's or Argo CD's sync-wave, else a Helm hook's weight, else 0.

    The Helm weight counts only on Helm hooks, as Helm itself reads it only there.
    """
    found = _first(obj, names.SYNC_WAVE)
    if found is not None:
        return _int_annotation(obj, *found)
    annotations = annotations_of(obj)
    if names.HELM_HOOK in annotations and names.HELM_HOOK_WEIGHT in annotations:
        return _int_annotation(
            obj, names.HELM_HOOK_WEIGHT, str(annotations[names.HELM_HOOK_WEIGHT])
        )
    return 0


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def hook_spec(obj: Mapping[str, Any]) -> HookSpec | None:
    """The object's hook phases and delete policies, or None for an ordinary object."""
    found = _first(obj, names.HOOK)
    if found is not None:
        phases = _gitward_phases(obj, *found)
        reason = "" if phases else f"hook {found[1]!r}: not applied"
    else:
        helm = annotations_of(obj).get(names.HELM_HOOK)
        if helm is None:
            return None
        phases = _helm_phases(obj, str(helm))
        reason = "" if phases else f"Helm hook {helm!r} is not run by a sync"
    return HookSpec(phases, hook_delete_policies(obj), reason)


def _gitward_phases(obj: Mapping[str, Any], key: str, value: str) -> tuple[Phase, ...]:
    phases: list[Phase] = []
    for part in _split(value):
        if part.lower() == _SKIP:
            return ()
        if part.lower() not in _PHASES:
            allowed = ", ".join([*(p.value for p in Phase), "Skip"])
            raise _fail(obj, key, value, f"expected one or more of {allowed}")
        phases.append(_PHASES[part.lower()])
    return tuple(sorted(set(phases), key=list(Phase).index))


def _helm_phases(obj: Mapping[str, Any], value: str) -> tuple[Phase, ...]:
    phases: set[Phase] = set()
    for part in _split(value):
        if part in _HELM_PHASES:
            phases.add(_HELM_PHASES[part])
        elif part not in _HELM_NOT_RUN:
            raise _fail(obj, names.HELM_HOOK, value, "not a Helm hook name")
    return tuple(sorted(phases, key=list(Phase).index))


def hook_delete_policies(obj: Mapping[str, Any]) -> tuple[HookDeletePolicy, ...]:
    """Delete policies of a hook; BeforeHookCreation when none is given (as Argo and Helm)."""
    found = _first(obj, names.HOOK_DELETE_POLICY)
    if found is None:
        helm = annotations_of(obj).get(names.HELM_HOOK_DELETE_POLICY)
        found = None if helm is None else (names.HELM_HOOK_DELETE_POLICY, str(helm))
    if found is None:
        return (HookDeletePolicy.BEFORE_HOOK_CREATION,)
    policies: set[HookDeletePolicy] = set()
    for part in _split(found[1]):
        if part.lower() not in _DELETE_POLICIES:
            allowed = ", ".join(p.value for p in HookDeletePolicy)
            raise _fail(obj, found[0], found[1], f"expected one or more of {allowed}")
        policies.add(_DELETE_POLICIES[part.lower()])
    return tuple(sorted(policies, key=list(HookDeletePolicy).index))


def sync_options(obj: Mapping[str, Any]) -> Mapping[str, str]:
    """``"Prune=false,Replace=true"`` → ``{"Prune": "false", "Replace": "true"}``.

    gitward's annotation and Argo CD's are merged, gitward's winning per option.
    """
    return _options(obj, names.SYNC_OPTIONS)


def compare_options(obj: Mapping[str, Any]) -> Mapping[str, str]:
    """Compare options; a bare word such as ``IgnoreExtraneous`` reads as ``"true"``."""
    return _options(obj, names.COMPARE_OPTIONS)


def _options(obj: Mapping[str, Any], keys: tuple[str, ...]) -> Mapping[str, str]:
    annotations = annotations_of(obj)
    merged: dict[str, str] = {}
    for key in reversed(keys):  # lowest precedence first, so later ones overwrite
        for part in _split(str(annotations.get(key, ""))):
            option, sep, value = part.partition("=")
            merged[option.strip()] = value.strip() if sep else "true"
    return merged


def option_is(options: Mapping[str, str], name: str, value: str) -> bool:
    return options.get(name, "").lower() == value.lower()


def prune_protected(obj: Mapping[str, Any]) -> bool:
    """``Prune=false``: keep the object in the cluster when Git no longer holds it."""
    return option_is(sync_options(obj), "Prune", "false")


def delete_protected(obj: Mapping[str, Any]) -> bool:
    """``Delete=false``: keep the object when the whole application is deleted."""
    return option_is(sync_options(obj), "Delete", "false")


def ignore_extraneous(obj: Mapping[str, Any]) -> bool:
    """``IgnoreExtraneous``: the object does not make the app out of sync when not in Git."""
    return option_is(compare_options(obj), "IgnoreExtraneous", "true")
