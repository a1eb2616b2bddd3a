"""Observe stage: health of live objects, per kind (pure functions), and drift.

Before: :mod:`gitward.apply` changed the cluster. After: the reconcile loop decides
whether to come back sooner.
"""
