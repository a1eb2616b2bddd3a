"""Which replica owns which app: rendezvous (highest random weight) hashing.

Every replica computes the same answer from the same inputs (the app name and the set
of live replica ids) without talking to the others. Each (app, replica) pair gets a
pseudo-random weight from a hash; the replica with the highest weight owns the app.
When a replica leaves, only the apps it owned move (each to the replica with its next
highest weight); when one joins, it takes only the apps for which it now weighs most,
about 1/N of them. No ring, no virtual nodes: N hashes per app, which is nothing for
the few replicas gitward runs.

Before: :mod:`.lease` says which replicas are live. After: :mod:`.replica` asks
:func:`owner` for every app it is about to reconcile.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping


def weight(app: str, replica: str) -> int:
    """The weight of ``replica`` for ``app``: 64 bits of BLAKE2b, stable across Pythons.

    (Python's ``hash`` is salted per process, so replicas would disagree.)
    """
    digest = hashlib.blake2b(f"{app}\0{replica}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def owner(app: str, replicas: Iterable[str]) -> str | None:
    """The replica that owns ``app`` among ``replicas``; None when there is none.

    Ties (never seen with 64 bits) go to the smaller replica id, so the answer does not
    depend on the order of ``replicas``.
    """
    best: tuple[int, str] | None = None
    for replica in replicas:
        key = (weight(app, replica), replica)
        if best is None or key[0] > best[0] or (key[0] == best[0] and replica < best[1]):
            best = key
    return None if best is None else best[1]


def assignment(apps: Iterable[str], replicas: Iterable[str]) -> Mapping[str, str]:
    """Every app with its owner (apps are left out when no replica is live)."""
    members = sorted(set(replicas))
    found: dict[str, str] = {}
    for app in apps:
        chosen = owner(app, members)
        if chosen is not None:
            found[app] = chosen
    return found
