"""The keys an application's SOPS files are decrypted with: given ones plus its Secret.

``spec.decryption.secretRef.name`` (Flux's field) names a Secret in the application's
destination namespace, read through the :class:`~gitward.ports.Cluster` port; every
entry whose name ends in ``.agekey`` is an age identity file. The destination namespace,
not gitward's own: whoever may deploy into a namespace may use its keys, and an app
cannot borrow another team's key by naming it (Flux reads the Kustomization's own
namespace for the same reason). The keys are read again at every render and kept in
memory only. Before: the app's declaration. After: :mod:`gitward.render.sops`.
"""

from __future__ import annotations

import base64
import binascii

from gitward.errors import ConfigError
from gitward.model import AppSpec, DecryptionKeys, ResourceKey
from gitward.ports import Cluster
from gitward.render.sops_keys import parse_identities

AGE_KEY_SUFFIX = ".agekey"


async def app_keys(cluster: Cluster, app: AppSpec) -> DecryptionKeys:
    """The age identities of the Secret ``app`` names, or none if it names none."""
    spec = app.decryption
    if spec is None or spec.secret_name is None:
        return DecryptionKeys()
    namespace = spec.namespace or app.destination.namespace
    if not namespace:
        raise ConfigError(
            f"{app.name}: spec.decryption.secretRef needs spec.destination.namespace",
            hint="the decryption Secret is read from the application's destination namespace",
        )
    where = f"Secret {namespace}/{spec.secret_name}"
    body = await cluster.get(ResourceKey("", "Secret", namespace, spec.secret_name))
    if body is None:
        raise ConfigError(
            f"{app.name}: the decryption {where} (spec.decryption.secretRef) does not exist",
            hint="create it with the age identity in an entry named like identity.agekey",
        )
    data = body.get("data") or {}
    keys = DecryptionKeys()
    for name in sorted(n for n in data if n.endswith(AGE_KEY_SUFFIX)):
        try:
            text = base64.b64decode(str(data[name]), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError) as e:
            raise ConfigError(f"{app.name}: {where} entry {name} is not text") from e
        keys += parse_identities(text, f"{where} entry {name}")
    if not keys:
        raise ConfigError(
            f"{app.name}: the decryption {where} has no entry ending in {AGE_KEY_SUFFIX}",
            hint="put the age identity file in an entry named like identity.agekey",
        )
    return keys
