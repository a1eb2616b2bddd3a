"""The last step of the source stage: a commit an app would deploy must be signed by a
key it trusts (``spec.source.verify``), or nothing from it goes further.

Before: :func:`gitward.reconcile.source.resolve_revision` names the commit. After:
render. The trusted keys are the app's ``keysFile`` plus the entries of its
``secretRef`` Secret, read from the app's destination namespace through the
:class:`~gitward.ports.Cluster` port, as ``spec.decryption`` is (see
:mod:`gitward.reconcile.decryption` for why that namespace). Keys are read again at
every check, so a key removed from the Secret stops counting at once; the verdict of
``gpg`` or ``ssh-keygen`` is remembered per (commit, keys), so polling an unchanged,
verified branch runs no process. A refusal raises :class:`SignatureError` naming the
app and the commit: the controller shows it on the app and keeps the last verified
revision running, since nothing was rendered from the refused one.
"""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

from gitward.errors import ConfigError, SignatureError
from gitward.model import AppSpec, RepoCredentials, Revision, TrustedKeys
from gitward.ports import Cluster, GitSource
from gitward.secretdata import read_secret
from gitward.source.signatures import Signer, parse_public_keys, verify_commit

_REMEMBERED = 1024  # verdicts kept; a verdict is a few hundred bytes


class TrustCheck:
    """Verifies resolved commits for the apps that ask; remembers verdicts."""

    def __init__(self) -> None:
        self._verdicts: dict[tuple[str, str], Signer | SignatureError] = {}

    async def verify(
        self,
        git: GitSource,
        cluster: Cluster,
        app: AppSpec,
        revision: Revision,
        credentials: RepoCredentials | None,
    ) -> Revision:
        """``revision`` itself once verified (or when the app asks for no signature)."""
        if any(s.verify is not None and s != app.source for s in app.all_sources()):
            raise ConfigError(
                f"{app.name}: spec.sources[].verify is supported on the app's first "
                "rendering source only (the others are resolved at render time)",
                hint="move verify to that source, or split the app",
            )
        if app.source.verify is None:
            return revision
        keys = await trusted_keys(cluster, app)
        digest = hashlib.sha256("\0".join(keys.openpgp + keys.ssh).encode()).hexdigest()
        verdict = self._verdicts.get((revision.sha, digest))
        if verdict is None:
            verdict = await asyncio.to_thread(self._check, git, revision, keys, credentials)
            if len(self._verdicts) >= _REMEMBERED:
                self._verdicts.clear()
            self._verdicts[(revision.sha, digest)] = verdict
        if isinstance(verdict, SignatureError):
            raise SignatureError(verdict.sha, verdict.reason, subject=app.name)
        return revision

    @staticmethod
    def _check(
        git: GitSource, revision: Revision, keys: TrustedKeys, credentials: RepoCredentials | None
    ) -> Signer | SignatureError:
        try:
            return verify_commit(git.signed_commit(revision, credentials), keys)
        except SignatureError as e:
            return e


async def trusted_keys(cluster: Cluster, app: AppSpec) -> TrustedKeys:
    """The public keys of the app's ``keysFile`` and ``secretRef`` Secret, together."""
    spec = app.source.verify
    keys = TrustedKeys()
    if spec is None:
        return keys
    if spec.keys_file is not None:
        keys += _file_keys(app, Path(spec.keys_file))
    if spec.secret_name is not None:
        keys += await _secret_keys(cluster, app, spec.secret_name)
    return keys


def _file_keys(app: AppSpec, path: Path) -> TrustedKeys:
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(
            f"{app.name}: spec.source.verify.keysFile {path} cannot be read: {e}",
            hint="give a readable file of OpenPGP (armored) or SSH public keys",
        ) from e
    keys = parse_public_keys(text, f"keysFile {path}")
    if not keys:
        raise ConfigError(
            f"{app.name}: spec.source.verify.keysFile {path} holds no public key",
            hint="put armored OpenPGP public keys or SSH public key lines in it",
        )
    return keys


async def _secret_keys(cluster: Cluster, app: AppSpec, name: str) -> TrustedKeys:
    namespace = app.destination.namespace
    if not namespace:
        raise ConfigError(
            f"{app.name}: spec.source.verify.secretRef needs spec.destination.namespace",
            hint="the trusted keys Secret is read from the application's destination namespace",
        )
    secret = await read_secret(
        cluster,
        namespace,
        name,
        owner=app.name,
        role="trusted keys",
        field_name="spec.source.verify.secretRef",
        hint="create it with armored OpenPGP or SSH public keys as entries",
    )
    keys = TrustedKeys()
    for entry in secret:
        keys += parse_public_keys(secret.text(entry), f"{secret.where} entry {entry}")
    if not keys:
        raise ConfigError(
            f"{secret.where} holds no public key",
            hint="add entries with armored OpenPGP public keys or SSH public key lines",
        )
    return keys
