"""Values the database cannot hold natively: JSON text and clock readings.

JSON columns are plain text encoded with orjson, so both databases store exactly the
same bytes and no dialect-specific JSON type is needed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from gitward.ports import Clock
from gitward.store.errors import StoreError


def now(clock: Clock) -> datetime:
    """The clock's wall time as an aware UTC datetime (microsecond precision)."""
    return datetime.fromtimestamp(clock.wall(), UTC)


def dumps(value: Any, what: str) -> str:
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    except orjson.JSONEncodeError as error:
        raise StoreError(
            f"store: cannot save {what}: it is not JSON ({error})",
            hint="pass only strings, numbers, booleans, None, lists and string-keyed dicts",
        ) from error


def loads(text: str) -> Any:
    return orjson.loads(text)
