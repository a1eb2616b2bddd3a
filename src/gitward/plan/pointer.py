"""JSON pointers (RFC 6901): the addresses of fields in diffs and ignore rules.

``~`` is written ``~0`` and ``/`` is written ``~1`` inside a token, so the annotation key
``app.kubernetes.io/name`` is ``/metadata/labels/app.kubernetes.io~1name``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def escape(token: str | int) -> str:
    """One reference token, escaped: ``~`` before ``/`` so that ``~1`` stays unambiguous."""
    return str(token).replace("~", "~0").replace("/", "~1")


def unescape(token: str) -> str:
    """The inverse of :func:`escape`: ``~1`` before ``~0`` (RFC 6901, section 4)."""
    return token.replace("~1", "/").replace("~0", "~")


def join(tokens: Iterable[str | int]) -> str:
    """``("metadata", "labels", "a/b")`` → ``"/metadata/labels/a~1b"``; ``()`` → ``""``."""
    return "".join("/" + escape(t) for t in tokens)


def split(pointer: str) -> list[str]:
    """``"/a/b~1c"`` → ``["a", "b/c"]``. The empty pointer addresses the whole document."""
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise ValueError(f"JSON pointer {pointer!r} must be empty or start with '/'")
    return [unescape(t) for t in pointer[1:].split("/")]


def remove(doc: Any, pointer: str) -> None:
    """Delete the value at ``pointer`` from ``doc`` in place; a missing path is a no-op.

    Callers own ``doc`` (a private deep copy): ignore rules name fields that may or may not
    exist on a given object, so absence is not an error.
    """
    tokens = split(pointer)
    if not tokens:
        return
    parent = doc
    for token in tokens[:-1]:
        parent = _child(parent, token)
        if parent is None:
            return
    last = tokens[-1]
    if isinstance(parent, dict):
        parent.pop(last, None)
    elif isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        del parent[int(last)]


def _child(node: Any, token: str) -> Any:
    if isinstance(node, dict):
        return node.get(token)
    if isinstance(node, list) and token.isdigit() and int(token) < len(node):
        return node[int(token)]
    return None
