"""``spec.source.verify`` of an Application: which keys a deployed commit must be signed by.

Read by :mod:`gitward.spec.application` (its ``_Reader`` reports unknown fields); the
meaning is in :mod:`gitward.model.trust`, the check in :mod:`gitward.reconcile.trust`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gitward.model import Verification, VerifyMode

if TYPE_CHECKING:
    from gitward.spec.application import _Reader


def parse_verify(r: _Reader) -> Verification:
    """``spec.source.verify`` (Flux's GitRepository ``spec.verify``): the commit must be
    signed by a key of ``secretRef`` (a Secret in the destination namespace) or
    ``keysFile``."""
    mode = r.str_("mode", "HEAD") or "HEAD"
    if mode.upper() != "HEAD":
        raise r.fail("mode", f"{mode!r} is not supported by gitward yet (only HEAD: the commit)")
    ref = r.child("secretRef")
    result = Verification(
        mode=VerifyMode.HEAD,
        secret_name=ref.str_("name", required=True) if ref is not None else None,
        keys_file=r.str_("keysFile"),
    )
    if result.secret_name is None and result.keys_file is None:
        raise r.fail("secretRef", "or keysFile is required: name the trusted public keys")
    for reader in (ref, r):
        if reader is not None:
            reader.finish()
    return result
