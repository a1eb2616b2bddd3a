"""Decryption keys and how an Application asks for them.

Keys are private: they live in memory only, never in ``repr``, a log line or a message.
Where they came from (a file, a Secret) is kept beside them so that an error can say
which keys were tried without showing them.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class DecryptionKeys:
    """age identities (``AGE-SECRET-KEY-1...`` strings) to decrypt SOPS files with.

    ``origins`` names their sources for messages ("--decryption-key-file keys.txt").
    """

    age: tuple[str, ...] = field(default=(), repr=False)
    origins: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.age)

    def __add__(self, other: DecryptionKeys) -> DecryptionKeys:
        age = self.age + tuple(k for k in other.age if k not in self.age)
        return DecryptionKeys(age, self.origins + other.origins)


@dataclass(frozen=True)
class Decryption:
    """``spec.decryption`` of an Application, with Flux's field names.

    ``secret_name`` names a Secret in the application's destination namespace whose
    ``*.agekey`` entries are age identity files; ``namespace``, when set, is where the
    Secret is instead (a Flux Kustomization's own namespace, where Flux reads it).
    """

    provider: str = "sops"
    secret_name: str | None = None
    namespace: str | None = None
