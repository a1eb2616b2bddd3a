"""The fleet as ``gitward serve`` keeps it: the expansion of targeted apps into
instances, and the rollout state between reconciles.

Before: each config reload gives the declarations (:meth:`Fleet.expand`). During
reconciles: the step asks :meth:`Fleet.hold` once it knows the commit an instance
wants. For people: :meth:`Fleet.view` (``/api/v1/fleet``) and :meth:`Fleet.warnings`
(``/readyz``). The decisions themselves are pure (:mod:`.targets`, :mod:`.rollout`);
this class only remembers which instance was let go with which commit.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from gitward.fleet import rollout
from gitward.fleet.targets import Expansion, Placement, expand
from gitward.model import AppSpec
from gitward.model.history import AppStatus
from gitward.spec.clusters import ClusterSpec
from gitward.spec.declarations import Declarations

log = logging.getLogger("gitward.fleet")
OWNER = "Application/"


class Fleet:
    def __init__(self) -> None:
        self.expansion = Expansion()
        self.targeted: dict[str, AppSpec] = {}
        self.clusters: Mapping[str, ClusterSpec] = {}
        self.taking: dict[str, str] = {}  # instance -> the commit it was let go with
        self.held: dict[str, rollout.Verdict] = {}  # instance -> why it waits

    def expand(
        self, declarations: Declarations, apps: Mapping[str, AppSpec] | None = None
    ) -> dict[str, AppSpec]:
        """The apps for the controller (``apps``: the declared ones and those generated
        by ApplicationSets; default the declared): plain ones, and an instance per
        placement of a targeted one."""
        apps = declarations.apps if apps is None else apps
        self.clusters = declarations.clusters
        self.targeted = {n: a for n, a in apps.items() if a.targets}
        self.expansion = expand(apps, declarations.clusters)
        for instance in set(self.taking) - set(self.expansion.apps):
            self.taking.pop(instance, None)
            self.held.pop(instance, None)
        for warning in self.warnings():
            log.warning("%s", warning)
        return self.expansion.apps

    def warnings(self) -> list[str]:
        return [
            f"Application {app!r}: {problem}"
            for app, problems in sorted(self.expansion.problems.items())
            for problem in problems
        ]

    def _parent(self, spec: AppSpec) -> AppSpec | None:
        if spec.owner is None or not spec.owner.startswith(OWNER):
            return None
        return self.targeted.get(spec.owner.removeprefix(OWNER))

    def _members(self, parent: AppSpec, statuses: Mapping[str, AppStatus]) -> list[rollout.Member]:
        plan = parent.rollout
        assert plan is not None  # noqa: S101 - callers check
        return [
            rollout.Member(
                p.instance,
                rollout.stage_of(plan, self._labels(p)),
                statuses.get(p.instance) or AppStatus(app=p.instance),
            )
            for p in self.expansion.placements.get(parent.name, ())
        ]

    def _labels(self, placement: Placement) -> dict[str, str]:
        cluster = self.clusters.get(placement.cluster)
        return dict(cluster.labels) if cluster is not None else {}

    def hold(self, spec: AppSpec, sha: str, statuses: Mapping[str, AppStatus]) -> str:
        """Why instance ``spec`` must not take commit ``sha`` yet; "" when it may."""
        parent = self._parent(spec)
        if parent is None or parent.rollout is None:
            return ""
        members = self._members(parent, statuses)
        verdict = rollout.decide(parent.rollout, members, spec.name, sha, self.taking)
        if verdict.go:
            self.taking[spec.name] = sha
            self.held.pop(spec.name, None)
            return ""
        self.held[spec.name] = verdict
        return verdict.reason

    def view(self, statuses: Mapping[str, AppStatus]) -> list[dict[str, Any]]:
        """Every targeted app: its instances, problems and rollout, for the API."""
        return [self._app_view(app, statuses) for _, app in sorted(self.targeted.items())]

    def _app_view(self, app: AppSpec, statuses: Mapping[str, AppStatus]) -> dict[str, Any]:
        placements = self.expansion.placements.get(app.name, ())
        plan = app.rollout
        instances = []
        for p in placements:
            status = statuses.get(p.instance) or AppStatus(app=p.instance)
            held = self.held.get(p.instance)
            instances.append(
                {
                    "name": p.instance,
                    "cluster": p.cluster,
                    "target": app.targets[p.target].describe(p.target),
                    "stage": rollout.stage_name(plan, rollout.stage_of(plan, self._labels(p)))
                    if plan
                    else None,
                    "syncState": status.sync_state.value,
                    "health": status.health.status.value,
                    "live": status.live_sha,
                    "waiting": held.reason if held else "",
                }
            )
        return {
            "name": app.name,
            "targets": [t.describe(i) for i, t in enumerate(app.targets)],
            "instances": instances,
            "problems": list(self.expansion.problems.get(app.name, ())),
            "rollout": self._rollout_view(app, placements) if plan else None,
        }

    def _rollout_view(self, app: AppSpec, placements: tuple[Placement, ...]) -> dict[str, Any]:
        plan = app.rollout
        assert plan is not None  # noqa: S101 - callers check
        verdicts = [self.held[p.instance] for p in placements if p.instance in self.held]
        stopped = [v for v in verdicts if v.stopped]
        if stopped:
            state, reason = "Stopped", stopped[0].reason
        elif verdicts:
            state, reason = "Progressing", verdicts[0].reason
        else:
            state, reason = "Idle", ""
        return {
            "state": state,
            "reason": reason,
            "maxUnavailable": plan.max_unavailable,
            "stages": [{"name": s.name, "clusterSelector": str(s.selector)} for s in plan.stages],
        }
