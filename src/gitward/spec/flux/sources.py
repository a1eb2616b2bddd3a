"""Flux source documents: where an app's files come from.

A ``GitRepository`` (``source.toolkit.fluxcd.io``) becomes a :class:`FluxSource`: its
URL (``https://``, ``ssh://``, ``file://``, as gitward's Git source reads any of them),
the revision gitward resolves, and its ``secretRef`` (``username``/``password`` or
``identity``/``known_hosts``), read from the GitRepository's namespace as Flux does.
Flux picks the first of ``commit``, ``name``, ``semver``, ``tag``, ``branch`` that is
set, and the ``master`` branch when ``ref`` is absent; gitward resolves the same thing:
a full SHA, a ref name, a semver range over the tags, ``refs/tags/<tag>`` or
``refs/heads/<branch>``. Sources are not apps: the
Kustomizations and HelmReleases that reference them are (:mod:`.kustomization`).
"""

from __future__ import annotations

from dataclasses import dataclass

from gitward.model import SourceSpec
from gitward.spec.flux.reader import FluxReader, duration

SOURCE_GROUP = "source.toolkit.fluxcd.io"


@dataclass(frozen=True)
class FluxSource:
    """A source document, by its namespaced name, as gitward's source fields (the apps
    that use it add a path, a chart, values)."""

    kind: str
    namespace: str
    name: str
    origin: str
    spec: SourceSpec
    ignore: str | None = None  # GitRepository spec.ignore: for generated builds

    @property
    def ref(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"


def parse_git_repository(root: FluxReader, namespace: str, name: str) -> FluxSource:
    spec = root.child("spec")
    if spec is None:
        raise root.fail("spec", "is required")
    url = spec.str_("url", required=True) or ""
    duration(spec, "interval", required=True)  # gitward polls on its own schedule
    duration(spec, "timeout")
    secret = spec.child("secretRef")
    secret_name = secret.str_("name", required=True) if secret is not None else None
    if secret is not None:
        secret.finish()
    ignore = spec.str_("ignore")  # for the Kustomizations built from it
    source = SourceSpec(
        repo_url=url,
        target_revision=_revision(spec),
        secret_ref=secret_name,
        secret_namespace=namespace if secret_name else None,
    )
    found = FluxSource("GitRepository", namespace, name, root.origin, source, ignore)
    spec.finish()
    return found


def _revision(spec: FluxReader) -> str:
    ref = spec.child("ref")
    if ref is None:
        return "refs/heads/master"  # Flux's default when no ref is given
    commit, name = ref.str_("commit"), ref.str_("name")
    semver, tag, branch = ref.str_("semver"), ref.str_("tag"), ref.str_("branch")
    ref.finish()
    if commit:
        return commit.lower()
    if name:
        return name
    if semver:
        return semver
    if tag:
        return f"refs/tags/{tag}"
    return f"refs/heads/{branch or 'master'}"
