"""Many clusters: their health, targeting apps at them by label, staged rollouts.

Before: :mod:`gitward.spec` parses ``Cluster`` documents, Argo CD cluster Secrets and
the ``targets``/``rollout`` fields of Applications. Here: :mod:`.monitor` keeps each
cluster's health and gates requests to one that is down; :mod:`.targets` expands an app
into one instance per (app, cluster) pair; :mod:`.rollout` decides, purely, whether an
instance may take a new commit yet. After: ``gitward serve`` hands the instances to the
controller like any other app.
"""
