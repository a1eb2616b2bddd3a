"""The policy stage: a loaded PolicySet checks one app's rendered objects into a Verdict.

Between render and plan (DESIGN.md): every object an app renders is checked before
anything is applied, by three kinds of rule at once, each reported the same way:

* Rego modules, Conftest-style (:mod:`gitward.policy.rego`), through a RegoBackend;
* ValidatingAdmissionPolicies with their bindings, in CEL (:mod:`gitward.policy.cel`);
* the app's AppProject (:mod:`gitward.policy.project`).

Everything here is pure except the backend call, which the caller injects; the same
PolicySet gives the same verdict in ``gitward validate``, ``diff``, ``sync`` and serve.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from gitward.errors import ConfigError
from gitward.model import AppSpec, GroupKind, Resource
from gitward.model.policy import PolicyKind, PolicyMode, Verdict, Violation
from gitward.model.project import DEFAULT_PROJECT, ProjectSpec
from gitward.policy import catalog as catalogs
from gitward.policy.admission import Binding
from gitward.policy.catalog import Catalog
from gitward.policy.cel import CompiledPolicy, Request, evaluate, request_for
from gitward.policy.project import check_project
from gitward.policy.rego import RegoBackend, RegoBundle, violations


@dataclass(frozen=True)
class BoundPolicy:
    compiled: CompiledPolicy
    binding: Binding


@dataclass(frozen=True)
class PolicySet:
    """Everything loaded from ``--policy`` paths (or a policy path in Git)."""

    rego: RegoBundle | None = None
    admission: tuple[BoundPolicy, ...] = ()
    params: tuple[Resource, ...] = ()
    projects: Mapping[str, ProjectSpec] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return self.rego is None and not self.admission and not self.projects

    def with_projects(self, projects: Mapping[str, ProjectSpec]) -> PolicySet:
        """Add projects declared elsewhere (the config tree); these take precedence."""
        return replace(self, projects={**self.projects, **projects})

    def merged(self, other: PolicySet) -> PolicySet:
        modules = (self.rego.modules if self.rego else ()) + (
            other.rego.modules if other.rego else ()
        )
        return PolicySet(
            RegoBundle.of(modules) if modules else None,
            self.admission + other.admission,
            self.params + other.params,
            {**self.projects, **other.projects},
        )


class PolicyChecker:
    """Checks apps against a PolicySet; ``rego`` runs Rego (None if the set has none)."""

    def __init__(
        self,
        policies: PolicySet,
        rego: RegoBackend | None = None,
        catalog: Catalog | None = None,
    ) -> None:
        if policies.rego is not None and rego is None:
            raise ConfigError("Rego policies were given but no OPA backend is configured")
        self.policies = policies
        self.rego = rego
        self.catalog = catalog or catalogs.builtin()

    def warm(self) -> None:
        """Compile the Rego modules now (starting OPA), so that errors come before any app."""
        if self.policies.rego is not None and self.rego is not None:
            self.rego.evaluate(self.policies.rego, [])

    def close(self) -> None:
        if self.rego is not None:
            self.rego.close()

    def check(self, app: AppSpec, resources: Sequence[Resource]) -> Verdict:
        """Every violation of ``app``'s objects; a ``deny`` one means the sync is refused."""
        catalog = self.catalog.with_crds(resources)
        resources = with_namespaces(resources, catalog, app.destination.namespace or "default")
        found = [*self._rego(resources), *self._admission(app, resources, catalog)]
        found.extend(self._project(app, resources, catalog))
        return Verdict.of(found)

    def _rego(self, resources: Sequence[Resource]) -> list[Violation]:
        bundle = self.policies.rego
        if bundle is None or self.rego is None or not resources:
            return []
        results = self.rego.evaluate(bundle, [r.body for r in resources])
        return violations(bundle, resources, results)

    def _admission(
        self, app: AppSpec, resources: Sequence[Resource], catalog: Catalog
    ) -> list[Violation]:
        if not self.policies.admission:
            return []
        default_namespace = app.destination.namespace or "default"
        namespaces = {
            r.key.name: r for r in resources if r.key.group_kind == GroupKind("", "Namespace")
        }
        found: list[Violation] = []
        for resource in resources:
            request = request_for(resource, catalog, default_namespace, namespaces)
            for bound in self.policies.admission:
                if not (
                    bound.compiled.policy.match.matches(request.target)
                    and bound.binding.match.matches(request.target)
                ):
                    continue
                params = self._params(bound, request)
                if params is None:
                    found.append(_missing_params(bound, request))
                    continue
                found.extend(evaluate(bound.compiled, bound.binding, request, params))
        return found

    def _params(self, bound: BoundPolicy, request: Request) -> list[Any] | None:
        """The parameter objects for one request: [None] without paramKind, None if missing."""
        kind = bound.compiled.policy.param_kind
        ref = bound.binding.param_ref
        if kind is None or ref is None:
            return [None]
        matches = []
        for param in self.policies.params:
            if (param.api_version, param.key.kind) != kind:
                continue
            namespace = ref.namespace or (param.key.namespace and request.target.namespace)
            if namespace and param.key.namespace != namespace:
                continue
            if ref.name is not None and param.key.name != ref.name:
                continue
            if ref.selector is not None and not ref.selector.matches(param.labels):
                continue
            matches.append(param.body)
        if matches:
            return matches
        return None if ref.deny_when_missing else []

    def _project(
        self, app: AppSpec, resources: Sequence[Resource], catalog: Catalog
    ) -> list[Violation]:
        projects = self.policies.projects
        project = projects.get(app.project)
        if project is None:
            if app.project == DEFAULT_PROJECT or not projects:
                return []  # Argo CD's default project allows everything
            return [
                Violation(
                    None,
                    f"AppProject/{app.project}",
                    "spec.project",
                    f"project {app.project!r} is not declared "
                    f"(known: {', '.join(sorted(projects))})",
                    PolicyMode.DENY,
                    PolicyKind.PROJECT,
                )
            ]
        return check_project(project, app, resources, catalog.namespaced)


def with_namespaces(
    resources: Sequence[Resource], catalog: Catalog, namespace: str
) -> list[Resource]:
    """Objects as they will be applied: namespaced kinds that name no namespace get the
    app's destination namespace, so policies see what the cluster will see."""
    result = []
    for resource in resources:
        if not resource.key.namespace and catalog.namespaced(resource.key.group_kind):
            metadata = {**resource.metadata, "namespace": namespace}
            result.append(resource.with_body({**resource.body, "metadata": metadata}))
        else:
            result.append(resource)
    return result


def _missing_params(bound: BoundPolicy, request: Request) -> Violation:
    ref = bound.binding.param_ref
    wanted = ref.name if ref and ref.name else "matching the selector"
    return Violation(
        request.resource.key,
        bound.compiled.policy.name,
        "paramRef",
        f"no parameter object {wanted} was found for binding {bound.binding.name} "
        "(parameterNotFoundAction: Deny)",
        bound.binding.mode,
        PolicyKind.CEL,
        request.resource.source,
    )
