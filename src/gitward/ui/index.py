"""The Applications list's index: rows kept sorted and indexed, updated per changed app.

Before: :mod:`gitward.ui.live` reports which apps changed. After: every list request and
every live message asks :meth:`ListIndex.select` for one page.

Why: at 10,000 apps, scanning every row for each request (five attribute compares, a
label set, the text search) and rebuilding every row after any change cost most of the
list page's time (cProfile: ``listing.matches`` 60 %, ``Pages.rows`` when apps changed).
Here each filter value maps to the set of names that have it, so a filtered request
intersects a few sets and searches the text of those rows only; each sort order is a
list computed once and kept until a changed row moves in it; the filter menus are
counters. An update touches only the rows that changed. Results are exactly those of
:func:`gitward.ui.listing.select` (tests/ui/test_list_index.py compares the two).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable
from typing import Any

from gitward.ui.listing import FILTERS, KEYED, SORTS, Page, Query, Row

LabelPair = tuple[str, str]


def sort_value(row: Row, sort: str) -> Any:
    if sort == "updated":
        return row.updated.timestamp() if row.updated else 0.0
    return getattr(row, sort)


class ListIndex:
    """Every row by name, inverted indexes per filter value and label, sort orders."""

    def __init__(self) -> None:
        self.rows: dict[str, Row] = {}
        self._by: dict[str, dict[str, set[str]]] = {f: {} for f in KEYED}
        self._labels: dict[LabelPair, set[str]] = {}
        self._counts: dict[str, Counter[str]] = {f: Counter() for f in KEYED}
        self._orders: dict[tuple[str, bool], tuple[list[str], dict[str, int]]] = {}
        self._menus: dict[str, tuple[str, ...]] | None = None

    # ------------------------------------------------------------------ updates

    def update(self, rows: Iterable[Row], removed: Iterable[str] = ()) -> None:
        """Put new or changed ``rows`` in, take ``removed`` names out."""
        for name in removed:
            old = self.rows.pop(name, None)
            if old is not None:
                self._unindex(old)
                self._forget_orders(old, None)
        for row in rows:
            old = self.rows.get(row.name)
            if old is row:
                continue
            if old is not None:
                self._unindex(old)
            self.rows[row.name] = row
            self._index(row)
            self._forget_orders(old, row)

    def _index(self, row: Row) -> None:
        for f in KEYED:
            value = getattr(row, f)
            self._by[f].setdefault(value, set()).add(row.name)
            self._counts[f][value] += 1
        for pair in row.labels:
            self._labels.setdefault(pair, set()).add(row.name)
        self._menus = None

    def _unindex(self, row: Row) -> None:
        for f in KEYED:
            value = getattr(row, f)
            self._by[f][value].discard(row.name)
            self._counts[f][value] -= 1
            if not self._counts[f][value]:
                del self._counts[f][value], self._by[f][value]
        for pair in row.labels:
            self._labels[pair].discard(row.name)
            if not self._labels[pair]:
                del self._labels[pair]
        self._menus = None

    def _forget_orders(self, old: Row | None, new: Row | None) -> None:
        """Drop the sort orders the change moves a row in (a new or gone row: all)."""
        for key in list(self._orders):
            sort = key[0]
            if old is None or new is None or sort_value(old, sort) != sort_value(new, sort):
                del self._orders[key]

    # ------------------------------------------------------------------ queries

    def menus(self) -> dict[str, tuple[str, ...]]:
        """The values each filter menu offers (as :func:`gitward.ui.listing.facets`)."""
        if self._menus is None:
            self._menus = {f: tuple(sorted(self._counts[f])) for f in FILTERS}
        return self._menus

    def order(self, sort: str, desc: bool) -> tuple[list[str], dict[str, int]]:
        """Names in the order of ``sort`` (ties by name, ascending either way); ranks."""
        key = (sort if sort in SORTS else "name", desc)
        if key not in self._orders:
            names = sorted(self.rows)
            value: Callable[[str], Any] = lambda n: sort_value(self.rows[n], key[0])  # noqa: E731
            names.sort(key=value, reverse=desc)
            self._orders[key] = (names, {n: i for i, n in enumerate(names)})
        return self._orders[key]

    def matching(self, q: Query, allowed: Collection[str] | None = None) -> set[str] | None:
        """Names passing every filter of ``q`` and in ``allowed``; None: every row."""
        found: set[str] | None = None
        sets = [self._by[f].get(getattr(q, f), set()) for f in KEYED if getattr(q, f)]
        sets += [self._labels.get(pair, set()) for pair in q.labels]
        for s in sorted(sets, key=len):
            found = set(s) if found is None else found & s
        if allowed is not None:
            found = set(allowed) if found is None else found & set(allowed)
        words = q.text.lower().split()
        if words:
            pool = self.rows.keys() if found is None else found
            rows = self.rows
            found = {n for n in pool if all(w in rows[n].search for w in words)}
        return found

    def select(self, q: Query, allowed: Collection[str] | None = None) -> Page:
        """The page of rows ``q`` asks for, among the names in ``allowed`` (None: all)."""
        found = self.matching(q, allowed)
        names, rank = self.order(q.sort, q.desc)
        start, end = (q.page - 1) * q.size, q.page * q.size
        if found is None:
            shown, total = names[start:end], len(names)
        elif len(found) * 8 < len(names):
            shown, total = sorted(found, key=rank.__getitem__)[start:end], len(found)
        else:
            shown, total = [n for n in names if n in found][start:end], len(found)
        return Page(tuple(self.rows[n] for n in shown), total, q, self.menus())
