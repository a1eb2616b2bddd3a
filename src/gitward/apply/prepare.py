"""Make rendered objects ready to apply: bind namespaces, mark ownership, hash.

Rendering does not know the cluster; this step does. Each object's kind is looked up in
discovery (or in a CRD of the same sync, for custom resources whose CRD is not installed
yet) to learn whether it is namespaced: namespaced objects without a namespace get the
destination namespace; cluster-scoped objects lose a namespace they should not have.
Every object then gets the app label and the tracking annotation naming its app and its
own identity, so ownership can be rebuilt from the cluster alone (a hook named by the
server, with ``generateName``, also gets a label shared by all its runs, so the previous
run can be found and deleted), and the annotation
``gitward.dev/desired-hash`` with a hash of the final body: when the live object still
carries the same hash and nobody took a field from gitward since (see
:mod:`gitward.apply.inventory`), the object needs no dry-run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import orjson

from gitward.errors import UnknownKindError
from gitward.model import ApiResource, GroupKind, JsonObject, Resource, ResourceKey
from gitward.model.annotations import APP_LABEL, DESIRED_HASH, HOOK_ID_LABEL, TRACKING
from gitward.ports import Cluster


@dataclass(frozen=True)
class Prepared:
    resource: Resource
    namespaced: bool
    desired_hash: str
    served: bool  # False while its CRD is part of this sync and not installed yet


def tracking_id(app: str, key: ResourceKey) -> str:
    return f"{app}:{key.group}/{key.kind}:{key.namespace}/{key.name}"


def hook_id(app: str, key: ResourceKey) -> str:
    """The label value shared by every run of a hook named by the server."""
    return hashlib.sha256(tracking_id(app, key).encode()).hexdigest()[:16]


def owned_by(app: str, live: Mapping[str, object]) -> bool:
    """True if ``live`` carries this app's tracking annotation for its own identity."""
    meta = live.get("metadata")
    annotations = meta.get("annotations") if isinstance(meta, Mapping) else None
    if not isinstance(annotations, Mapping):
        return False
    return annotations.get(TRACKING) == tracking_id(app, ResourceKey.of(live))


def body_hash(body: JsonObject) -> str:
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()[:20]


def crd_scopes(resources: Sequence[Resource]) -> dict[GroupKind, bool]:
    """Kinds defined by CRDs in this sync, and whether each is namespaced."""
    scopes: dict[GroupKind, bool] = {}
    for resource in resources:
        if resource.key.group_kind == GroupKind("apiextensions.k8s.io", "CustomResourceDefinition"):
            spec = resource.body.get("spec") or {}
            kind = (spec.get("names") or {}).get("kind")
            if kind:
                scopes[GroupKind(str(spec.get("group", "")), str(kind))] = (
                    spec.get("scope") == "Namespaced"
                )
    return scopes


async def prepare(
    app: str, resources: Sequence[Resource], cluster: Cluster, default_namespace: str
) -> list[Prepared]:
    """Bind, mark and hash every desired object; unknown kinds name their source file."""
    pending_crds = crd_scopes(resources)
    scopes: dict[GroupKind, tuple[bool, bool]] = {}
    prepared = []
    for resource in resources:
        gk = resource.key.group_kind
        if gk not in scopes:
            scopes[gk] = await _scope(cluster, gk, pending_crds, resource)
        namespaced, served = scopes[gk]
        body = _bind(app, resource.body, namespaced, default_namespace)
        digest = body_hash(body)
        body["metadata"]["annotations"][DESIRED_HASH] = digest
        prepared.append(Prepared(resource.with_body(body), namespaced, digest, served))
    return prepared


async def _scope(
    cluster: Cluster, gk: GroupKind, pending: Mapping[GroupKind, bool], resource: Resource
) -> tuple[bool, bool]:
    try:
        api: ApiResource = await cluster.resource_for(gk.group, gk.kind)
    except UnknownKindError as e:
        if gk in pending:
            return pending[gk], False
        where = f" (from {resource.source})" if resource.source else ""
        raise UnknownKindError(
            f"the cluster serves no kind {gk}{where}",
            subject=str(resource.key),
            hint="check apiVersion and kind, or add the CRD that defines it to the app",
        ) from e
    return api.namespaced, True


def _bind(app: str, body: JsonObject, namespaced: bool, default_namespace: str) -> JsonObject:
    out: JsonObject = orjson.loads(orjson.dumps(body))  # a deep copy, several times faster
    meta = out.setdefault("metadata", {})
    if namespaced and not meta.get("namespace"):
        meta["namespace"] = default_namespace
    elif not namespaced:
        meta.pop("namespace", None)
    key = ResourceKey.of(out)
    labels = meta.setdefault("labels", {})
    labels[APP_LABEL] = app
    if key.generated:
        labels[HOOK_ID_LABEL] = hook_id(app, key)
    meta.setdefault("annotations", {})[TRACKING] = tracking_id(app, key)
    return out
