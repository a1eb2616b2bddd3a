"""Within-line highlights of the UI's diffs (pure: every diff view uses ``diff_lines``).

A value edited in place shows as a removed and an added line; the words that changed
are marked on both, the rest of the line is not. Lines that have little in common, or
a removed line without an added one, get no marks.
"""

from __future__ import annotations

import base64

from gitward.model import ResourceKey
from gitward.plan.diff import unified_diff
from gitward.plan.normalize import normalize_pair
from gitward.ui.details import diff_lines


def marked(text: str) -> list[tuple[str, list[str]]]:
    return [(line.kind, [p for p, changed in line.parts if changed]) for line in diff_lines(text)]


def test_a_value_edited_in_place_marks_the_changed_words_on_both_lines() -> None:
    text = "@@ -1,2 +1,2 @@\n data:\n-  image: nginx:1.25.3\n+  image: nginx:1.27.0\n"
    assert marked(text) == [
        ("hunk", []),
        ("ctx", []),
        ("del", ["25", "3"]),
        ("add", ["27", "0"]),
    ]
    [*_, old, new] = diff_lines(text)
    assert "".join(p for p, _ in old.parts) == old.text  # nothing lost or reordered
    assert "".join(p for p, _ in new.parts) == new.text


def test_runs_pair_line_by_line_and_unlike_or_unpaired_lines_get_no_marks() -> None:
    text = "-  a: one\n-  b: two\n-  c: three\n+  a: uno\n+  zzzzzzzzzzzzzzzzzz\n"
    assert marked(text) == [
        ("del", ["one"]),
        ("del", []),  # unlike its partner: replaced, not edited
        ("del", []),  # no partner
        ("add", ["uno"]),
        ("add", []),
    ]


def secret(value: str) -> dict[str, object]:
    encoded = base64.b64encode(value.encode()).decode()
    meta = {"name": "creds", "namespace": "ns"}
    return {"apiVersion": "v1", "kind": "Secret", "metadata": meta, "data": {"pw": encoded}}


def test_a_changed_secret_marks_only_mask_characters() -> None:
    key = ResourceKey("", "Secret", "ns", "creds")
    desired, live = normalize_pair(key, secret("new-value-1"), secret("old-value-2"), [])
    lines = diff_lines(unified_diff(live, desired, str(key)))
    shown = "".join(line.text + "".join(p for p, _ in line.parts) for line in lines)
    assert "value" not in shown
    assert base64.b64encode(b"new-value-1").decode() not in shown
    changed = [p for line in lines for p, is_changed in line.parts if is_changed]
    assert changed
    assert set("".join(changed)) == {"+"}
