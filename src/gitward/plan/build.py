"""Build a :class:`Plan`: the one place that strings the plan stage's steps together.

For each desired object: read its hook and wave annotations, pair it with the live
object, normalize both sides, diff them, and choose an action. Then add prune steps for
what Git dropped, and order everything (:mod:`gitward.plan.order`).

The "after" side of each comparison is the server-side-apply dry-run result
(``predicted``), which already carries the server's defaults, so defaulted fields are no
diff noise. Objects that could not be dry-run (a custom resource whose CRD this very
sync installs) compare the desired object with the live one restricted to the fields Git
sets: fields only the server or other controllers set are not a difference.

Before: :mod:`gitward.render` (desired), :mod:`gitward.kube` (live, dry-run).
After: :mod:`gitward.apply` executes the plan.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gitward.model import Action, IgnoreDifferences, JsonObject, Plan, Resource, ResourceKey, Step
from gitward.plan import normalize, order, prune, sync_annotations
from gitward.plan.diff import diff
from gitward.plan.immutable import immutable_changes


@dataclass(frozen=True)
class PlanOptions:
    """How to plan. ``replace`` allows delete-and-recreate when a field is immutable."""

    prune: bool = False
    allow_empty: bool = False
    prune_last: bool = False
    ignore_differences: tuple[IgnoreDifferences, ...] = ()
    replace: bool = False


def build_plan(
    desired: Sequence[Resource],
    live: Mapping[ResourceKey, JsonObject],
    predicted: Mapping[ResourceKey, JsonObject],
    previous: Iterable[ResourceKey],
    options: PlanOptions,
    *,
    immutable_failures: Collection[ResourceKey] = frozenset(),
) -> Plan:
    """The ordered plan that takes the cluster from ``live`` to ``desired``.

    ``immutable_failures`` names objects whose dry-run the server refused because an
    immutable field would change; they become REPLACE when ``options.replace`` is on
    (or the object says ``Replace=true``), and UPDATE with an explaining reason if not.
    """
    steps: list[Step] = []
    for resource in desired:
        steps.extend(
            _steps_for(
                resource,
                live.get(resource.key),
                predicted.get(resource.key),
                options,
                resource.key in immutable_failures,
            )
        )
    steps.extend(
        prune.prune_steps(
            (r.key for r in desired),
            previous,
            live,
            prune=options.prune,
            allow_empty=options.allow_empty,
        )
    )
    return Plan(order.order(steps), prune_last=options.prune_last)


def _steps_for(
    resource: Resource,
    live: JsonObject | None,
    predicted: JsonObject | None,
    options: PlanOptions,
    immutable_failure: bool,
) -> list[Step]:
    body = resource.body
    wave = sync_annotations.sync_wave(body)
    hook = sync_annotations.hook_spec(body)
    if hook is not None:
        if not hook.phases:
            return [
                Step(
                    resource.key,
                    Action.KEEP,
                    wave=wave,
                    desired=resource,
                    live=live,
                    reason=hook.not_run_reason,
                )
            ]
        return [
            Step(
                resource.key,
                Action.HOOK,
                phase=phase,
                wave=wave,
                desired=resource,
                live=live,
                hook_delete_policies=hook.delete_policies,
            )
            for phase in hook.phases
        ]
    if live is None:
        return [Step(resource.key, Action.CREATE, wave=wave, desired=resource)]
    return [
        _compare(
            resource, live, predicted, wave, options=options, immutable_failure=immutable_failure
        )
    ]


def _compare(
    resource: Resource,
    live: JsonObject,
    predicted: JsonObject | None,
    wave: int,
    *,
    options: PlanOptions,
    immutable_failure: bool,
) -> Step:
    key = resource.key
    if predicted is live:
        # The caller knows the live object is exactly what applying would store (it is
        # as gitward left it): nothing to compare, and no copies of it to make.
        return Step(key, Action.UNCHANGED, wave=wave, desired=resource, live=live)
    after = predicted if predicted is not None else _as_stored(resource)
    after_n, live_n = normalize.normalize_pair(key, after, live, options.ignore_differences)
    if predicted is None:
        live_n = project(live_n, after_n)
    changes = diff(live_n, after_n)
    reason = "live object is being deleted" if normalize.being_deleted(live) else ""
    if not changes:
        return Step(key, Action.UNCHANGED, wave=wave, desired=resource, live=live, reason=reason)
    action, why = _update_or_replace(resource, live, changes, options, immutable_failure)
    reason = "; ".join(r for r in (reason, why) if r)
    return Step(key, action, wave=wave, desired=resource, live=live, changes=changes, reason=reason)


def _update_or_replace(
    resource: Resource,
    live: JsonObject,
    changes: Sequence[Any],
    options: PlanOptions,
    immutable_failure: bool,
) -> tuple[Action, str]:
    sync_options = sync_annotations.sync_options(resource.body)
    if sync_annotations.option_is(sync_options, "Replace", "true"):
        return Action.REPLACE, "annotated Replace=true"
    fields = immutable_changes(resource.key.group_kind, live, changes)
    if not fields and not immutable_failure:
        return Action.UPDATE, ""
    named = ", ".join(fields) or "an immutable field"
    if options.replace:
        return Action.REPLACE, f"{named} cannot change in place"
    return Action.UPDATE, f"{named} cannot change in place: the apply will fail; enable Replace"


def _as_stored(resource: Resource) -> JsonObject:
    if normalize.is_secret(resource.key):
        return normalize.secret_as_stored(resource.body)
    return resource.body


def project(live: Any, shape: Any) -> Any:
    """``live`` restricted to the fields present in ``shape`` (the desired object).

    Maps keep only the keys ``shape`` has. Lists of maps with distinct ``name`` keys keep
    only the items ``shape`` names (a container injected by a webhook is not Git's
    business); other lists of the same length project item by item; anything else is
    compared whole.
    """
    if isinstance(live, dict) and isinstance(shape, dict):
        return {k: project(v, shape[k]) for k, v in live.items() if k in shape}
    if isinstance(live, list) and isinstance(shape, list):
        by_name = _by_name(live), _by_name(shape)
        if by_name[0] is not None and by_name[1] is not None:
            wanted = by_name[1]
            return [project(item, wanted[n]) for n, item in by_name[0].items() if n in wanted]
        if len(live) == len(shape):
            return [project(item, model) for item, model in zip(live, shape, strict=True)]
    return live


def _by_name(items: list[Any]) -> dict[str, Any] | None:
    """Items keyed by their ``name`` when every item is a map with a distinct string name."""
    named = {
        item["name"]: item
        for item in items
        if isinstance(item, dict) and isinstance(item.get("name"), str)
    }
    return named if items and len(named) == len(items) else None
