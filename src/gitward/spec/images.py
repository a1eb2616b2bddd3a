"""Parse Flux's image automation documents, unchanged, into :mod:`gitward.model.images`.

Accepted: ``ImageRepository``, ``ImagePolicy`` and ``ImageUpdateAutomation`` in
``image.toolkit.fluxcd.io/v1beta2`` or ``v1``, with Flux's field names and meaning,
beside Applications in the config location. An ``ImageUpdateAutomation``'s
``sourceRef`` names a Flux ``GitRepository`` declared there too (its ``url`` and
``ref.branch``) or, gitward's form, an ``Application`` (its ``repoURL`` and branch
``targetRevision``). A Flux field gitward does not implement is an error naming it.
Before: :mod:`gitward.spec.declarations`. After: :mod:`gitward.imageauto`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from gitward.errors import ConfigError
from gitward.model import AppSpec
from gitward.model.images import (
    DEFAULT_EXCLUSIONS,
    DigestReflection,
    ImageAutomation,
    ImagePolicy,
    ImageRepo,
    Order,
    PolicyKind,
    TagFilter,
    UpdateAutomation,
)
from gitward.spec.application import _Reader, _seconds

IMAGE_API_VERSIONS = ("image.toolkit.fluxcd.io/v1beta2", "image.toolkit.fluxcd.io/v1")
IMAGE_KINDS = ("ImageRepository", "ImagePolicy", "ImageUpdateAutomation")
_NOT_YET = {
    "proxySecretRef": "a proxy",
    "serviceAccountName": "image pull secrets of a service account",
    "accessFrom": "cross-namespace access lists",
    "policySelector": "policy selectors (every policy in the namespace is used)",
    "signingKey": "signed automation commits",
    "messageTemplateValues": "template values",
    "refspec": "push refspecs",
    "options": "push options",
}
_TAG = re.compile(r":[\w][\w.-]{0,127}$")


def is_image_document(doc: Mapping[str, Any]) -> bool:
    return doc.get("apiVersion") in IMAGE_API_VERSIONS and doc.get("kind") in IMAGE_KINDS


def parse_images(
    documents: Iterable[tuple[str, object]], apps: Mapping[str, AppSpec]
) -> ImageAutomation:
    """Every image document among ``documents``, cross-checked (references resolve)."""
    docs = [(o, d) for o, d in documents if isinstance(d, Mapping)]
    sources = {_key(d): (d, o) for o, d in docs if _is_git_repository(d)}
    repositories: dict[str, ImageRepo] = {}
    policies: dict[str, ImagePolicy] = {}
    automations: list[UpdateAutomation] = []
    for origin, doc in docs:
        if not is_image_document(doc):
            continue
        root = _Reader(doc, "", origin)
        root.get("apiVersion")
        kind = root.str_("kind")
        namespace, name, spec = _header(root, origin)
        if kind == "ImageRepository":
            repo = _repository(namespace, name, spec, origin)
            _unique(repositories, repo.ref, repo, origin)
        elif kind == "ImagePolicy":
            policy = _policy(namespace, name, spec, origin)
            _unique(policies, policy.marker, policy, origin)
        else:
            automations.append(_automation(namespace, name, spec, origin, sources, apps))
        spec.finish()
        root.finish()
    for policy in policies.values():
        if policy.repository not in repositories:
            raise ConfigError(
                f"{policy.origin}: ImagePolicy {policy.marker} names ImageRepository "
                f"{policy.repository}, which is not declared"
            )
    return ImageAutomation(repositories, policies, tuple(automations))


def _header(root: _Reader, origin: str) -> tuple[str, str, _Reader]:
    metadata = root.child("metadata") or _Reader({}, "metadata", origin)
    name = metadata.str_("name", required=True) or ""
    namespace = metadata.str_("namespace", "default") or "default"
    metadata.get("labels")
    metadata.get("annotations")
    metadata.finish()
    spec = root.child("spec")
    if spec is None:
        raise root.fail("spec", "is required")
    root.get("status")
    return namespace, name, spec


def _refuse_not_yet(r: _Reader) -> None:
    for key in r.data:
        if key in _NOT_YET and key not in r.used:
            raise r.fail(key, f"is not supported by gitward yet ({_NOT_YET[key]})")


def _repository(namespace: str, name: str, spec: _Reader, origin: str) -> ImageRepo:
    _refuse_not_yet(spec)
    image = (spec.str_("image", required=True) or "").strip()
    if "://" in image or _TAG.search(image.rsplit("/", 1)[-1]) or "@" in image:
        raise spec.fail("image", f"{image!r} must name a repository (host/path), no tag")
    provider = spec.str_("provider", "generic")
    if provider != "generic":
        raise spec.fail("provider", f"{provider!r} is not supported; use generic")
    exclusions = spec.strings("exclusionList") if spec.get("exclusionList") else None
    for key in ("timeout", "suspend"):
        spec.get(key)
    secret_name, cert_secret_name = (
        _secret_name(spec, "secretRef"),
        _secret_name(spec, "certSecretRef"),
    )
    return ImageRepo(
        namespace=namespace,
        name=name,
        image=image,
        interval=_seconds(spec, "interval", 300.0),
        plain_http=spec.bool_("insecure"),
        secret_name=secret_name,
        cert_secret_name=cert_secret_name,
        exclusions=DEFAULT_EXCLUSIONS if exclusions is None else exclusions,
        origin=origin,
    )


def _secret_name(spec: _Reader, key: str) -> str | None:
    ref = spec.child(key)
    if ref is None:
        return None
    name = ref.str_("name", required=True)
    ref.finish()
    return name


def _policy(namespace: str, name: str, spec: _Reader, origin: str) -> ImagePolicy:
    ref = spec.child("imageRepositoryRef")
    if ref is None:
        raise spec.fail("imageRepositoryRef", "is required")
    repository = f"{ref.str_('namespace', namespace)}/{ref.str_('name', required=True)}"
    ref.finish()
    reflect = spec.str_("digestReflectionPolicy", "Never") or "Never"
    if reflect not in {r.value for r in DigestReflection}:
        allowed = ", ".join(r.value for r in DigestReflection)
        raise spec.fail("digestReflectionPolicy", f"{reflect!r} must be one of {allowed}")
    spec.get("interval")
    choice = spec.child("policy")
    if choice is None or len(choice.data) != 1:
        raise spec.fail("policy", "needs exactly one of semver, alphabetical, numerical")
    kind_name = next(iter(choice.data))
    if kind_name not in {k.value for k in PolicyKind}:
        raise choice.fail(kind_name, "is not a policy; use semver, alphabetical or numerical")
    body = choice.child(kind_name) or _Reader({}, f"spec.policy.{kind_name}", origin)
    kind = PolicyKind(kind_name)
    semver_range = body.str_("range", required=True) if kind is PolicyKind.SEMVER else ""
    order = Order.ASC if kind is PolicyKind.SEMVER else _order(body)
    body.finish()
    choice.finish()
    tags = spec.child("filterTags")
    tag_filter = None
    if tags is not None:
        tag_filter = TagFilter(
            tags.str_("pattern", required=True) or "", tags.str_("extract", "") or ""
        )
        tags.finish()
    return ImagePolicy(
        namespace,
        name,
        repository,
        kind,
        semver_range or "",
        order,
        tag_filter,
        origin,
        DigestReflection(reflect),
    )


def _order(body: _Reader) -> Order:
    order = body.str_("order", "asc") or "asc"
    if order not in ("asc", "desc"):
        raise body.fail("order", f"{order!r} must be asc or desc")
    return Order(order)


def _automation(  # noqa: PLR0917
    namespace: str,
    name: str,
    spec: _Reader,
    origin: str,
    sources: Mapping[tuple[str, str], tuple[Mapping[str, Any], str]],
    apps: Mapping[str, AppSpec],
) -> UpdateAutomation:
    _refuse_not_yet(spec)
    url, branch = _source(spec, namespace, sources, apps)
    git = spec.child("git") or _Reader({}, "spec.git", origin)
    checkout = git.child("checkout")
    if checkout is not None:
        ref = checkout.child("ref") or _Reader({}, "spec.git.checkout.ref", origin)
        branch = ref.str_("branch", required=True) or branch
        ref.finish()
        checkout.finish()
    commit = git.child("commit") or _Reader({}, "spec.git.commit", origin)
    _refuse_not_yet(commit)
    author = commit.child("author") or _Reader({}, "spec.git.commit.author", origin)
    push = git.child("push")
    push_branch = branch
    if push is not None:
        _refuse_not_yet(push)
        push_branch = push.str_("branch", branch) or branch
        push.finish()
    update = spec.child("update") or _Reader({}, "spec.update", origin)
    strategy = update.str_("strategy", "Setters")
    if strategy != "Setters":
        raise update.fail("strategy", f"{strategy!r} is not supported; use Setters")
    result = UpdateAutomation(
        namespace=namespace,
        name=name,
        repo_url=url,
        checkout_branch=branch,
        push_branch=push_branch,
        path=(update.str_("path", ".") or ".").removeprefix("./") or ".",
        author_name=author.str_("name", required=True) or "",
        author_email=author.str_("email", required=True) or "",
        message_template=commit.str_("messageTemplate", "") or "",
        interval=_seconds(spec, "interval", 300.0),
        suspend=spec.bool_("suspend"),
        origin=origin,
    )
    for reader in (update, author, commit, git):
        reader.finish()
    return result


def _source(
    spec: _Reader,
    namespace: str,
    sources: Mapping[tuple[str, str], tuple[Mapping[str, Any], str]],
    apps: Mapping[str, AppSpec],
) -> tuple[str, str]:
    """(repository URL, branch) of ``spec.sourceRef``."""
    ref = spec.child("sourceRef")
    if ref is None:
        raise spec.fail("sourceRef", "is required (a GitRepository or an Application)")
    kind = ref.str_("kind", "GitRepository")
    name = ref.str_("name", required=True) or ""
    ref.get("apiVersion")
    key = (ref.str_("namespace", namespace) or namespace, name)
    ref.finish()
    if kind == "Application":
        app = apps.get(name)
        if app is None:
            raise ref.fail("name", f"names Application {name!r}, which is not declared")
        revision = app.source.target_revision
        return app.source.repo_url, "main" if revision in ("", "HEAD") else revision
    if kind != "GitRepository":
        raise ref.fail("kind", f"{kind!r} must be GitRepository or Application")
    if key not in sources:
        raise ref.fail("name", f"names GitRepository {key[0]}/{name}, which is not declared")
    doc, _ = sources[key]
    git_spec = doc.get("spec") or {}
    branch = (git_spec.get("ref") or {}).get("branch") or "master"
    return str(git_spec.get("url") or ""), str(branch)


def _is_git_repository(doc: Mapping[str, Any]) -> bool:
    version = str(doc.get("apiVersion") or "")
    return doc.get("kind") == "GitRepository" and version.startswith("source.toolkit.fluxcd.io/")


def _key(doc: Mapping[str, Any]) -> tuple[str, str]:
    metadata = doc.get("metadata") or {}
    return str(metadata.get("namespace") or "default"), str(metadata.get("name") or "")


def _unique(table: dict[str, Any], key: str, value: Any, origin: str) -> None:
    if key in table:
        raise ConfigError(f"{origin}: {key} is declared twice (also in {table[key].origin})")
    table[key] = value
