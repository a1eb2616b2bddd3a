"""Reconcile: the pipeline that strings the stages together, and (later) the loop.

:mod:`.pipeline` runs one application from a Git revision to a synced cluster.
"""
