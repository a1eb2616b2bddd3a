"""The store: application status, sync history and the audit log, on SQLite or PostgreSQL.

Used by the reconcile loop (writes status and history), the API (pins, suspensions,
audit) and the UI and CLI (reads). Built by ``compose``; stages see it through ports.
Open one with :meth:`Store.open`; records are the types of :mod:`gitward.model.history`.
"""

from gitward.store.errors import StoreError
from gitward.store.store import DEFAULT_OWNER, INTERRUPTED_MESSAGE, Store
from gitward.store.urls import Backend, StoreTarget, parse_store_url

__all__ = [
    "DEFAULT_OWNER",
    "INTERRUPTED_MESSAGE",
    "Backend",
    "Store",
    "StoreError",
    "StoreTarget",
    "parse_store_url",
]
