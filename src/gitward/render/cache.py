"""The render cache: a bounded, thread-safe LRU of finished renders, owned by a renderer.

A render is a pure function of the commit and the render options (the tree at a SHA
never changes), so its result can be reused for as long as memory allows. The key
holds everything that can change the output; see :func:`cache_key`. Entries are
immutable tuples; :class:`~gitward.model.Resource` bodies are shared between callers
and, as everywhere in gitward, must not be mutated (build a new one with
:meth:`~gitward.model.Resource.with_body`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable

from gitward.model import Resource
from gitward.ports import RenderRequest
from gitward.render.directory import repo_path


def cache_key(request: RenderRequest) -> Hashable:
    """Everything a render's output depends on (the renderer's tools are fixed per cache)."""
    source = request.source
    return (
        request.sha,
        repo_path(source.path),
        source.renderer(),
        source.directory,
        source.helm,
        source.kustomize,
        source.chart,
        request.namespace,
        request.kube_version,
        request.api_versions,
        request.app_name,
        request.keys,  # another key may decrypt what this one could not
        tuple((ref, sha) for ref, _, sha in request.refs),
    )


class RenderCache:
    """At most ``size`` renders; the least recently used one goes first. ``size`` 0 disables."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[Hashable, tuple[Resource, ...]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> tuple[Resource, ...] | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: Hashable, resources: tuple[Resource, ...]) -> None:
        if self._size <= 0:
            return
        with self._lock:
            self._entries[key] = resources
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
