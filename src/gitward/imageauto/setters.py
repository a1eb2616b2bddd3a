"""Write selected tags into YAML text at the places marked by setter comments.

Before: :mod:`.policy` picked a tag per ImagePolicy. After: :mod:`.git` commits the
edited files. A marker is Flux's comment at the end of a line holding one scalar::

    image: ghcr.io/org/app:1.0.0 # {"$imagepolicy": "apps:app"}        -> image:tag
    tag: 1.0.0 # {"$imagepolicy": "apps:app:tag"}                      -> the tag only
    repository: ghcr.io/org/app # {"$imagepolicy": "apps:app:name"}    -> the image only
    newTag: 1.0.0 # {"$imagepolicy": "apps:app:tag"}                   (kustomization.yaml)
    digest: sha256:... # {"$imagepolicy": "apps:app:digest"}           -> the digest only

When the policy reflects digests, the whole reference is ``image:tag@sha256:...`` (a
pinned pull that still shows the version); a ``:digest`` marker of a policy without a
digest is left alone.

The edit is line-based: only the marked scalar changes, so comments, key order,
indentation, quoting and blank lines stay exactly as people wrote them (a YAML load
and dump would lose them). Pure: text in, text and the list of changes out.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

import yaml

from gitward.loading import LimitExceeded, load_all

MARKER_KEY = "$imagepolicy"
# indentation, an optional "- ", an optional key and colon; then the scalar (quoted or
# plain, no spaces), spaces, and a comment holding a JSON object.
_LINE = re.compile(
    r"""^(?P<head>[ \t]*(?:-[ \t]+)?(?:(?:"[^"\n]*"|'[^'\n]*'|[^\s#"'][^#\n]*?)[ \t]*:[ \t]+)?)"""
    r"""(?P<value>"[^"\n]*"|'[^'\n]*'|[^\s#"'][^\s#]*)"""
    r"""(?P<gap>[ \t]+)\#[ \t]*(?P<marker>\{.*\})[ \t]*$"""
)


@dataclass(frozen=True)
class Latest:
    """What a policy selected: the image (``host/path``), its tag and, when the policy
    reflects digests, the digest the tag pointed at (``sha256:...``)."""

    image: str
    tag: str
    digest: str = ""

    @property
    def ref(self) -> str:
        pinned = f"@{self.digest}" if self.digest else ""
        return f"{self.image}:{self.tag}{pinned}"


@dataclass(frozen=True)
class Change:
    """One scalar rewritten: where, from what, to what, by which policy, and in which
    object (``Kind``, ``namespace``, ``name`` of the YAML document; "" when not one)."""

    file: str
    line: int  # 1-based
    old: str
    new: str
    policy: str  # "namespace:name", as the marker names it
    object: tuple[str, str, str] = ("", "", "")


def marker_of(comment: str) -> tuple[str, str] | None:
    """("namespace:name", field) from a setter comment, field "" / "tag" / "name" /
    "digest"."""
    try:
        data = json.loads(comment)
    except ValueError:
        return None
    ref = data.get(MARKER_KEY) if isinstance(data, dict) else None
    if not isinstance(ref, str):
        return None
    parts = ref.split(":")
    if len(parts) == 2:
        return ref, ""
    if len(parts) == 3 and parts[2] in ("tag", "name", "digest"):
        return f"{parts[0]}:{parts[1]}", parts[2]
    return None


def edit_text(text: str, latest: Mapping[str, Latest], file: str) -> tuple[str, list[Change]]:
    """``text`` with every marked scalar set from ``latest`` (keyed "namespace:name");
    markers naming a policy with no selection yet are left alone."""
    lines = text.split("\n")
    changes: list[Change] = []
    for number, line in enumerate(lines, start=1):
        match = _LINE.match(line)
        if match is None:
            continue
        marker = marker_of(match["marker"])
        if marker is None or marker[0] not in latest:
            continue
        selected = latest[marker[0]]
        new = {"": selected.ref, "tag": selected.tag, "name": selected.image}.get(
            marker[1], selected.digest
        )
        if not new:
            continue  # a :digest marker of a policy that reflects no digest
        value = match["value"]
        quote = value[0] if value[0] in "\"'" else ""
        old = value[1:-1] if quote else value
        if old == new:
            continue
        start, end = match.span("value")
        lines[number - 1] = f"{line[:start]}{quote}{new}{quote}{line[end:]}"
        changes.append(Change(file, number, old, new, marker[0]))
    if changes:
        owners = _objects(lines)
        changes = [dataclasses.replace(c, object=owners.get(c.line, ("", "", ""))) for c in changes]
    return "\n".join(lines), changes


def _objects(lines: list[str]) -> dict[int, tuple[str, str, str]]:
    """For each line, the (kind, namespace, name) of the YAML document holding it."""
    owners: dict[int, tuple[str, str, str]] = {}
    start = 0
    for end in [i for i, line in enumerate(lines) if line.startswith("---")] + [len(lines)]:
        try:
            docs = load_all("\n".join(lines[start:end]))
        except (yaml.YAMLError, LimitExceeded):
            docs = []
        doc = docs[0] if len(docs) == 1 else None
        if isinstance(doc, dict) and isinstance(doc.get("metadata"), dict):
            meta = doc["metadata"]
            key = (
                str(doc.get("kind") or ""),
                str(meta.get("namespace") or ""),
                str(meta.get("name") or ""),
            )
            owners.update(dict.fromkeys(range(start + 1, end + 1), key))
        start = end + 1
    return owners
