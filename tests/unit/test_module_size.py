"""Every module in src stays readable in one sitting: at most ~400 lines.

STYLE.md habit 8. A module over the limit is split by verb or by kind, not exempted;
the only exemptions are modules whose split is under way in issue 12, each capped at its
size when the guard was written so that it cannot grow meanwhile.
"""

from __future__ import annotations

from pathlib import Path

LIMIT = 400
SRC = Path(__file__).resolve().parents[2] / "src" / "gitward"

# module -> lines it had when exempted; delete the entry when the module is split.
PENDING_SPLIT: dict[str, int] = {}


def module_sizes() -> dict[str, int]:
    return {
        str(path.relative_to(SRC)): len(path.read_text().splitlines())
        for path in sorted(SRC.rglob("*.py"))
    }


def test_no_module_exceeds_the_limit() -> None:
    over = {
        name: lines
        for name, lines in module_sizes().items()
        if lines > LIMIT and lines > PENDING_SPLIT.get(name, 0)
    }
    listed = ", ".join(f"src/gitward/{name} ({lines})" for name, lines in over.items())
    assert not over, f"modules over {LIMIT} lines (split them by verb or by kind): {listed}"


def test_exemptions_are_removed_once_the_split_is_done() -> None:
    sizes = module_sizes()
    stale = [name for name in PENDING_SPLIT if sizes.get(name, 0) <= LIMIT]
    assert not stale, (
        f"{', '.join(stale)} no longer exceed {LIMIT} lines (or are gone): "
        "remove them from PENDING_SPLIT in tests/unit/test_module_size.py"
    )
