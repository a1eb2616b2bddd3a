"""The list's index gives exactly the pages a full scan gives, before and after changes.

No browser: :class:`gitward.ui.index.ListIndex` replaces the scan of every row per
request (``listing.select``) for speed, so it is checked against that scan over random
apps, random queries and random updates, including removed apps and a viewer who may
see only some apps.
"""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, datetime, timedelta

import pytest

from gitward.model import AppSpec, Destination, Health, HealthStatus, SourceSpec
from gitward.model.history import AppStatus, SyncState
from gitward.ui import listing
from gitward.ui.index import ListIndex

T0 = datetime(2026, 11, 30, tzinfo=UTC)


def make_row(rng: random.Random, name: str) -> listing.Row:
    spec = AppSpec(
        name=name,
        source=SourceSpec(repo_url=f"https://git.example/r{rng.randrange(3)}.git", path="p"),
        destination=Destination(namespace=f"ns-{rng.randrange(4)}"),
        project=f"team-{rng.randrange(3)}",
        labels=tuple(sorted({("tier", rng.choice(["web", "db"])), ("team", rng.choice("ab"))})),
    )
    status = AppStatus(
        name,
        rng.choice(list(SyncState)),
        Health(rng.choice([HealthStatus.HEALTHY, HealthStatus.DEGRADED]), rng.choice(["", "oom"])),
        live_sha=f"{rng.randrange(16**8):08x}",
        updated_at=rng.choice([None, T0 + timedelta(seconds=rng.randrange(5))]),
    )
    return listing.row(spec, status)


def random_query(rng: random.Random) -> listing.Query:
    params = {
        "q": rng.choice(["", "", "app-1", "oom", "team-1 web", "r2.git", "nothing-matches"]),
        "sync": rng.choice(["", "", "Synced", "OutOfSync"]),
        "health": rng.choice(["", "", "Degraded"]),
        "project": rng.choice(["", "team-0", "team-2"]),
        "namespace": rng.choice(["", "", "ns-1"]),
        "app": rng.choice(["", "", "", "app-1", "app-7"]),
        "labels": rng.choice(["", "", "tier=web", "team=a,tier=db"]),
        "sort": rng.choice(listing.SORTS),
        "desc": rng.choice(["", "1"]),
        "page": rng.choice(["1", "1", "2", "3"]),
        "size": rng.choice(["25", "50"]),
    }
    return listing.Query.parse(params)


def names(page: listing.Page) -> list[str]:
    return [r.name for r in page.rows]


@pytest.mark.parametrize("seed", range(5))
def test_the_index_pages_equal_a_full_scan_through_updates(seed: int) -> None:
    rng = random.Random(seed)  # noqa: S311 - reproducible test data
    rows = {f"app-{i}": make_row(rng, f"app-{i}") for i in range(300)}
    index = ListIndex()
    index.update(rows.values())
    for step in range(40):
        allowed = None if step % 3 else set(rng.sample(sorted(rows), 120))
        for _ in range(10):
            q = random_query(rng)
            pool = [r for r in rows.values() if allowed is None or r.name in allowed]
            expected = listing.select(pool, q)
            got = index.select(q, allowed)
            assert (names(got), got.total) == (names(expected), expected.total), q
        assert index.menus() == listing.facets(rows.values())
        changed = [make_row(rng, n) for n in rng.sample(sorted(rows), 15)]
        changed += [make_row(rng, f"new-{step}-{i}") for i in range(2)]
        removed = set(rng.sample(sorted(rows), 3))
        rows.update({r.name: r for r in changed})
        for name in removed:
            rows.pop(name, None)
        index.update([r for r in changed if r.name not in removed], removed)


def test_an_unchanged_row_keeps_the_sort_orders() -> None:
    rng = random.Random(7)  # noqa: S311 - reproducible test data
    rows = [make_row(rng, f"app-{i}") for i in range(50)]
    index = ListIndex()
    index.update(rows)
    before = index.order("sync", desc=False)
    index.update([dataclasses.replace(rows[0], message="another message")])
    assert index.order("sync", desc=False) is before  # no re-sort for a message change
    index.update([dataclasses.replace(rows[0], sync="Zzz")])
    assert index.order("sync", desc=False)[0][-1] == rows[0].name
