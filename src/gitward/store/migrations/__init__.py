"""Alembic migrations of the store, run by :func:`gitward.store.migrate.upgrade` at startup.

Revisions are hand-written and never import :mod:`gitward.store.schema`: a migration is
a frozen record of one change, while the schema module always shows the newest tables.
"""
