"""``spec.targets`` and ``spec.rollout`` of a gitward Application (docs/fleet.md).

```yaml
spec:
  targets:                       # a cluster takes the first target that matches it
    - name: prod                 # optional, shown in messages
      clusterSelector:           # or clusterName: eu-1
        matchLabels: {env: prod}
        matchExpressions: [{key: region, operator: In, values: [eu-west]}]
      namespace: web-prod        # over destination.namespace
      helm: {values: {replicas: 3}}
      kustomize: {dir: overlays/prod}
  rollout:
    maxUnavailable: 1
    stages:
      - {name: canary, clusterSelector: {matchLabels: {stage: canary}}}
      - {name: rest, clusterSelector: {}}
```

An app with targets has no ``destination.name``: the targets choose the clusters.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import yaml

from gitward.errors import ConfigError
from gitward.model.fleet import (
    ClusterSelector,
    LabelRequirement,
    Rollout,
    RolloutStage,
    Target,
)
from gitward.model.selectors import Operator

if TYPE_CHECKING:
    from gitward.spec.application import _Reader


def parse_targets(entries: list[_Reader]) -> tuple[Target, ...]:
    return tuple(_target(r) for r in entries)


def _target(r: _Reader) -> Target:
    name = r.str_("clusterName")
    selector_doc = r.child("clusterSelector")
    if (name is None) == (selector_doc is None):
        raise r.fail("clusterName", "or clusterSelector: give exactly one")
    helm, kustomize = r.child("helm"), r.child("kustomize")
    values = None
    if helm is not None:
        raw = helm.get("values")
        if raw is not None and not isinstance(raw, Mapping):
            raise helm.fail("values", "must be a mapping")
        values = yaml.safe_dump(dict(raw), sort_keys=True) if raw else None
        helm.finish()
    directory = kustomize.str_("dir", required=True) if kustomize is not None else None
    if kustomize is not None:
        kustomize.finish()
    if directory is not None and (directory.startswith("/") or ".." in directory.split("/")):
        raise r.fail("kustomize.dir", f"{directory!r} must be a relative path inside the app")
    target = Target(
        name=r.str_("name", "") or "",
        cluster_name=name,
        selector=_selector(selector_doc) if selector_doc is not None else None,
        namespace=r.str_("namespace"),
        helm_values=values,
        kustomize_dir=directory,
    )
    r.finish()
    return target


def _selector(r: _Reader) -> ClusterSelector:
    labels = r.get("matchLabels") or {}
    if not isinstance(labels, Mapping):
        raise r.fail("matchLabels", "must be a mapping of label to value")
    expressions = tuple(_requirement(e) for e in r.items("matchExpressions"))
    r.finish()
    return ClusterSelector(tuple(sorted((str(k), str(v)) for k, v in labels.items())), expressions)


def _requirement(r: _Reader) -> LabelRequirement:
    key = r.str_("key", required=True) or ""
    raw = r.str_("operator", required=True) or ""
    try:
        operator = Operator(raw)
    except ValueError:
        known = ", ".join(o.value for o in Operator)
        raise r.fail("operator", f"{raw!r} is not one of {known}") from None
    values = r.strings("values")
    if operator in (Operator.IN, Operator.NOT_IN) and not values:
        raise r.fail("values", f"must list at least one value for {operator.value}")
    if operator in (Operator.EXISTS, Operator.DOES_NOT_EXIST) and values:
        raise r.fail("values", f"must be empty for {operator.value}")
    r.finish()
    return LabelRequirement(key, operator, values)


def parse_rollout(r: _Reader | None) -> Rollout | None:
    if r is None:
        return None
    stages: list[RolloutStage] = []
    for entry in r.items("stages"):
        name = entry.str_("name", required=True) or ""
        selector = entry.child("clusterSelector")
        if selector is None:
            raise entry.fail("clusterSelector", "is required ({} selects every cluster)")
        stages.append(RolloutStage(name, _selector(selector)))
        entry.finish()
    if not stages:
        raise r.fail("stages", "must list at least one stage")
    names = [s.name for s in stages]
    if len(set(names)) != len(names):
        raise r.fail("stages", f"names must differ: {', '.join(names)}")
    limit = r.get("maxUnavailable")
    if limit is None:
        limit = 1
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise r.fail("maxUnavailable", "must be a whole number of clusters, at least 1")
    r.finish()
    return Rollout(tuple(stages), limit)


def check_targets(origin: str, app: str, destination: str | None, targets: object) -> None:
    if targets and destination:
        raise ConfigError(
            f"{origin}: Application {app!r} sets both spec.targets and destination.name",
            hint="targets choose the clusters; remove destination.name",
        )
