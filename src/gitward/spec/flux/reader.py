"""Reading Flux documents field by field: every key is used, or named in an error.

:class:`FluxReader` is the declaration reader of :mod:`gitward.spec.application` with
Flux's own tables: fields of Flux's APIs that gitward reads but does not implement
(``_NOT_YET``, each with what to do instead) and fields that carry no meaning for
gitward (``_IGNORED``: status, labels, annotations). A key in neither that nobody
read is a misspelling and is refused too. Paths are written with ``[]`` for list
indexes and the kind in front, so one table serves every kind.
"""

from __future__ import annotations

import re

from gitward.errors import ConfigError
from gitward.spec.application import _Reader

_NOT_YET = {
    "GitRepository.spec.include": "including other GitRepositories",
    "GitRepository.spec.recurseSubmodules": "Git submodules",
    "GitRepository.spec.verify": "commit signature verification of Flux sources",
    "GitRepository.spec.proxySecretRef": "proxies for Git",
    "GitRepository.spec.provider": "cloud provider authentication for Git",
    "GitRepository.spec.sparseCheckout": "sparse checkouts",
    "GitRepository.spec.suspend": "suspending a source (suspend the Kustomization instead)",
    "Kustomization.spec.serviceAccountName": (
        "impersonating a service account; gitward applies with its own credentials"
    ),
    "Kustomization.spec.kubeConfig": (
        "remote clusters by kubeConfig; declare a Cluster and use an Application"
    ),
    "Kustomization.spec.components": "Kustomize components",
    "Kustomization.spec.commonMetadata": "common labels and annotations",
    "Kustomization.spec.healthCheckExprs": "CEL health expressions (use an Application)",
    "Kustomization.spec.ignoreMissingComponents": "Kustomize components",
    "Kustomization.spec.deletionPolicy": "deletion policies",
}
_HELM_ACTIONS = {
    "install.disableWait": "skipping the health wait; gitward always waits",
    "install.disableWaitForJobs": "skipping the health wait; gitward always waits",
    "install.disableHooks": "skipping Helm hooks",
    "install.disableOpenAPIValidation": "skipping validation",
    "install.disableSchemaValidation": "skipping validation",
    "install.replace": "reusing release names",
    "install.strategy": "install strategies",
    "install.remediation.ignoreTestFailures": "Helm tests",
    "install.remediation.remediateLastFailure": "rollbacks; gitward retries instead",
    "upgrade.disableWait": "skipping the health wait; gitward always waits",
    "upgrade.disableWaitForJobs": "skipping the health wait; gitward always waits",
    "upgrade.disableHooks": "skipping Helm hooks",
    "upgrade.disableOpenAPIValidation": "skipping validation",
    "upgrade.disableSchemaValidation": "skipping validation",
    "upgrade.preserveValues": "keeping values across upgrades",
    "upgrade.cleanupOnFail": "cleaning up after a failed upgrade",
    "upgrade.remediation.ignoreTestFailures": "Helm tests",
    "upgrade.remediation.remediateLastFailure": "rollbacks; gitward retries instead",
    "upgrade.remediation.strategy": "rollback or uninstall after a failure; gitward retries",
}
_NOT_YET.update({f"HelmRelease.spec.{k}": v for k, v in _HELM_ACTIONS.items()})
_NOT_YET.update(
    {
        "HelmRelease.spec.serviceAccountName": "impersonating a service account",
        "HelmRelease.spec.kubeConfig": "remote clusters by kubeConfig; declare a Cluster",
        "HelmRelease.spec.storageNamespace": "Helm release storage; gitward keeps none",
        "HelmRelease.spec.postRenderers": "post-renderers",
        "HelmRelease.spec.commonMetadata": "common labels and annotations",
        "HelmRelease.spec.rollback": "Helm rollbacks; gitward retries instead",
        "HelmRelease.spec.uninstall": "Helm uninstall options; gitward prunes",
        "HelmRelease.spec.driftDetection.ignore": "drift ignore rules (use an Application's "
        "ignoreDifferences)",
        "HelmRelease.spec.chart.metadata": "chart template metadata",
        "HelmRelease.spec.chart.spec.verify": "chart signature verification",
        "HelmRelease.spec.chart.spec.ignoreMissingValuesFiles": "missing values files",
        "HelmChart.spec.verify": "chart signature verification",
        "HelmChart.spec.ignoreMissingValuesFiles": "missing values files",
        "HelmChart.spec.suspend": "suspending a source (suspend the HelmRelease instead)",
        "HelmRepository.spec.suspend": "suspending a source (suspend the HelmRelease instead)",
        "HelmRepository.spec.accessFrom": "cross-namespace access rules",
        "OCIRepository.spec.verify": "artifact signature verification",
        "OCIRepository.spec.serviceAccountName": "image pull secrets of a service account",
        "OCIRepository.spec.proxySecretRef": "proxies for registries",
        "OCIRepository.spec.suspend": "suspending a source (suspend the Kustomization instead)",
    }
)
_IGNORED = {"status", "metadata.labels", "metadata.annotations", "metadata.finalizers"}


class FluxReader(_Reader):
    """A :class:`_Reader` whose ``finish`` names Flux's unimplemented fields."""

    def __init__(self, data: object, path: str, origin: str, kind: str) -> None:
        super().__init__(data, path, origin)
        self.kind = kind

    def child(self, key: str) -> FluxReader | None:
        value = self.get(key)
        return None if value is None else FluxReader(value, self._at(key), self.origin, self.kind)

    def items(self, key: str) -> list[FluxReader]:  # type: ignore[override]
        value = self.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(key, "must be a list")
        at = self._at(key)
        return [FluxReader(v, f"{at}[{i}]", self.origin, self.kind) for i, v in enumerate(value)]

    def fail(self, key: str, message: str) -> ConfigError:
        return ConfigError(f"{self.origin}: {self.kind} {self._at(key)} {message}")

    def finish(self) -> None:
        """Raise for the first key nobody read, saying what gitward lacks if it knows."""
        for key in self.data:
            if key in self.used:
                continue
            generic = re.sub(r"\[\d+\]", "[]", self._at(key))
            if generic in _IGNORED:
                continue
            lacking = _NOT_YET.get(f"{self.kind}.{generic}")
            if lacking and self.data[key] in (False, None, "", [], {}):
                continue  # the feature is off (as an API server's defaults write it)
            if lacking:
                raise self.fail(key, f"is not supported by gitward ({lacking})")
            raise self.fail(key, "is not a known field; check its spelling and indentation")


def root_reader(doc: object, origin: str) -> FluxReader:
    """The reader of a whole document, its kind taken from the document."""
    kind = doc.get("kind") if isinstance(doc, dict) else None
    return FluxReader(doc, "", origin, str(kind or "document"))


def duration(reader: FluxReader, key: str, *, required: bool = False) -> float | None:
    """A Go duration (``10m``, ``1h30m``, ``30s``) in seconds, validated."""
    text = reader.str_(key, required=required)
    if text is None:
        return None
    parts = re.findall(r"(\d+(?:\.\d+)?)(h|ms|m|s)", text)
    if not parts or "".join(a + u for a, u in parts) != text:
        raise reader.fail(key, f"{text!r} is not a duration like 30s, 10m or 1h30m")
    scale = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
    return sum(float(amount) * scale[unit] for amount, unit in parts)
