"""Render stage: turn a path at a commit into a sorted list of Kubernetes objects.

Before: :mod:`gitward.source` gives a read-only tree. After: :mod:`gitward.plan` pairs
the objects with what is live. Directory, Kustomize and Helm renderers.
"""
