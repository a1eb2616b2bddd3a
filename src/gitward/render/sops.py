"""Decrypt SOPS files at render, natively: age (pyrage) for the data key, AES-GCM per value.

A SOPS file keeps its structure in clear and replaces values by
``ENC[AES256_GCM,data:...,iv:...,tag:...,type:...]``. The 32-byte data key is encrypted
once per recipient in the ``sops`` metadata (for age: an armored age file per
recipient). Each value is AES-256-GCM with the data key, its 32-byte IV, and the value's
path as additional data (``data:password:``, list items keep their parent's path). The
MAC is SHA-512 over every value in file order (or only the encrypted ones with
``mac_only_encrypted``), upper-case hex, itself encrypted with the ``lastmodified``
timestamp as additional data. A MAC that does not match means the file was changed after
encryption: that is an error, as in ``sops``. Which values are encrypted follows the
file's ``encrypted_regex``/``unencrypted_regex``/``encrypted_suffix``/``unencrypted_suffix``.
Comment-based rules (``encrypted_comment_regex``) need the comments, which are not kept
here; such files are refused with a message saying so. PGP and cloud KMS keys are not
supported: gitward renders offline and decrypts with age identities only.

Why native and not the ``sops`` binary: no process per file, keys never leave this
process (no key file, no environment), and no Go binary to install next to gitward.
Tested against files the pinned ``sops`` encrypts. See docs/secrets.md.

Before: :mod:`gitward.render.directory` and :mod:`gitward.render.secretfiles` find
encrypted files. After: the plaintext objects go on through :mod:`gitward.render.parse`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import re2
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from gitward.errors import DecryptionError
from gitward.model import DecryptionKeys, Resource, SourceLocation
from gitward.render.parse import objects_of
from gitward.render.sops_keys import data_key
from gitward.render.sops_stores import SopsFormat, load

# sops' own pattern, run by RE2 like Go runs it: Python's backtracking ``re`` takes
# hours on a crafted value with many ",iv:,tag:" (four greedy groups).
_ENC = re2.compile(r"^ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\]")
# sops starts the MAC with these bytes when only encrypted values are covered.
_MAC_ONLY_ENCRYPTED_INIT = bytes.fromhex(
    "8a3fd2ad54ce66527b1034f3d147be0b0b975b3bf44f72c6fdadec8176f27d69"
)
_NOT_SUPPORTED = ("encrypted_comment_regex", "unencrypted_comment_regex")


# ------------------------------------------------------------------ values and the MAC


def _go_float(value: float) -> str:
    """``strconv.FormatFloat(value, 'f', -1, 64)``."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    text = format(Decimal(repr(value)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _mac_bytes(value: Any) -> bytes:
    """``sops.ToBytes``: what a value contributes to the MAC."""
    if isinstance(value, bool):
        return b"True" if value else b"False"
    if isinstance(value, bytes):
        return value
    if isinstance(value, int):
        return str(value).encode()
    if isinstance(value, float):
        return _go_float(value).encode()
    return str(value).encode()


def _decrypt_value(text: str, key: bytes, aad: str) -> tuple[Any, bytes]:
    """A decrypted value and its bytes; errors never show the value or the ciphertext."""
    if text == "":
        return "", b""
    match = _ENC.match(text)
    if match is None:
        raise DecryptionError(f"the value at {aad!r} should be encrypted but is not")
    try:
        data, iv, tag = (base64.b64decode(part, validate=True) for part in match.groups()[:3])
        plain = AESGCM(key).decrypt(iv, data + tag, aad.encode())
    except (binascii.Error, ValueError, InvalidTag) as e:
        raise DecryptionError(
            f"the value at {aad!r} does not decrypt with the file's data key "
            "(the file was changed after it was encrypted)"
        ) from e
    kind = match.group(4)
    value = _typed(kind, plain, aad)
    return value, plain if kind in ("bytes", "time") else _mac_bytes(value)


def _typed(kind: str, plain: bytes, aad: str) -> Any:
    """The value of a decrypted ``type:`` as ``sops`` returns it (bytes and times as text)."""
    text = plain.decode(errors="replace")
    if kind in ("str", "bytes", "time"):
        return text
    if kind == "bool":
        return text.lower() in ("1", "t", "true")
    try:
        if kind == "int":
            return int(text)
        if kind == "float":
            return float(text)
    except ValueError as e:
        raise DecryptionError(f"the value at {aad!r} is not a valid {kind}") from e
    raise DecryptionError(f"the value at {aad!r} has an unknown type {kind!r}")


def _check_supported(metadata: dict[str, Any]) -> None:
    for name in _NOT_SUPPORTED:
        if metadata.get(name):
            raise DecryptionError(
                f"{name} is not supported: gitward does not read YAML comments",
                hint="encrypt with encrypted_regex or a suffix rule instead",
            )


@dataclass
class _Walk:
    """One pass over a file's documents: decrypts, and feeds the MAC in ``sops``' order."""

    key: bytes
    metadata: dict[str, Any]

    def __post_init__(self) -> None:
        self.mac_only_encrypted = str(self.metadata.get("mac_only_encrypted", "")).lower() in (
            "true",
            "1",
        )
        self.mac = hashlib.sha512()
        if self.mac_only_encrypted:
            self.mac.update(_MAC_ONLY_ENCRYPTED_INIT)
        self.rules = {name: str(self.metadata[name]) for name in _RULES if self.metadata.get(name)}
        self.patterns = {
            name: _regex(self.rules[name]) for name in _REGEX_RULES if name in self.rules
        }
        self.plaintexts: list[str] = []

    def encrypted(self, path: Sequence[str]) -> bool:
        """``Tree.shouldBeEncrypted``, rule by rule in sops' order (the last one wins)."""
        result = True
        rules = self.rules
        if "unencrypted_suffix" in rules and any(
            p.endswith(rules["unencrypted_suffix"]) for p in path
        ):
            result = False
        if "encrypted_suffix" in rules:
            result = any(p.endswith(rules["encrypted_suffix"]) for p in path)
        patterns = self.patterns
        if "unencrypted_regex" in patterns and any(
            patterns["unencrypted_regex"].search(p) for p in path
        ):
            result = False
        if "encrypted_regex" in patterns:
            result = any(patterns["encrypted_regex"].search(p) for p in path)
        return result

    def value(self, node: Any, path: list[str]) -> Any:
        if isinstance(node, dict):
            out = {}
            for name, child in node.items():
                if not isinstance(name, str):
                    raise DecryptionError(f"key {name!r} under {':'.join(path)!r} is not a string")
                out[name] = self.value(child, [*path, name])
            return out
        if isinstance(node, list):
            return [self.value(item, path) for item in node]
        if node is None:
            return None
        encrypted = self.encrypted(path)
        if encrypted:
            if not isinstance(node, str):
                raise DecryptionError(f"the value at {':'.join(path)!r} should be encrypted")
            value, raw = _decrypt_value(node, self.key, ":".join(path) + ":")
            if isinstance(value, str) and value:
                self.plaintexts.append(value)
        else:
            value, raw = node, _mac_bytes(node)
        if encrypted or not self.mac_only_encrypted:
            self.mac.update(raw)
        return _representable(value, path)

    def check_mac(self) -> None:
        stored = str(self.metadata.get("mac", ""))
        expected, _ = _decrypt_value(stored, self.key, str(self.metadata.get("lastmodified", "")))
        if str(expected) != self.mac.hexdigest().upper():
            raise DecryptionError(
                "MAC mismatch: the file was changed after it was encrypted",
                hint="re-encrypt it with sops (an edit must go through `sops edit`)",
            )


def _representable(value: Any, path: list[str]) -> Any:
    """``value``, if a Kubernetes object (JSON, int64) can hold it."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    if isinstance(value, float) and not math.isfinite(value):
        raise DecryptionError(f"the value at {':'.join(path)!r} is {value}, which JSON cannot hold")
    if isinstance(value, int) and not -(2**63) <= value < 2**63:
        raise DecryptionError(f"the integer at {':'.join(path)!r} does not fit in 64 bits")
    return value


def _regex(pattern: str) -> Any:
    """The file's rule compiled with RE2, the engine (and syntax) of Go's ``regexp`` that
    sops uses: linear time, so a hostile pattern cannot hang the render."""
    options = re2.Options()
    options.log_errors = False
    try:
        return re2.compile(pattern, options)
    except re2.error as e:
        raise DecryptionError(
            f"the file's rule {pattern!r} is not a valid regular expression"
        ) from e


_REGEX_RULES = ("unencrypted_regex", "encrypted_regex")
_RULES = ("unencrypted_suffix", "encrypted_suffix", "unencrypted_regex", "encrypted_regex")


@dataclass(frozen=True)
class Decrypted:
    """The plaintext documents of a SOPS file, and the secret strings in them.

    ``plaintexts`` lets callers scrub a tool's error output before showing it.
    """

    documents: list[Any]
    plaintexts: tuple[str, ...]


def decrypt(text: str, fmt: SopsFormat, keys: DecryptionKeys, label: str) -> Decrypted | None:
    """The decrypted documents of ``text``, or None if it is not a SOPS file.

    Raises :class:`DecryptionError` naming ``label`` (the file) when no key fits, when
    the MAC does not match, or when the file uses what gitward does not support.
    """
    loaded = load(text, fmt, label)
    if loaded is None:
        return None
    documents, metadata = loaded
    try:
        _check_supported(metadata)
        walk = _Walk(data_key(metadata, keys), metadata)
        plain = [walk.value(document, []) for document in documents]
        walk.check_mac()
    except DecryptionError as e:
        raise DecryptionError(e.message, location=label, hint=e.hint) from e
    return Decrypted(plain, tuple(walk.plaintexts))


def decrypt_manifest(text: str, path: str, keys: DecryptionKeys) -> list[Resource] | None:
    """The objects of the manifest file ``path`` if it is SOPS-encrypted, else None."""
    fmt = SopsFormat.JSON if path.lower().endswith(".json") else SopsFormat.YAML
    decrypted = decrypt(text, fmt, keys, path)
    if decrypted is None:
        return None
    return [
        Resource.of(body, SourceLocation(path, None, index))
        for index, document in enumerate(decrypted.documents)
        for body in objects_of(document, f"{path} (document {index + 1}, decrypted)")
    ]


_CIPHERTEXT_MARKERS = ("ENC[AES256_GCM,data:", "sops_mac=ENC[")


def _still_encrypted(resource: Resource) -> bool:
    body = resource.body
    metadata = body.get("sops")
    if isinstance(metadata, dict) and "mac" in metadata:
        return True
    if body.get("kind") != "Secret":
        return False
    values = [str(v) for v in (body.get("stringData") or {}).values()]
    for value in (body.get("data") or {}).values():
        try:
            values.append(base64.b64decode(str(value)).decode(errors="replace"))
        except (binascii.Error, ValueError):
            continue
    return any(marker in value for value in values for marker in _CIPHERTEXT_MARKERS)


def refuse_encrypted(resources: list[Resource]) -> list[Resource]:
    """``resources``, unless one still carries SOPS ciphertext: never apply it encrypted.

    A program's output can hold SOPS content that was never decrypted as a file: a SOPS
    manifest pulled in by a Helm chart, or a ``secretGenerator`` file kustomize reached
    through a symlinked directory. Objects with SOPS metadata and Secrets whose values
    are SOPS ciphertext are refused."""
    for resource in resources:
        if _still_encrypted(resource):
            raise DecryptionError(
                f"{resource.key} is still SOPS-encrypted after rendering",
                location=str(resource.source) if resource.source else None,
                hint="keep SOPS files as files of their own in the app's directories (not "
                "behind a symlinked directory): manifests, secretGenerator env files or files",
            )
    return resources
