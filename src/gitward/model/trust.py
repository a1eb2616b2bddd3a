"""Which commits an application trusts: ``spec.source.verify`` and the keys it names.

An app that declares ``verify`` deploys a commit only if the commit carries a valid
OpenPGP or SSH signature by one of the listed public keys (Flux's GitRepository
``spec.verify`` with ``mode: HEAD``). Before: the declaration (:mod:`gitward.spec`).
After: the source stage checks the resolved commit
(:mod:`gitward.source.signatures`, called from :mod:`gitward.reconcile.trust`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class VerifyMode(StrEnum):
    """What must be signed. Only the commit the revision resolves to, for now."""

    HEAD = "HEAD"


@dataclass(frozen=True)
class Verification:
    """``spec.source.verify``: the keys a deployed commit must be signed by.

    ``secret_name`` names a Secret in the app's destination namespace; every entry is
    read and may hold ASCII-armored OpenPGP public keys and/or SSH public keys (one per
    line, ``authorized_keys`` form). ``keys_file`` is a file on gitward's host with the
    same content. At least one of them is set; the keys of both are trusted.
    """

    mode: VerifyMode = VerifyMode.HEAD
    secret_name: str | None = None
    keys_file: str | None = None


@dataclass(frozen=True)
class TrustedKeys:
    """Public keys a commit may be signed by; ``origins`` says where each set came from
    ("Secret web/trusted-keys entry alice.asc") so a refusal names what was tried."""

    openpgp: tuple[str, ...] = ()  # ASCII-armored public key blocks
    ssh: tuple[str, ...] = ()  # "ssh-ed25519 AAAA... comment" lines
    origins: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.openpgp or self.ssh)

    def __add__(self, other: TrustedKeys) -> TrustedKeys:
        return TrustedKeys(
            self.openpgp + tuple(k for k in other.openpgp if k not in self.openpgp),
            self.ssh + tuple(k for k in other.ssh if k not in self.ssh),
            self.origins + other.origins,
        )


@dataclass(frozen=True)
class SignedCommit:
    """A commit as its signature covers it: the raw commit object without its
    ``gpgsig`` header (``payload``) and that header's value (``signature``, None when the
    commit is unsigned)."""

    sha: str
    payload: bytes
    signature: str | None
