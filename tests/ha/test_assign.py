"""Rendezvous hashing: every replica agrees, and a change of members moves only its share."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from gitward.ha.assign import assignment, owner

apps = st.lists(st.text(min_size=1, max_size=20), min_size=1, max_size=60, unique=True)
replicas = st.lists(
    st.text(alphabet="abcdefghijklmnop-0123456789", min_size=1, max_size=12),
    min_size=2,
    max_size=6,
    unique=True,
)


@given(apps, replicas)
def test_the_owner_does_not_depend_on_the_order_replicas_are_listed(
    names: list[str], members: list[str]
) -> None:
    for app in names:
        assert owner(app, members) == owner(app, list(reversed(members)))
        assert owner(app, members) in members


@given(apps, replicas)
def test_a_replica_leaving_moves_only_the_apps_it_owned(
    names: list[str], members: list[str]
) -> None:
    before = assignment(names, members)
    gone = members[0]
    after = assignment(names, members[1:])
    moved = {a for a in names if before[a] != after[a]}
    assert moved == {a for a in names if before[a] == gone}


@given(apps, replicas, st.text(alphabet="xyz", min_size=1, max_size=5))
def test_a_replica_joining_takes_apps_only_for_itself(
    names: list[str], members: list[str], newcomer: str
) -> None:
    before = assignment(names, members)
    after = assignment(names, [*members, newcomer])
    assert all(after[a] in (before[a], newcomer) for a in names)


def test_no_replica_no_owner() -> None:
    assert owner("web", []) is None
    assert assignment(["web"], []) == {}


def test_apps_spread_roughly_evenly_over_three_replicas() -> None:
    shares = list(assignment([f"app-{i}" for i in range(3000)], ["r1", "r2", "r3"]).values())
    counts = sorted(shares.count(r) for r in ("r1", "r2", "r3"))
    assert counts[0] > 850, counts  # 1000 each ± 15%
    assert counts[-1] < 1150, counts
