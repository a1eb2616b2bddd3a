"""SOPS keys: age identity files, and the file's data key unwrapped with them.

A SOPS file carries its 32-byte data key once per recipient (for age: an armored age
file). :func:`data_key` tries the entries for the given identities' public keys first,
then the rest; when none opens, the error names every recipient of the file and the
public keys that were tried, never a private key. Used by :mod:`gitward.render.sops`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import pyrage

from gitward.errors import ConfigError, DecryptionError
from gitward.model import DecryptionKeys


def parse_identities(text: str, origin: str) -> DecryptionKeys:
    """The age identities of a file as ``age-keygen`` writes it (``#`` lines are comments).

    Errors name the line number only: a line of this file may be a private key.
    """
    found: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if not stripped.startswith("AGE-SECRET-KEY-1"):
            raise ConfigError(
                f"{origin}: line {number} is not an age identity (AGE-SECRET-KEY-1...)",
                hint="give an identity file as age-keygen writes it; SSH and plugin "
                "identities are not supported",
            )
        try:
            pyrage.x25519.Identity.from_str(stripped)
        except pyrage.IdentityError as e:
            raise ConfigError(f"{origin}: line {number} is not a valid age identity") from e
        found.append(stripped)
    if not found:
        raise ConfigError(f"{origin}: holds no age identity (AGE-SECRET-KEY-1...)")
    return DecryptionKeys(tuple(found), (origin,))


@dataclass(frozen=True)
class _Keyring:
    identities: tuple[pyrage.x25519.Identity, ...]
    recipients: frozenset[str]  # the public keys of ``identities``


@functools.lru_cache(maxsize=32)
def _keyring(keys: DecryptionKeys) -> _Keyring:
    identities = tuple(pyrage.x25519.Identity.from_str(k) for k in keys.age)
    return _Keyring(identities, frozenset(str(i.to_public()) for i in identities))


def _recipients(metadata: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """age entries (recipient, enc) and descriptions of the other keys, all groups."""
    groups = metadata.get("key_groups")
    if isinstance(groups, list) and len(groups) > 1:
        raise DecryptionError(
            "the file uses Shamir secret sharing over several key groups, which gitward "
            "does not support",
            hint="encrypt it for one group of age recipients",
        )
    sources = [metadata, *(g for g in (groups or []) if isinstance(g, dict))]
    age: list[dict[str, Any]] = []
    other: list[str] = []
    for source in sources:
        age += [e for e in source.get("age") or [] if isinstance(e, dict)]
        for name, field in (("pgp", "fp"), ("kms", "arn"), ("gcp_kms", "resource_id")):
            other += [
                f"{name} {e.get(field)}" for e in source.get(name) or [] if isinstance(e, dict)
            ]
        for name in ("azure_kv", "hc_vault", "hckms"):
            other += [name] * len(source.get(name) or [])
    return age, other


def data_key(metadata: dict[str, Any], keys: DecryptionKeys) -> bytes:
    age, other = _recipients(metadata)
    recipients = [str(e.get("recipient", "")) for e in age]
    ring = _keyring(keys) if keys else _Keyring((), frozenset())
    # Entries for one of our public keys first; then the rest (a recipient string may be
    # written differently, age will tell).
    ordered = sorted(age, key=lambda e: str(e.get("recipient", "")) not in ring.recipients)
    if ring.identities:
        for entry in ordered:
            try:
                key = pyrage.decrypt(str(entry.get("enc", "")).encode(), list(ring.identities))
            except pyrage.DecryptError:
                continue
            if len(key) == 32:
                return key
    wanted = ", ".join(recipients + other) or "no recipients at all"
    given = (
        f"the {len(ring.identities)} key(s) from {', '.join(keys.origins)} "
        f"(public: {', '.join(sorted(ring.recipients))}) match none of them"
        if keys
        else "no decryption key was given"
    )
    raise DecryptionError(
        f"cannot decrypt this SOPS file: it is encrypted for {wanted}; {given}",
        hint="pass an age identity for one of these recipients with --decryption-key-file, "
        "or name a Secret holding it in spec.decryption.secretRef",
    )
