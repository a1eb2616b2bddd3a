"""What the Application page shows beyond its status: objects, diffs, plans, history.

Before: the engine's :meth:`~gitward.reconcile.pipeline.Engine.look` (resolve, render,
policy, observe, predict, plan; nothing written). After: templates render these typed
views. The diff is the one ``gitward diff`` prints: both sides normalised by
:func:`gitward.plan.normalize.normalize_pair` (server-set fields dropped, ignore rules
applied, Secret values masked) before :func:`gitward.plan.diff.unified_diff`, so a
Secret's value never reaches the browser.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from gitward.errors import ConfigError
from gitward.model import Action, AppSpec, JsonObject
from gitward.model.plan import Step
from gitward.model.syncrequest import parse_key
from gitward.plan.diff import unified_diff
from gitward.plan.normalize import normalize_pair
from gitward.reconcile.pipeline import Engine, Look, SyncOptions

QUIET = (Action.UNCHANGED, Action.KEEP, Action.HOOK)


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "add", "del", "hunk", "ctx"
    text: str
    # within-line highlights of a changed line: (text, changed) in order; () for none
    parts: tuple[tuple[str, bool], ...] = ()


@dataclass(frozen=True)
class ObjectView:
    """One object of the app as the Resources and Diff tabs show it."""

    key: str
    kind: str
    namespace: str
    name: str
    action: str
    wave: int
    reason: str = ""
    error: str = ""
    lines: tuple[DiffLine, ...] = ()
    owners: tuple[str, ...] = ()  # keys of the objects named by its ownerReferences
    uid: str = ""  # the live object's (the tree finds what it owns by this)

    @property
    def changed(self) -> bool:
        return self.action not in {a.value for a in QUIET} or bool(self.error)


@dataclass(frozen=True)
class LookView:
    revision: str
    objects: tuple[ObjectView, ...]
    unchanged: int
    problems: tuple[str, ...] = ()
    waves: Mapping[int, tuple[ObjectView, ...]] = field(default_factory=dict)

    @property
    def changed(self) -> tuple[ObjectView, ...]:
        return tuple(o for o in self.objects if o.changed)


def options(prune: bool | None = None) -> SyncOptions:
    """How the UI looks: every object dry-run (not the inventory's fast path), nothing written."""
    return SyncOptions(prune=prune, full_compare=True)


def options_for(key: str) -> SyncOptions:
    """How the UI looks at one object: that object dry-run, the others only if gitward did
    not leave them as they are (the controller's fast path), nothing written. An app of a
    thousand objects then costs one dry-run, not a thousand, when the drawer opens."""
    try:
        return SyncOptions(compare=frozenset({parse_key(key)}))
    except ValueError as e:
        raise ConfigError(str(e)) from e


async def look(engine: Engine, spec: AppSpec, *, prune: bool | None = None) -> LookView:
    """The app's diff against the cluster, object by object, secrets masked."""
    planned = await engine.look(spec, options(prune))
    return view(planned, spec)


def view(planned: Look, spec: AppSpec) -> LookView:
    problems = [f"{k}: {e.detail}" for k, e in sorted(planned.errors.items())]
    problems += [
        f"{k}: {c.detail} (a sync needs force-conflicts)"
        for k, c in sorted(planned.conflicts.items())
    ]
    errors = {str(k): e.detail for k, e in planned.errors.items()}
    objects = tuple(_object(step, planned, spec, errors) for step in planned.plan.steps)
    waves: dict[int, list[ObjectView]] = {}
    for o in objects:
        if o.changed:
            waves.setdefault(o.wave, []).append(o)
    return LookView(
        revision=str(planned.revision),
        objects=objects,
        unchanged=sum(1 for o in objects if not o.changed),
        problems=tuple(problems),
        waves={w: tuple(v) for w, v in sorted(waves.items())},
    )


def _object(step: Step, planned: Look, spec: AppSpec, errors: Mapping[str, str]) -> ObjectView:
    key = step.key
    lines: tuple[DiffLine, ...] = ()
    if step.action not in QUIET:
        after: JsonObject | None = None
        if step.action is not Action.PRUNE and step.desired is not None:
            after = planned.predicted.get(key, step.desired.body)
        live = step.live if step.action is not Action.CREATE else None
        after_n, live_n = normalize_pair(key, after, live, spec.ignore_differences)
        lines = diff_lines(unified_diff(live_n, after_n, str(key)))
    live_body = planned.live.get(key) or step.live or {}
    return ObjectView(
        key=str(key),
        kind=key.kind,
        namespace=key.namespace or "",
        name=key.name,
        action=step.action.value,
        wave=step.wave,
        reason=step.reason,
        error=errors.get(str(key), ""),
        lines=lines,
        owners=_owners(live_body, key.namespace or ""),
        uid=str((live_body.get("metadata") or {}).get("uid") or ""),
    )


def diff_lines(text: str) -> tuple[DiffLine, ...]:
    """A unified diff as typed lines, so the template colours them without parsing; a
    removed line and the added line that replaces it say which characters changed."""
    out = []
    for line in text.splitlines():
        if line.startswith(("+++", "---")):
            continue
        kind = {"+": "add", "-": "del", "@": "hunk"}.get(line[:1], "ctx")
        out.append(DiffLine(kind, line))
    return tuple(_within_lines(out))


MAX_HIGHLIGHT = 1_000  # characters; longer lines are shown whole
ALIKE = 0.4  # below this similarity, a line was replaced, not edited: no highlights


def _within_lines(lines: list[DiffLine]) -> list[DiffLine]:
    """Pair each run of removed lines with the run of added lines right after it, line by
    line in order (how a value edited in place shows in a unified diff)."""
    i = 0
    while i < len(lines):
        j = i
        while j < len(lines) and lines[j].kind == "del":
            j += 1
        k = j
        while k < len(lines) and lines[k].kind == "add":
            k += 1
        for d, a in zip(range(i, j), range(j, k), strict=False):
            lines[d], lines[a] = _highlight(lines[d], lines[a])
        i = max(k, i + 1)
    return lines


TOKEN = re.compile(r"\w+|\s+|[^\w\s]")  # words, spaces, each punctuation mark


def _highlight(old: DiffLine, new: DiffLine) -> tuple[DiffLine, DiffLine]:
    """Word by word, so ``first`` → ``second`` marks the words, not scattered letters."""
    if len(old.text) > MAX_HIGHLIGHT or len(new.text) > MAX_HIGHLIGHT:
        return old, new
    a, b = TOKEN.findall(old.text[1:]), TOKEN.findall(new.text[1:])
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    if matcher.ratio() < ALIKE:
        return old, new
    was, now = [(old.text[0], False)], [(new.text[0], False)]
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        _add(was, "".join(a[a0:a1]), op != "equal")
        _add(now, "".join(b[b0:b1]), op != "equal")
    return replace(old, parts=tuple(was)), replace(new, parts=tuple(now))


def _add(parts: list[tuple[str, bool]], text: str, changed: bool) -> None:
    """Append, joining a part to the one before it when both are (un)changed alike."""
    if not text:
        return
    if parts and parts[-1][1] == changed:
        parts[-1] = (parts[-1][0] + text, changed)
    else:
        parts.append((text, changed))


def _owners(body: Mapping[str, Any], namespace: str) -> tuple[str, ...]:
    refs = (body.get("metadata") or {}).get("ownerReferences") or []
    return tuple(
        f"{r.get('kind')}/{namespace}/{r.get('name')}" for r in refs if isinstance(r, Mapping)
    )


def failing_first(objects: Iterable[ObjectView]) -> list[ObjectView]:
    """Errors, then changes, then the rest: the "why" sits at the top of the page."""
    return sorted(objects, key=lambda o: (not o.error, not o.changed, o.key))
