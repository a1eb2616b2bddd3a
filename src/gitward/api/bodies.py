"""Read request bodies within a bound, before anything else looks at them.

Webhook endpoints are open to the internet until their signature is checked, and the
signature covers the whole body: the body must be read first. Reading it all into memory
unbounded would let anyone exhaust the server's memory with one request, so
:func:`read_body` refuses a declared ``Content-Length`` over the limit without reading
a byte, and stops reading a body sent without one (chunked) as soon as it passes the
limit. Either way the caller answers 413 (:class:`BodyTooLargeError`).
"""

from __future__ import annotations

from starlette.requests import Request

from gitward.api.errors import BodyTooLargeError

MAX_WEBHOOK_BYTES = 5 * 1024 * 1024  # GitHub caps its payloads at 25 MB; pushes are far smaller
MAX_ACTION_BYTES = 64 * 1024  # the JSON bodies of API actions (a rollback target)


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body of ``request``, or :class:`BodyTooLargeError` past ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.strip().isdigit() and int(declared) > limit:
        raise _too_large(limit, f"it declares {int(declared)} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit, "it is longer")
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int, why: str) -> BodyTooLargeError:
    return BodyTooLargeError(
        f"the request body is too large: the limit is {limit} bytes and {why}",
        hint="a push webhook's payload is a few kilobytes; is this the right endpoint?",
    )
