"""Reading the parts of a live object that every health check needs.

Live objects are plain JSON maps whose fields may be missing at any level (a status the
controller has not written yet); these readers return defaults instead of raising, so
each check reads like the rule it implements.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Obj = Mapping[str, Any]


def section(obj: Obj, name: str) -> Obj:
    """``obj[name]`` when it is a map, else an empty map."""
    value = obj.get(name)
    return value if isinstance(value, Mapping) else {}


def number(obj: Obj, name: str, default: int = 0) -> int:
    value = obj.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def condition(obj: Obj, kind: str) -> Obj | None:
    """The status condition of type ``kind``, or None when the controller has not set it."""
    found = section(obj, "status").get("conditions")
    for cond in found if isinstance(found, list) else ():
        if isinstance(cond, Mapping) and cond.get("type") == kind:
            return cond
    return None


def is_true(cond: Obj | None) -> bool:
    return cond is not None and cond.get("status") == "True"


def is_false(cond: Obj | None) -> bool:
    return cond is not None and cond.get("status") == "False"


def describe(cond: Obj) -> str:
    """``"Reason: message"``, or whichever of the two the condition has."""
    parts = [str(cond[k]) for k in ("reason", "message") if cond.get(k)]
    return ": ".join(parts)


def generation_lag(obj: Obj) -> str | None:
    """A message when the controller has not yet seen the latest spec, else None.

    ``status.observedGeneration`` below ``metadata.generation`` means the status describes
    an older spec, so nothing else in it can be trusted yet.
    """
    generation = number(section(obj, "metadata"), "generation")
    observed = section(obj, "status").get("observedGeneration")
    if isinstance(observed, int) and observed < generation:
        return f"waiting for the controller to observe generation {generation} (seen {observed})"
    return None
