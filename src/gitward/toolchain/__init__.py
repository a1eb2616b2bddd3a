"""The pinned Go programs gitward runs, built from Go modules into a user cache.

Not only for the dev cluster: rendering needs kustomize, helm and sops at runtime, which
is why this package sits beside the stages rather than inside :mod:`gitward.devcluster`.
``catalog`` is the data (one entry per tool), ``go`` finds a Go toolchain, ``build``
keys the cache and builds what is missing. ``compose`` asks it for the renderers'
binaries; the dev cluster asks it for the control plane.
"""

from gitward.toolchain.build import Toolchain, default_cache_dir, module_dir
from gitward.toolchain.catalog import (
    ALL_TOOLS,
    CONTROL_PLANE_TOOLS,
    KUBERNETES_VERSION,
    POLICY_TOOLS,
    RENDER_TOOLS,
    SEALED_SECRETS_TOOLS,
    SEALED_SECRETS_VERSION,
    TOOLS,
    Tool,
    tool_spec,
)
from gitward.toolchain.go import GoInfo, find_go

__all__ = [
    "ALL_TOOLS",
    "CONTROL_PLANE_TOOLS",
    "KUBERNETES_VERSION",
    "POLICY_TOOLS",
    "RENDER_TOOLS",
    "SEALED_SECRETS_TOOLS",
    "SEALED_SECRETS_VERSION",
    "TOOLS",
    "GoInfo",
    "Tool",
    "Toolchain",
    "default_cache_dir",
    "find_go",
    "module_dir",
    "tool_spec",
]
