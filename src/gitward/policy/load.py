"""Read policies from files: ``.rego`` modules and YAML documents, into a PolicySet.

``--policy PATH`` names a file or a folder (read recursively, in sorted order, hidden
entries and Rego tests ``*_test.rego`` skipped). YAML files may hold
ValidatingAdmissionPolicies, their bindings, Argo CD AppProjects, and the parameter
objects bindings refer to; any other document is an error naming its file, so a typo in
a kind is never silently a no-op. Policies in Git are read the same way from the
checked-out tree. Reading files is the only I/O.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from gitward.errors import InvalidPolicyError
from gitward.loading import check_size, load_all
from gitward.model import Resource, SourceLocation
from gitward.model.project import ProjectSpec
from gitward.policy.admission import (
    BINDING_KIND,
    POLICY_KIND,
    AdmissionPolicy,
    Binding,
    implicit_binding,
    is_admission,
    parse_binding,
    parse_policy,
)
from gitward.policy.cel import compile_policy, new_env
from gitward.policy.rego import RegoBundle, RegoModule
from gitward.policy.set import BoundPolicy, PolicySet
from gitward.spec.project import PROJECT_API_VERSIONS, parse_project

_YAML = (".yaml", ".yml", ".json")


def load_policies(paths: Sequence[Path], root: Path | None = None) -> PolicySet:
    """Every policy under ``paths``; names are relative to ``root`` when given."""
    modules: list[RegoModule] = []
    documents: list[tuple[str, Mapping[str, Any]]] = []
    for path in paths:
        if not path.exists():
            raise InvalidPolicyError(f"policy path {path} does not exist")
        for file in _files(path):
            name = _name(file, root or (path if path.is_dir() else path.parent))
            text = _read(file, name)
            if file.suffix == ".rego":
                modules.append(RegoModule(name, text))
            else:
                documents.extend((name, doc) for doc in _documents(text, name))
    return _build(modules, documents)


def _build(modules: list[RegoModule], documents: list[tuple[str, Mapping[str, Any]]]) -> PolicySet:
    policies: dict[str, AdmissionPolicy] = {}
    bindings: list[Binding] = []
    projects: dict[str, ProjectSpec] = {}
    others: list[tuple[str, Mapping[str, Any]]] = []
    for origin, doc in documents:
        if is_admission(doc) and doc.get("kind") == POLICY_KIND:
            policy = parse_policy(doc, origin)
            if policy.name in policies:
                raise InvalidPolicyError(f"{origin}: {POLICY_KIND} {policy.name} is declared twice")
            policies[policy.name] = policy
        elif is_admission(doc):
            bindings.append(parse_binding(doc, origin))
        elif doc.get("kind") == "AppProject" and doc.get("apiVersion") in PROJECT_API_VERSIONS:
            project = parse_project(doc, origin)
            projects[project.name] = project
        else:
            others.append((origin, doc))
    bound = _bind(policies, bindings)
    params = _params(bound, others)
    return PolicySet(
        rego=RegoBundle.of(modules) if modules else None,
        admission=bound,
        params=params,
        projects=projects,
    )


def _bind(
    policies: Mapping[str, AdmissionPolicy], bindings: list[Binding]
) -> tuple[BoundPolicy, ...]:
    env = new_env()
    compiled = {name: compile_policy(policy, env) for name, policy in policies.items()}
    bound = []
    for binding in bindings:
        if binding.policy not in compiled:
            raise InvalidPolicyError(
                f"{binding.origin}: {BINDING_KIND} {binding.name} names policy "
                f"{binding.policy!r}, which is not among the policies loaded"
            )
        policy = compiled[binding.policy]
        if policy.policy.param_kind is not None and binding.param_ref is None:
            raise InvalidPolicyError(
                f"{binding.origin}: {BINDING_KIND} {binding.name} needs a paramRef: policy "
                f"{binding.policy} declares paramKind"
            )
        bound.append(BoundPolicy(policy, binding))
    named = {b.policy for b in bindings}
    for name, policy in compiled.items():
        if name not in named:
            bound.append(BoundPolicy(policy, implicit_binding(policy.policy)))
    return tuple(bound)


def _params(
    bound: Sequence[BoundPolicy], others: list[tuple[str, Mapping[str, Any]]]
) -> tuple[Resource, ...]:
    kinds = {b.compiled.policy.param_kind for b in bound if b.compiled.policy.param_kind}
    params = []
    for origin, doc in others:
        if (str(doc.get("apiVersion", "")), str(doc.get("kind", ""))) not in kinds:
            raise InvalidPolicyError(
                f"{origin}: {doc.get('kind')} in {doc.get('apiVersion')} is not a policy document",
                hint="policy files hold .rego modules, ValidatingAdmissionPolicy(Binding), "
                "AppProject, and the parameter objects a policy's paramKind names",
            )
        params.append(Resource.of(dict(doc), SourceLocation(origin)))
    return tuple(params)


def _files(path: Path) -> Iterator[Path]:
    if path.is_file():
        yield path
        return
    for file in sorted(path.rglob("*")):
        parts = file.relative_to(path).parts
        if any(p.startswith(".") for p in parts) or not file.is_file():
            continue
        if file.name.endswith("_test.rego"):
            continue
        if file.suffix == ".rego" or file.suffix in _YAML:
            yield file


def _name(file: Path, root: Path) -> str:
    try:
        return file.relative_to(root).as_posix()
    except ValueError:
        return file.as_posix()


def _read(file: Path, name: str) -> str:
    try:
        return file.read_text()
    except (OSError, UnicodeDecodeError) as e:
        raise InvalidPolicyError(f"cannot read policy file {name}: {e}") from e


def _documents(text: str, name: str) -> Iterator[Mapping[str, Any]]:
    try:
        check_size(text, what=f"policy file {name}")
        docs = load_all(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        location = f"{name}:{mark.line + 1}" if mark is not None else name
        raise InvalidPolicyError(f"not valid YAML: {e}", location=location) from e
    for doc in docs:
        if doc is None:
            continue
        if not isinstance(doc, Mapping):
            raise InvalidPolicyError("a policy document must be a mapping", location=name)
        yield doc
