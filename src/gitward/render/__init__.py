"""Render stage: turn a path at a commit into a sorted list of Kubernetes objects.

Before: :mod:`gitward.source` gives a read-only tree. After: :mod:`gitward.plan` pairs
the objects with what is live. :class:`ManifestRenderer` implements
:class:`gitward.ports.Renderer` for directories of manifests, Kustomize and Helm.

Modules: ``renderer`` (choice, cache, final order), ``directory``, ``kustomize`` and
``helm`` (one per renderer), ``parse`` (YAML/JSON to objects), ``globs`` (Argo CD's
include/exclude), ``process`` (offline runs with deadlines), ``output`` (order and
duplicates), ``cache``.
"""

from gitward.render.renderer import ManifestRenderer, RenderTools, detect_renderer

__all__ = ["ManifestRenderer", "RenderTools", "detect_renderer"]
