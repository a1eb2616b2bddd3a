"""Reading a Kubernetes Secret that a declaration names: its entries as text, on demand.

Four features read a Secret named by a user's document: a source's credentials
(:mod:`gitward.reconcile.source_secrets`), SOPS keys (:mod:`gitward.reconcile.decryption`),
trusted signing keys (:mod:`gitward.reconcile.trust`) and an ImageRepository's registry
credentials (:mod:`gitward.imageauto.credentials`). Each says what the Secret is for;
this module says the rest the same way everywhere: which Secret does not exist, which
entry is not text. An entry is decoded only when asked for, so an unrelated binary
entry in the same Secret is no error. Values stay in memory and out of every message.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from gitward.errors import ConfigError
from gitward.model import ResourceKey
from gitward.ports import Cluster


@dataclass(frozen=True)
class SecretData:
    """A Secret's entries, base64 as the API returns them; ``where`` names it in errors
    (for example ``"web: Secret team/git"``)."""

    where: str
    raw: dict[str, Any] = field(repr=False)

    def __contains__(self, key: object) -> bool:
        return key in self.raw

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self.raw))

    def text(self, key: str) -> str:
        """Entry ``key`` as text; a ConfigError naming the Secret and entry if it is not."""
        try:
            return base64.b64decode(str(self.raw[key]), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError) as e:
            raise ConfigError(f"{self.where} entry {key} is not text") from e


async def read_secret(
    cluster: Cluster,
    namespace: str,
    name: str,
    *,
    owner: str,
    role: str,
    field_name: str,
    hint: str,
) -> SecretData:
    """Secret ``namespace/name``, named by ``owner`` (``"web"``, ``"ImageRepository
    team/web"``) in ``field_name`` for a ``role`` (``"credentials"``); ``hint`` says
    how to create it when it does not exist."""
    body = await cluster.get(ResourceKey("", "Secret", namespace, name))
    if body is None:
        raise ConfigError(
            f"{owner}: the {role} Secret {namespace}/{name} ({field_name}) does not exist",
            hint=hint,
        )
    data = body.get("data") or {}
    where = f"{owner}: Secret {namespace}/{name}"
    return SecretData(where, data if isinstance(data, dict) else {})
