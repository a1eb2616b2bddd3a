"""HTML form bodies (``application/x-www-form-urlencoded``), read with a size bound.

The UI's forms only ever send a few short fields, so the standard library's parser is
enough and no multipart parser is installed; anything larger than ``MAX_FORM_BYTES`` is
refused before it is parsed.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.requests import Request

from gitward.api.bodies import read_body

MAX_FORM_BYTES = 16 * 1024


async def form(request: Request) -> dict[str, str]:
    """The form's fields (the first value of each); empty for other content types.

    Read once per request and kept: the CSRF check and the handler both look at it.
    """
    cached: dict[str, str] | None = getattr(request.state, "form", None)
    if cached is not None:
        return cached
    fields: dict[str, str] = {}
    kind = request.headers.get("content-type", "").split(";")[0].strip()
    if kind == "application/x-www-form-urlencoded":
        body = await read_body(request, MAX_FORM_BYTES)
        pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        fields = dict(reversed(pairs))
        request.state.form_pairs = pairs
    request.state.form = fields
    return fields


async def form_values(request: Request, key: str) -> list[str]:
    """Every value of field ``key`` in order (checkboxes of one name: the bulk actions)."""
    await form(request)
    pairs: list[tuple[str, str]] = getattr(request.state, "form_pairs", [])
    return [v for k, v in pairs if k == key]
