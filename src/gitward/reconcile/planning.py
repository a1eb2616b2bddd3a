"""The plan stage of :mod:`gitward.reconcile.pipeline`: pure, no I/O.

Before it: prepare, observe and predict (what Git wants, what is live, what the server
would store). After it: apply, which executes the plan wave by wave.
"""

from __future__ import annotations

from collections.abc import Mapping

from gitward.apply.observe import Observed
from gitward.apply.predict import Prediction
from gitward.apply.prepare import Prepared
from gitward.model import AppSpec, Plan, ResourceKey, SyncOption
from gitward.plan import PlanOptions, build_plan


def plan_for(
    app: AppSpec,
    prepared: Mapping[ResourceKey, Prepared],
    observed: Observed,
    prediction: Prediction,
    prune: bool | None,
    *,
    only: frozenset[ResourceKey] = frozenset(),
) -> Plan:
    """The plan stage, pure: :func:`gitward.plan.build_plan` with the app's sync policy.

    ``prune``: the run's choice, or ``None`` for the sync policy's. ``only``: a person
    asked to sync these objects alone; every other step (hooks too) is left out.
    """
    policy = app.sync_policy
    plan_options = PlanOptions(
        prune=policy.prune if prune is None else prune,
        allow_empty=policy.allow_empty,
        prune_last=policy.enabled(SyncOption.PRUNE_LAST),
        ignore_differences=app.ignore_differences,
        replace=policy.enabled(SyncOption.REPLACE),
    )
    plan = build_plan(
        [p.resource for p in prepared.values()],
        observed.live,
        prediction.predicted,
        observed.previous,
        plan_options,
        immutable_failures=set(prediction.immutable),
    )
    if not only:
        return plan
    return Plan(tuple(s for s in plan.steps if s.key in only), prune_last=plan.prune_last)
