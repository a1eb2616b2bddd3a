"""Plan stage (pure, no I/O): pair desired with live, diff, order into waves, prune.

Before: rendered objects from :mod:`gitward.render` and live state read by
:mod:`gitward.kube`. After: :mod:`gitward.apply` executes the plan.
"""
