"""The Secret gitward runs with: created in the cluster by bootstrap, never in Git."""

from __future__ import annotations

import secrets
from typing import Protocol

from gitward.model import JsonObject, ResourceKey

NAME = "gitward-secrets"


class Objects(Protocol):
    """What bootstrap needs of a cluster client (gitward's KubeClient has it)."""

    async def get(self, key: ResourceKey) -> JsonObject | None: ...

    async def create(self, body: JsonObject, *, field_manager: str) -> JsonObject: ...


async def ensure_secret(cluster: Objects, namespace: str) -> bool:
    """Create the namespace and the Secret (webhook secret, admin token) if absent.

    Returns True when the Secret was created. An existing Secret is kept as it is, so
    running bootstrap again never rotates a token someone is using. The values are
    random (256 bits each) and are never printed: read them from the Secret.
    """
    if await cluster.get(ResourceKey("", "Namespace", "", namespace)) is None:
        body: JsonObject = {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": namespace},
        }
        await cluster.create(body, field_manager="gitward-bootstrap")
    if await cluster.get(ResourceKey("", "Secret", namespace, NAME)) is not None:
        return False
    secret: JsonObject = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": NAME, "namespace": namespace},
        "type": "Opaque",
        "stringData": {
            "webhook-secret": secrets.token_urlsafe(32),
            "admin-token": secrets.token_urlsafe(32),
        },
    }
    await cluster.create(secret, field_manager="gitward-bootstrap")
    return True
