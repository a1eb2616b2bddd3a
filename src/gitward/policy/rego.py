"""Rego policies, Conftest-style: the pure half (what to ask OPA, how to read its answer).

The contract (docs/policy.md): a ``.rego`` module declares a package; every rule of it
named ``deny``, ``violation`` or ``warn``, or starting with ``deny_``, ``violation_`` or
``warn_``, is a set of messages (strings, or objects with a ``msg``), evaluated once per
rendered object with that object as ``input``. ``deny``/``violation`` messages refuse the
sync; ``warn`` messages are recorded. The violation names the package as the policy and
the rule by its name.

Instead of one OPA query per object, gitward loads a generated module that evaluates
every package for every object with ``with input as``; one request then checks a whole
app. :mod:`gitward.policy.opa` runs OPA and sends that request.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from gitward.errors import InvalidPolicyError
from gitward.model import JsonObject, Resource
from gitward.model.policy import PolicyKind, PolicyMode, Violation

BATCH_PACKAGE = "gitward_batch"
BATCH_PATH = "gitward_batch/results"
_PACKAGE = re.compile(r"^\s*package\s+([A-Za-z_][\w.]*(?:\[\"[^\"]+\"\][\w.]*)*)", re.MULTILINE)
_RULE = re.compile(r"^(deny|violation|warn)(_\w+)?$")


@dataclass(frozen=True)
class RegoModule:
    """One ``.rego`` file: its name (for errors: a path relative to the policy root)."""

    path: str
    text: str

    @property
    def package(self) -> str:
        found = _PACKAGE.search(_without_comments(self.text))
        if found is None:
            raise InvalidPolicyError(
                "a Rego module must start with a package declaration",
                location=f"{self.path}:1",
                hint="add e.g. `package main` as the first statement",
            )
        return found.group(1)


@dataclass(frozen=True)
class RegoBundle:
    """A set of modules plus the generated batch module; ``digest`` identifies the set."""

    modules: tuple[RegoModule, ...]
    packages: tuple[str, ...]
    batch: str
    digest: str

    @classmethod
    def of(cls, modules: Sequence[RegoModule]) -> RegoBundle:
        ordered = tuple(sorted(modules, key=lambda m: m.path))
        packages = tuple(sorted({m.package for m in ordered}))
        h = hashlib.sha256()
        for module in ordered:
            h.update(f"{module.path}\0{module.text}\0".encode())
        return cls(ordered, packages, batch_module(packages), h.hexdigest()[:16])


def batch_module(packages: Sequence[str]) -> str:
    """The module that evaluates every package for every object of ``input.objects``."""
    fields = ", ".join(f'"{p}": data.{p}' for p in packages)
    return (
        f"package {BATCH_PACKAGE}\n\n"
        "results := [r |\n"
        "\tsome obj in input.objects\n"
        f"\tr := {{{fields}}} with input as obj\n"
        "]\n"
    )


class RegoBackend(Protocol):
    """Runs a bundle's batch query; implemented by :class:`gitward.policy.opa.OpaPool`."""

    def evaluate(self, bundle: RegoBundle, objects: Sequence[JsonObject]) -> list[Any]:
        """One result per object: ``{package: package document}``; InvalidPolicyError on failure."""
        ...

    def close(self) -> None:
        """Stop whatever runs the policies."""
        ...


def violations(
    bundle: RegoBundle, resources: Sequence[Resource], results: Sequence[Any]
) -> list[Violation]:
    """Read the batch answer: one violation per message of a deny/violation/warn rule."""
    if len(results) != len(resources):
        raise InvalidPolicyError(
            f"OPA answered for {len(results)} objects, {len(resources)} were asked about"
        )
    found: list[Violation] = []
    for resource, result in zip(resources, results, strict=True):
        if not isinstance(result, Mapping):
            continue
        for package in bundle.packages:
            document = result.get(package)
            if isinstance(document, Mapping):
                found.extend(_from_package(resource, package, document))
    return found


def _from_package(resource: Resource, package: str, document: Mapping[str, Any]) -> list[Violation]:
    found = []
    for rule, value in document.items():
        match = _RULE.match(rule)
        if match is None:
            continue
        mode = PolicyMode.WARN if match.group(1) == "warn" else PolicyMode.DENY
        messages = value if isinstance(value, list) else [value]
        for message in messages:
            text = _message(message)
            if text is not None:
                found.append(
                    Violation(
                        resource.key, package, rule, text, mode, PolicyKind.REGO, resource.source
                    )
                )
    return found


def _message(value: object) -> str | None:
    """A rule's message: a string, or Conftest's ``{"msg": ...}``; false/empty is none."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, Mapping) and "msg" in value:
        return str(value["msg"])
    if value is False or value is None:
        return None
    return str(value) if not isinstance(value, bool) else "(no message)"


def _without_comments(text: str) -> str:
    return "\n".join(line.split("#", 1)[0] for line in text.splitlines())
