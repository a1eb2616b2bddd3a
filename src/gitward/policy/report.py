"""The result of ``gitward validate`` as data, and its machine formats: JSON, JUnit, SARIF.

CI systems read JUnit XML (test reports) and SARIF (code annotations on the changed
lines: each violation points at the file and line its object was rendered from). The
table is drawn by the CLI from the same :class:`ValidationReport`. Pure.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from gitward import __version__
from gitward.model.policy import PolicyMode, Violation


@dataclass(frozen=True)
class AppReport:
    """One app: how many objects it rendered, what they break, or why it did not render."""

    app: str
    path: str
    objects: int = 0
    violations: tuple[Violation, ...] = ()
    error: str | None = None  # the render error, when the app did not render

    @property
    def failed(self) -> bool:
        return self.error is not None or any(v.mode is PolicyMode.DENY for v in self.violations)


@dataclass(frozen=True)
class ValidationReport:
    repo: str
    revision: str  # the commit SHA that was validated
    apps: tuple[AppReport, ...]

    @property
    def failed(self) -> bool:
        return any(a.failed for a in self.apps)

    def counts(self) -> dict[str, int]:
        violations = [v for a in self.apps for v in a.violations]
        return {
            "apps": len(self.apps),
            "objects": sum(a.objects for a in self.apps),
            "denied": sum(v.mode is PolicyMode.DENY for v in violations),
            "warnings": sum(v.mode is PolicyMode.WARN for v in violations),
            "renderErrors": sum(a.error is not None for a in self.apps),
        }


def violation_data(v: Violation) -> dict[str, Any]:
    return dict(v.to_data())


def to_json(report: ValidationReport) -> dict[str, Any]:
    return {
        "repo": report.repo,
        "revision": report.revision,
        "result": "failed" if report.failed else "passed",
        "counts": report.counts(),
        "apps": [
            {
                "name": a.app,
                "path": a.path,
                "objects": a.objects,
                "error": a.error,
                "violations": [violation_data(v) for v in a.violations],
            }
            for a in report.apps
        ],
    }


def to_junit(report: ValidationReport) -> str:
    """One test suite per app, one test case per object with violations (or per app)."""
    suites = ET.Element("testsuites", name="gitward validate")
    for app in report.apps:
        by_object: dict[str, list[Violation]] = {}
        for v in app.violations:
            by_object.setdefault(v.subject, []).append(v)
        suite = ET.SubElement(suites, "testsuite", name=app.app)
        cases = 0
        failures = sum(1 for vs in by_object.values() if _denied(vs)) + (app.error is not None)
        if app.error is not None:
            case = ET.SubElement(suite, "testcase", classname=app.app, name="render")
            ET.SubElement(case, "error", message=app.error).text = app.error
            cases += 1
        for subject, found in sorted(by_object.items()):
            case = ET.SubElement(suite, "testcase", classname=app.app, name=subject)
            cases += 1
            for v in found:
                tag = "failure" if v.mode is PolicyMode.DENY else "system-out"
                element = ET.SubElement(case, tag)
                if tag == "failure":
                    element.set("message", v.message)
                    element.set("type", f"{v.policy} {v.rule}")
                element.text = f"{v.mode}: {v.message} ({v.policy} {v.rule})" + (
                    f" at {v.source}" if v.source else ""
                )
        passed = max(app.objects - len(by_object), 0)
        if passed or not cases:
            ET.SubElement(suite, "testcase", classname=app.app, name=f"{passed} object(s) valid")
            cases += 1
        suite.set("tests", str(cases))
        suite.set("failures", str(failures))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode")


def _denied(violations: Iterable[Violation]) -> bool:
    return any(v.mode is PolicyMode.DENY for v in violations)


def to_sarif(report: ValidationReport) -> dict[str, Any]:
    """SARIF 2.1.0: one rule per policy rule, one result per violation, at its source."""
    rules: dict[str, dict[str, Any]] = {}
    results = []
    for app in report.apps:
        if app.error is not None:
            rules.setdefault("render", {"id": "render", "name": "render"})
            results.append(_result("render", "error", f"{app.app}: {app.error}", app.path, None))
        for v in app.violations:
            rule_id = f"{v.kind.value}/{v.policy}/{v.rule}"
            rules.setdefault(
                rule_id,
                {
                    "id": rule_id,
                    "name": v.rule,
                    "shortDescription": {"text": f"{v.policy}: {v.rule}"},
                    "properties": {"policy": v.policy, "kind": v.kind.value},
                },
            )
            level = "error" if v.mode is PolicyMode.DENY else "warning"
            path = v.source.path if v.source else app.path
            line = v.source.line if v.source else None
            results.append(_result(rule_id, level, f"{v.subject}: {v.message}", path, line))
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "gitward",
                        "version": __version__,
                        "informationUri": "https://gitward.dev",
                        "rules": list(rules.values()),
                    }
                },
                "versionControlProvenance": [
                    {"repositoryUri": report.repo, "revisionId": report.revision}
                ],
                "results": results,
            }
        ],
    }


def _result(rule: str, level: str, message: str, path: str, line: int | None) -> dict[str, Any]:
    location: dict[str, Any] = {"artifactLocation": {"uri": path.removeprefix("./") or "."}}
    if line:
        location["region"] = {"startLine": line}
    return {
        "ruleId": rule,
        "level": level,
        "message": {"text": message},
        "locations": [{"physicalLocation": location}],
    }
