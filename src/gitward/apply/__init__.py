"""Apply stage: execute a plan wave by wave with server-side apply, hooks and prune.

Before: a :class:`gitward.model.Plan`. After: :mod:`gitward.observe` reports health.
"""
