"""A preview as Markdown for a pull-request comment, and as JSON for tools.

The Markdown starts with one summary line (apps, objects by action, clusters, the
policy verdict), then a table of the touched apps and one collapsible ``<details>`` per
app holding its violations and object diffs. Forges cap comment size (GitHub: 65,536
characters), so diffs are added in order only while they fit ``max_chars``; whatever is
left out is named in a truncation note. The JSON carries everything, untruncated.
"""

from __future__ import annotations

from typing import Any

from gitward.model import Action
from gitward.model.policy import PolicyMode
from gitward.policy.report import violation_data
from gitward.preview.compare import AppPreview, ObjectDiff, Preview

MAX_CHARS = 60_000  # below GitHub's 65,536-character comment limit, room for a header
_ACTIONS = (Action.CREATE, Action.UPDATE, Action.REPLACE, Action.PRUNE)
_SIGN = {Action.CREATE: "+", Action.UPDATE: "~", Action.REPLACE: "±", Action.PRUNE: "-"}
_WORD = {
    Action.CREATE: "created",
    Action.UPDATE: "updated",
    Action.REPLACE: "replaced",
    Action.PRUNE: "deleted",
}


def summary_line(preview: Preview) -> str:
    objects = sum(len(a.objects) for a in preview.apps)
    counts = ", ".join(
        f"{n} {_WORD[action]}"
        for action in _ACTIONS
        if (n := sum(a.count(action) for a in preview.apps))
    )
    if not preview.apps:
        return f"no app changes between {preview.base[:12]} and {preview.head[:12]}"
    verdict = "policy: **denied**" if preview.failed else "policy: passed"
    clusters = ", ".join(f"`{c}`" for c in preview.clusters)
    return (
        f"{len(preview.apps)} app(s) change, {objects} object(s) ({counts or 'none'}) "
        f"on {clusters}; {verdict}"
    )


def to_markdown(preview: Preview, max_chars: int = MAX_CHARS) -> str:
    against = "live cluster (server-side dry-run)" if preview.mode == "live" else "base render"
    head = [
        f"### gitward preview: {summary_line(preview)}",
        "",
        f"`{preview.base[:12]}` → `{preview.head[:12]}`, head compared with the {against}; "
        f"{preview.unchanged} app(s) unchanged.",
        "",
    ]
    if preview.apps:
        head += ["| App | Cluster | Namespace | Objects | Policy |", "|---|---|---|---|---|"]
        head += [_row(a) for a in preview.apps]
        head.append("")
    note = (
        "\n> **Truncated:** {n} object diff(s) left out to keep this comment under "
        f"{max_chars} characters; run `gitward preview -o json` for all of them."
    )
    # Every app's frame and every object's title are always shown; diffs fill what is left.
    spare = max_chars - _size(head) - _size([_frame(a) for a in preview.apps]) - len(note) - 8
    shown: set[tuple[int, int]] = set()
    for i, app in enumerate(preview.apps):
        for j, obj in enumerate(app.objects):
            extra = len(_diff_block(obj)) - len(_title(obj))
            if extra <= spare:
                shown.add((i, j))
                spare -= extra
    body = [_section(i, app, shown) for i, app in enumerate(preview.apps)]
    omitted = sum(len(a.objects) for a in preview.apps) - len(shown)
    if omitted:
        body.append(note.format(n=omitted))
    text = "\n".join(head + body) + "\n"
    if len(text) > max_chars:  # so many apps that even the titles do not fit
        cut = "\n\n> **Truncated** at the size limit; run `gitward preview -o json`.\n"
        text = text[: max_chars - len(cut)] + cut
    return text


def _size(lines: list[str]) -> int:
    return sum(len(line) + 1 for line in lines)


def _row(app: AppPreview) -> str:
    counts = " ".join(f"{_SIGN[a]}{app.count(a)}" for a in _ACTIONS if app.count(a))
    return (
        f"| {_cell(app.app)} ({app.status}) | {_cell(app.cluster)} | {_cell(app.namespace)} "
        f"| {counts or '0'} | {_verdict(app)} |"
    )


def _verdict(app: AppPreview) -> str:
    if app.error is not None:
        return "❌ error"
    denied = sum(v.mode is PolicyMode.DENY for v in app.violations)
    warned = len(app.violations) - denied
    if denied:
        return f"❌ {denied} denied" + (f", {warned} warning(s)" if warned else "")
    return f"⚠️ {warned} warning(s)" if warned else "✅ passed"


def _title(obj: ObjectDiff) -> str:
    return f"**{obj.action.value}** `{obj.key}` (diff left out: size limit)\n"


def _diff_block(obj: ObjectDiff) -> str:
    return f"**{obj.action.value}** `{obj.key}`\n\n```diff\n{obj.diff.rstrip()}\n```\n"


def _frame(app: AppPreview) -> str:
    """The app's <details> block with every object's title and no diff."""
    return _section(-1, app, set())


def _section(index: int, app: AppPreview, shown: set[tuple[int, int]]) -> str:
    lines = [
        "<details>",
        f"<summary><b>{_html(app.app)}</b> → {_html(app.cluster)}/{_html(app.namespace)}: "
        f"{len(app.objects)} object(s), {_html(_verdict(app))}</summary>",
        "",
    ]
    if app.error is not None:
        lines += [f"**Error:** {_cell(app.error)}", ""]
    for v in app.violations:
        rule = f"{v.policy} {v.rule}"
        lines.append(f"- **{v.mode.value}** `{v.subject}`: {_cell(v.message)} ({_cell(rule)})")
    if app.violations:
        lines.append("")
    for j, obj in enumerate(app.objects):
        lines.append(_diff_block(obj) if (index, j) in shown else _title(obj))
    lines.append("</details>")
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_json(preview: Preview) -> dict[str, Any]:
    return {
        "repo": preview.repo,
        "base": preview.base,
        "head": preview.head,
        "mode": preview.mode,
        "result": "failed" if preview.failed else "passed",
        "summary": summary_line(preview).replace("**", ""),
        "clusters": list(preview.clusters),
        "unchangedApps": preview.unchanged,
        "apps": [
            {
                "name": a.app,
                "status": a.status,
                "cluster": a.cluster,
                "namespace": a.namespace,
                "error": a.error,
                "counts": {_WORD[act]: a.count(act) for act in _ACTIONS},
                "violations": [violation_data(v) for v in a.violations],
                "objects": [
                    {
                        "object": str(o.key),
                        "group": o.key.group,
                        "kind": o.key.kind,
                        "namespace": o.key.namespace,
                        "name": o.key.name,
                        "action": o.action.value,
                        "diff": o.diff,
                    }
                    for o in a.objects
                ],
            }
            for a in preview.apps
        ],
    }
