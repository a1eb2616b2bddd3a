"""The Activity page's filters: which syncs and audit entries a person asked to see.

Before: the latest syncs and audit entries of the apps the person may view (the store).
After: ``activity.html`` shows those that pass every filter; the filters live in the
URL (``/activity?actor=alice&problems=1``), so a filtered feed is a deep link.

Filters: the app (exact), the actor (part of the name, any case), the audit action
(sync, refresh, suspend, login, webhook, ...), the sync trigger (poll, webhook, manual,
...), what to show (syncs, actions, drift, or all) and problems only (failed or
interrupted syncs, failed or denied actions, and drift). Drift findings
(:mod:`gitward.ui.feed`) have no actor, action or trigger: those filters leave them out.
The live stream asks :meth:`ActivityQuery.matches` of each new entry, the same filters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from urllib.parse import urlencode

from gitward.model.history import AuditEntry, AuditOutcome, SyncRecord, SyncResult
from gitward.ui.feed import DriftEntry, Entry

SHOW = ("all", "syncs", "actions", "drift")
BAD_SYNCS = (SyncResult.FAILED, SyncResult.INTERRUPTED)
BAD_ACTIONS = (AuditOutcome.FAILED, AuditOutcome.DENIED)


@dataclass(frozen=True)
class ActivityQuery:
    app: str = ""
    actor: str = ""
    action: str = ""
    trigger: str = ""
    show: str = "all"
    problems: bool = False

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> ActivityQuery:
        def text(key: str) -> str:
            return params.get(key, "").strip()[:100]

        show = params.get("show", "all")
        return cls(
            app=text("app"),
            actor=text("actor"),
            action=text("action"),
            trigger=text("trigger"),
            show=show if show in SHOW else "all",
            problems=params.get("problems") in ("1", "on"),
        )

    def params(self, **changes: object) -> str:
        q = replace(self, **changes)  # type: ignore[arg-type]
        pairs = {
            "app": q.app,
            "actor": q.actor,
            "action": q.action,
            "trigger": q.trigger,
            "show": "" if q.show == "all" else q.show,
            "problems": "1" if q.problems else "",
        }
        return urlencode({k: v for k, v in pairs.items() if v})

    def syncs(self, records: Sequence[SyncRecord]) -> list[SyncRecord]:
        if self.show in ("actions", "drift") or self.action:
            return []
        actor = self.actor.lower()
        return [
            s
            for s in records
            if (not self.app or s.app == self.app)
            and (not actor or actor in s.actor.lower())
            and (not self.trigger or s.trigger.value == self.trigger)
            and (not self.problems or s.result in BAD_SYNCS)
        ]

    def audit(self, entries: Sequence[AuditEntry]) -> list[AuditEntry]:
        if self.show in ("syncs", "drift") or self.trigger:
            return []
        actor = self.actor.lower()
        return [
            e
            for e in entries
            if (not self.app or e.app == self.app)
            and (not actor or actor in e.actor.lower())
            and (not self.action or e.action == self.action)
            and (not self.problems or e.outcome in BAD_ACTIONS)
        ]

    def drift(self, entries: Sequence[DriftEntry]) -> list[DriftEntry]:
        if self.show in ("syncs", "actions") or self.action or self.trigger or self.actor:
            return []
        return [d for d in entries if not self.app or d.app == self.app]

    def matches(self, entry: Entry) -> bool:
        """Whether a new entry belongs on this feed (its app's visibility is separate)."""
        if isinstance(entry, SyncRecord):
            return bool(self.syncs([entry]))
        if isinstance(entry, AuditEntry):
            return bool(self.audit([entry]))
        return bool(self.drift([entry]))
