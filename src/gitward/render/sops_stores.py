"""Read SOPS files the way ``sops`` itself reads them: YAML, JSON, dotenv and binary.

The MAC of a SOPS file covers every value (or every encrypted one) in the order and with
the types ``sops`` saw. ``sops`` reads YAML with Go's yaml.v3, which follows YAML 1.2:
``yes`` is a string there, while gitward's manifest parser (YAML 1.1, like ``kubectl``)
reads a boolean. So a SOPS file is loaded here with yaml.v3's rules for plain scalars;
anything else would report a MAC mismatch on a file that is fine. The decrypted tree is
what ``sops -d`` would print, so this is also what the objects are.

Used by :mod:`gitward.render.sops`; each loader returns the documents and the raw
``sops`` metadata mapping, or None when the text is not a SOPS file.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from enum import StrEnum
from typing import Any

import yaml

from gitward.errors import RenderError
from gitward.loading import BoundedLoader, LimitExceeded, check_size, yaml_documents


class SopsFormat(StrEnum):
    YAML = "yaml"
    JSON = "json"
    DOTENV = "dotenv"
    BINARY = "binary"

    @classmethod
    def of(cls, filename: str) -> SopsFormat:
        """The format ``sops`` (and Flux) infer from a file name."""
        lowered = filename.lower()
        if lowered.endswith((".yaml", ".yml")):
            return cls.YAML
        if lowered.endswith(".json"):
            return cls.JSON
        if lowered.endswith(".env"):
            return cls.DOTENV
        return cls.BINARY


# A cheap test before parsing: the markers every SOPS file of the format carries.
_MARKERS = {
    SopsFormat.YAML: ("sops:", "mac:"),
    SopsFormat.JSON: ('"sops"', '"mac"'),
    SopsFormat.DOTENV: ("sops_mac=",),
    SopsFormat.BINARY: ('"sops"', '"mac"'),
}


def may_be_encrypted(text: str, fmt: SopsFormat) -> bool:
    return all(marker in text for marker in _MARKERS[fmt])


# ------------------------------------------------------------------ YAML as yaml.v3 reads it

_PLAIN = "tag:gitward.dev,2026:yaml.v3-plain"
_MERGE = "tag:yaml.org,2002:merge"
_SPECIAL: dict[str, Any] = {
    **dict.fromkeys(("true", "True", "TRUE"), True),
    **dict.fromkeys(("false", "False", "FALSE"), False),
    **dict.fromkeys(("", "~", "null", "Null", "NULL"), None),
    **dict.fromkeys((".nan", ".NaN", ".NAN"), math.nan),
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), math.inf),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), -math.inf),
}
_MAX_INT_TEXT = 80  # longer than any 64-bit integer in any base Go accepts, with its sign
_GO_INT = re.compile(r"([+-]?)(0[xX][0-9a-fA-F]+|0[bB][01]+|0[oO][0-7]+|0[0-7]*|[1-9][0-9]*)")
_GO_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")


def _go_int(plain: str) -> int | None:
    """``strconv.ParseInt(plain, 0, 64)``, then ``ParseUint`` (no sign), as yaml.v3 tries."""
    match = _GO_INT.fullmatch(plain)
    if match is None:
        return None
    sign, body = match.groups()
    value = int(body, 8) if body[0] == "0" and body[1:].isdigit() else int(body, 0)
    value = -value if sign == "-" else value
    if -(2**63) <= value < 2**63 or (not sign and value < 2**64):
        return value
    return None


_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:(?:[Tt](\d{1,2}):(\d{1,2}):(\d{1,2})(\.\d+)?(Z|[+-]\d{2}:\d{2}))"
    r"|(?: (\d{1,2}):(\d{1,2}):(\d{1,2})(\.\d+)?))?"
)


def _go_timestamp(text: str) -> str | None:
    """A yaml.v3 timestamp as Go's ``time.MarshalText`` writes it (RFC 3339, nanoseconds
    without trailing zeros, ``Z`` for UTC), which is how ``sops`` sees and prints it."""
    match = _TIMESTAMP.fullmatch(text)
    if match is None:
        return None
    g = match.groups()
    year, month, day = (int(x) for x in g[:3])
    hour, minute, second, fraction, zone = g[3:8] if g[3] else (*g[8:12], "Z")
    if not 1 <= month <= 12 or not 1 <= day <= 31:
        return None
    clock = [int(x or 0) for x in (hour, minute, second)]
    digits = (fraction or ".")[1:10].rstrip("0")
    zone = "Z" if zone in ("Z", "+00:00", "-00:00") else zone
    return (
        f"{year:04d}-{month:02d}-{day:02d}T{clock[0]:02d}:{clock[1]:02d}:{clock[2]:02d}"
        f"{'.' + digits if digits else ''}{zone}"
    )


def go_plain_scalar(text: str) -> Any:
    """The value ``sops`` sees for a plain scalar: yaml.v3's resolution, with timestamps
    as Go prints a ``time.Time``."""
    if text in _SPECIAL:
        return _SPECIAL[text]
    if not text or text[0] not in "0123456789+-.":
        return text
    stamp = _go_timestamp(text)
    if stamp is not None:
        return stamp
    plain = text.replace("_", "")
    number = _go_int(plain) if len(plain) <= _MAX_INT_TEXT else None
    if number is not None:
        return number
    if _GO_FLOAT.fullmatch(plain):
        return float(plain)
    return text


class _GoResolution:
    """yaml.v3's resolution of plain scalars, for a libyaml loader."""

    def resolve(self, kind: type[yaml.Node], value: str | None, implicit: Any) -> str:
        if kind is yaml.ScalarNode and implicit[0]:
            return _MERGE if value == "<<" else _PLAIN
        return str(super().resolve(kind, value, implicit))  # type: ignore[misc]


class _GoYamlLoader(_GoResolution, yaml.CSafeLoader):
    pass


class _BoundedGoYamlLoader(_GoResolution, BoundedLoader):
    """The same, refusing alias bombs (:mod:`gitward.loading`)."""


def _construct_plain(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    return go_plain_scalar(str(loader.construct_scalar(node)))


_GoYamlLoader.add_constructor(_PLAIN, _construct_plain)
_BoundedGoYamlLoader.add_constructor(_PLAIN, _construct_plain)


def _yaml(text: str, label: str) -> list[Any]:
    try:
        documents = yaml_documents(text, _GoYamlLoader, _BoundedGoYamlLoader)
        return [doc for _, doc in documents if doc is not None]
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark is not None else getattr(e, "line", None)
        where = f"{label}:{line}" if line else label
        problem = getattr(e, "problem", None) or str(e)
        raise RenderError(f"invalid YAML in a SOPS file: {problem}", location=where) from e


# ------------------------------------------------------------------ dotenv (flattened metadata)


def _dotenv(text: str, label: str) -> list[Any]:
    """One document of ``KEY=VALUE`` lines, as ``sops``' dotenv store reads them."""
    document: dict[str, Any] = {}
    for number, line in enumerate(text.split("\n"), start=1):
        if not line or line.startswith("#"):
            continue  # comments are not part of the MAC
        key, sep, value = line.partition("=")
        if not sep:
            raise RenderError("not a KEY=VALUE line", location=f"{label}:{number}")
        document[key] = value.replace("\\n", "\n")
    return [document]


_TOKEN = re.compile(r"__(map|list)_")


def _slot(node: Any, step: str | int, value: Any) -> Any:
    """``node[step]``, set to ``value`` first if missing (lists grow as needed)."""
    if isinstance(node, list):
        assert isinstance(step, int)  # noqa: S101 - a list index comes from __list_N
        node.extend([None] * (step + 1 - len(node)))
        if node[step] is None:
            node[step] = value
        return node[step]
    return node.setdefault(step, value)


def _unflatten(flat: dict[str, Any]) -> dict[str, Any]:
    """``age__list_0__map_recipient``-style keys (dotenv metadata) back into a tree."""
    root: dict[str, Any] = {}
    for flat_key, value in flat.items():
        parts = _TOKEN.split(flat_key)
        path: list[str | int] = [parts[0]]
        path += [
            int(n) if k == "list" else n for k, n in zip(parts[1::2], parts[2::2], strict=True)
        ]
        node: Any = root
        for step, following in itertools.pairwise(path):
            node = _slot(node, step, [] if isinstance(following, int) else {})
        _slot(node, path[-1], value)
    return root


# ------------------------------------------------------------------ entry point


def _json_int(text: str) -> int:
    if len(text.lstrip("-")) > 20:  # longer than any 64-bit integer; int() may refuse it
        raise ValueError(f"the integer {text[:27]}... does not fit in 64 bits")
    return int(text)


def load(text: str, fmt: SopsFormat, label: str) -> tuple[list[Any], dict[str, Any]] | None:
    """The documents of a SOPS file (without metadata) and its ``sops`` metadata, or
    None when ``text`` is not SOPS-encrypted."""
    if not may_be_encrypted(text, fmt):
        return None
    try:
        check_size(text)
    except LimitExceeded as e:
        raise RenderError(e.message, location=label, hint=e.hint) from e
    if fmt is SopsFormat.DOTENV:
        (document,) = _dotenv(text, label)
        flat = {k[5:]: document.pop(k) for k in list(document) if k.startswith("sops_")}
        return [document], _unflatten(flat)
    if fmt is SopsFormat.YAML:
        documents = _yaml(text, label)
    else:
        try:
            documents = [json.loads(text, parse_int=_json_int)]
        except json.JSONDecodeError:
            return None  # not JSON: a binary file that merely mentions "sops"
        except ValueError as e:  # from _json_int
            raise RenderError(f"invalid JSON in a SOPS file: {e}", location=label) from e
    if not documents or not isinstance(documents[0], dict):
        return None
    metadata = documents[0].get("sops")
    if not isinstance(metadata, dict) or "mac" not in metadata:
        return None
    for document in documents:
        if isinstance(document, dict):
            document.pop("sops", None)
    return documents, metadata
