"""Pull-request previews (pure, no I/O): what a change between two commits does.

Before: the rendered objects of every app at the base and the head commit (the same
rendering ``gitward validate`` does), or head against live through the engine's
server-side dry-run plan, and head's policy verdict. After: ``gitward preview`` prints
the result as Markdown for a pull-request comment or as JSON.

:mod:`.compare` pairs objects and diffs them with secrets masked; :mod:`.output` turns
the result into Markdown (bounded in size) and JSON.
"""

from gitward.preview.compare import (
    AppPreview,
    ObjectDiff,
    Preview,
    compare_renders,
    diff_from_plan,
)
from gitward.preview.output import to_json, to_markdown

__all__ = [
    "AppPreview",
    "ObjectDiff",
    "Preview",
    "compare_renders",
    "diff_from_plan",
    "to_json",
    "to_markdown",
]
