"""Load YAML and JSON that users control, within bounds.

Every document gitward reads from a repository, a program's output or an HTTP body
passes through here: manifests (:mod:`gitward.render.parse`), Chart.yaml and
kustomization files, Application and Cluster declarations (:mod:`gitward.spec`) and
webhook bodies (:mod:`gitward.api`). Two bounds keep one hostile commit from taking the
process down:

- **Size.** A text longer than :data:`MAX_TEXT_BYTES` is refused before it is parsed
  (:func:`check_size`); HTTP bodies have their own, smaller bound.
- **Alias expansion.** YAML aliases let 1 KB describe a billion nodes (nine levels of
  nine aliases: the "billion laughs"). PyYAML builds such a document cheaply, sharing
  one Python object per anchor, but every later stage (a deep copy, ``orjson.dumps``,
  a diff) expands it: gigabytes of memory, then a crash. :class:`BoundedLoader` counts,
  while constructing, how much each alias adds to the document once expanded and stops
  past :data:`MAX_ALIAS_EXPANSION`; an alias inside its own anchor (a recursive document,
  which no JSON can hold) is refused outright.

The counting costs nothing on files without aliases: a stream is read with the checking
loader only when its text holds a ``*``, the character every alias starts with, so
plain manifests keep libyaml's speed (``benchmarks/parse_bench.py``).

Refusals are :class:`LimitExceeded`, a :class:`yaml.YAMLError`, so a caller that already
turns YAML errors into its own :class:`~gitward.errors.GitwardError` (with the file name)
cannot forget them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

MAX_TEXT_BYTES = 16 * 1024 * 1024
"""The largest file or program output read as manifests or declarations (16 MiB).

The API server stores objects of at most ~1.5 MiB; the largest CRD bundles in common
use are a few MiB."""

MAX_ALIAS_EXPANSION = 4_000_000
"""How much YAML aliases may add to one stream, counted in nodes plus characters of
scalars: about 4 MB of JSON. Anchors used to share a block of settings add a few
hundred; a billion-laughs document adds billions."""

SIZE_HINT = "split the file: no Kubernetes object comes near this size"
ALIAS_HINT = (
    "write the repeated parts out instead of using YAML anchors and aliases (*name); "
    "a document that expands this much is most likely an attack"
)
RECURSION_HINT = "an alias (*name) may only refer to an anchor (&name) that does not contain it"


class LimitExceeded(yaml.YAMLError):
    """A document is too large, expands too much through aliases, or refers to itself.

    ``line`` is the 1-based line where the offending node starts, when known.
    """

    def __init__(self, message: str, hint: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.line = line

    def __str__(self) -> str:
        return self.message


def check_size(data: str | bytes, limit: int = MAX_TEXT_BYTES, what: str = "the text") -> None:
    """Refuse ``data`` longer than ``limit`` bytes (a ``str`` counts its UTF-8 bytes)."""
    size = len(data)
    if isinstance(data, str) and size * 4 > limit:  # only encode what may be too long
        size = len(data.encode("utf-8", errors="surrogatepass"))
    check_length(size, limit, what)


def check_length(size: int, limit: int = MAX_TEXT_BYTES, what: str = "the text") -> None:
    """Refuse a text of ``size`` bytes (known before it is read) longer than ``limit``."""
    if size > limit:
        raise LimitExceeded(
            f"{what} is {_mib(size)}, more than the limit of {_mib(limit)}", SIZE_HINT
        )


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB" if size >= 1024 * 1024 else f"{size} bytes"


class SafeLoader(yaml.CSafeLoader):
    """libyaml's safe loader, with integers too long for Python refused as YAML errors.

    Python refuses to convert more than 4300 digits to an ``int`` with a ``ValueError``
    (its own defence against slow conversions), which PyYAML lets escape.
    """

    def construct_yaml_int(self, node: ScalarNode) -> int:
        try:
            return int(super().construct_yaml_int(node))
        except ValueError as e:
            raise yaml.constructor.ConstructorError(
                None, None, f"the integer is too long ({e})", node.start_mark
            ) from e


SafeLoader.add_constructor("tag:yaml.org,2002:int", SafeLoader.construct_yaml_int)


class BoundedLoader(SafeLoader):
    """The safe loader that refuses alias bombs and recursive documents.

    Construction is PyYAML's; only a node met a second time (an alias) is checked: its
    expanded size is added to the stream's total, which may not exceed ``budget``.
    """

    budget: int = MAX_ALIAS_EXPANSION

    def __init__(self, stream: str | bytes) -> None:
        super().__init__(stream)
        self._added = 0
        self._sizes: dict[int, int] = {}

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        if node in self.constructed_objects:
            self._added += self._expanded_size(node)
            if self._added > self.budget:
                raise LimitExceeded(
                    f"YAML aliases expand the document to more than {self.budget:,} nodes "
                    "and characters (an alias bomb?)",
                    ALIAS_HINT,
                    node.start_mark.line + 1,
                )
        return super().construct_object(node, deep=deep)

    def construct_document(self, node: Node) -> Any:
        try:
            return super().construct_document(node)
        finally:
            self._sizes.clear()  # node ids may be reused by the next document's nodes

    def _expanded_size(self, root: Node) -> int:
        """Nodes plus scalar characters under ``root``, aliases expanded (memoized)."""
        sizes = self._sizes
        on_path: set[int] = set()
        stack: list[tuple[Node, bool]] = [(root, False)]
        while stack:
            node, children_done = stack.pop()
            ident = id(node)
            if ident in sizes:
                continue
            children = _children(node)
            if children_done:
                on_path.discard(ident)
                sizes[ident] = 1 + sum(sizes[id(child)] for child in children)
                continue
            if isinstance(node, ScalarNode):
                sizes[ident] = 1 + len(node.value)
                continue
            on_path.add(ident)
            stack.append((node, True))
            for child in children:
                if id(child) in on_path:
                    raise _recursive(child)
                stack.append((child, False))
        return sizes[id(root)]


def _recursive(node: Node) -> LimitExceeded:
    return LimitExceeded(
        "a YAML alias refers to a node that contains it: the document is infinitely deep",
        RECURSION_HINT,
        node.start_mark.line + 1,
    )


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def loader_for(text: str, plain: type[yaml.CSafeLoader], bounded: type[BoundedLoader]) -> Any:
    """A loader for ``text``: ``bounded`` when it may hold aliases, else ``plain``.

    Every alias starts with ``*``; a text without one needs no counting.
    """
    check_size(text)
    return bounded(text) if "*" in text else plain(text)


def yaml_documents(
    text: str,
    plain: type[yaml.CSafeLoader] = SafeLoader,
    bounded: type[BoundedLoader] = BoundedLoader,
) -> Iterator[tuple[int, Any]]:
    """Each document of a YAML stream with the 1-based line where its content starts.

    Raises :class:`yaml.YAMLError` (including :class:`LimitExceeded`).
    """
    loader = loader_for(text, plain, bounded)
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:  # pragma: no cover - check_node() said there is one
                break
            yield node.start_mark.line + 1, loader.construct_document(node)
    finally:
        loader.dispose()


def load_all(text: str) -> list[Any]:
    """Every document of a YAML stream, bounded; empty documents are ``None``."""
    return [data for _, data in yaml_documents(text)]


def load_one(text: str) -> Any:
    """The single document of a YAML text (``None`` if empty), bounded."""
    documents = load_all(text)
    if len(documents) > 1:
        raise yaml.YAMLError(f"expected one YAML document, found {len(documents)}")
    return documents[0] if documents else None
