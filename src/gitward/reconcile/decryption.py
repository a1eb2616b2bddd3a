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

from gitward.errors import ConfigError
from gitward.model import AppSpec, DecryptionKeys
from gitward.ports import Cluster
from gitward.render.sops_keys import parse_identities
from gitward.secretdata import read_secret

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
    secret = await read_secret(
        cluster,
        namespace,
        spec.secret_name,
        owner=app.name,
        role="decryption",
        field_name="spec.decryption.secretRef",
        hint="create it with the age identity in an entry named like identity.agekey",
    )
    keys = DecryptionKeys()
    for name in (n for n in secret if n.endswith(AGE_KEY_SUFFIX)):
        keys += parse_identities(secret.text(name), f"{secret.where} entry {name}")
    if not keys:
        raise ConfigError(
            f"{secret.where} has no entry ending in {AGE_KEY_SUFFIX}",
            hint="put the age identity file in an entry named like identity.agekey",
        )
    return keys
