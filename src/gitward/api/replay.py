"""Refuse a webhook delivery seen moments ago: a captured request replayed.

A webhook signature proves who wrote a body, not when: whoever captures one signed
request (a proxy log, a misconfigured TLS terminator) can send it again and again.
gitward never trusts the commit a webhook names (it fetches the branch itself), so a
replay can only trigger refreshes; this cache keeps even that from being amplified.

A delivery is identified by what the provider signs or sends: the body's SHA-256 digest
(the HMAC covers the body, so changing a byte breaks the signature) and, when present,
the provider's delivery id header (which is not signed, hence the digest). A delivery
whose digest or id was accepted within the last ``window`` seconds is a replay. The
cache is bounded in time and in size (the oldest entries are forgotten first), so a
flood of distinct valid deliveries cannot grow it without limit. Only deliveries whose
signature was verified are remembered, so nobody without the secret can poison it.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping

# The header carrying each provider's unique id of one delivery.
DELIVERY_HEADERS = (
    "x-github-delivery",
    "x-gitea-delivery",
    "x-gogs-delivery",
    "x-gitlab-event-uuid",
    "x-request-uuid",  # Bitbucket Cloud
    "x-request-id",  # Bitbucket Data Center
)


class DeliveryLog:
    """Deliveries accepted in the last ``window`` seconds, at most ``capacity`` of them."""

    def __init__(
        self,
        window: float = 600.0,
        capacity: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._window = window
        self._capacity = capacity
        self._clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()

    def replayed(self, provider: str, headers: Mapping[str, str], body: bytes) -> bool:
        """True if this delivery was already accepted recently; else remember it."""
        now = self._clock()
        self._forget(now)
        keys = _keys(provider, headers, body)
        if any(key in self._seen for key in keys):
            return True
        for key in keys:
            self._seen[key] = now
        while len(self._seen) > self._capacity:
            self._seen.popitem(last=False)
        return False

    def _forget(self, now: float) -> None:
        while self._seen:
            key, when = next(iter(self._seen.items()))
            if now - when < self._window:
                return
            del self._seen[key]


def _keys(provider: str, headers: Mapping[str, str], body: bytes) -> list[str]:
    keys = [f"{provider}:sha256:{hashlib.sha256(body).hexdigest()}"]
    lowered = {name.lower(): value for name, value in headers.items()}
    for name in DELIVERY_HEADERS:
        value = lowered.get(name, "").strip()
        if value:
            keys.append(f"{provider}:{name}:{value[:200]}")
    return keys
