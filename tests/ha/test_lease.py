"""Replica Leases as values: liveness, names, what a replica does with its own."""

from __future__ import annotations

import pytest

from gitward.ha import lease
from gitward.ha.lease import LeaseRecord, Step

NOW = 1_800_000_000.0


def held(
    holder: str, renewed: float, duration: float = 15.0, name: str | None = None
) -> LeaseRecord:
    return LeaseRecord(name or lease.lease_name(holder), holder, duration, renewed, renewed, 0, "7")


def test_a_lease_is_live_until_renew_time_plus_duration() -> None:
    record = held("r1", NOW - 10)
    assert record.live(NOW)
    assert not record.live(NOW + 5)
    assert not record.live(NOW + 6)


def test_members_are_holders_of_their_own_live_lease() -> None:
    leases = [
        held("r1", NOW - 1),
        held("r2", NOW - 20),  # expired
        held("mallory", NOW - 1, name=lease.lease_name("r3")),  # r3's Lease, edited by hand
        LeaseRecord(lease.lease_name("r4"), "", 15, NOW),  # released
    ]
    assert lease.live_members(leases, NOW) == {"r1"}


def test_next_expiry_is_the_earliest_live_lease_end() -> None:
    leases = [held("r1", NOW - 1), held("r2", NOW - 5), held("r3", NOW - 30)]
    assert lease.next_expiry(leases, NOW) == NOW - 5 + 15


@pytest.mark.parametrize(
    ("current", "step"),
    [
        (None, Step.CREATE),
        (held("me", NOW - 1), Step.RENEW),
        (held("other", NOW - 1, name=lease.lease_name("me")), Step.WAIT),
        (held("other", NOW - 16, name=lease.lease_name("me")), Step.TAKE),
        (LeaseRecord(lease.lease_name("me"), "", 15, NOW), Step.TAKE),
    ],
)
def test_plan(current: LeaseRecord | None, step: Step) -> None:
    assert lease.plan(current, "me", NOW) is step


def test_the_written_lease_reads_back_and_is_conditional_on_its_version() -> None:
    current = held("me", NOW - 5)
    body = lease.body("gitward-system", "me", 15, NOW, current)
    assert body["metadata"]["resourceVersion"] == "7"
    assert "gitward" in body["metadata"]["name"]
    back = lease.parse(body)
    assert back.holder == "me"
    assert back.renew_time == pytest.approx(NOW, abs=1e-6)
    assert back.acquire_time == pytest.approx(NOW - 5, abs=1e-6)  # renewal keeps it


def test_taking_over_counts_a_transition() -> None:
    stale = held("old", NOW - 100, name=lease.lease_name("me"))
    assert lease.body("ns", "me", 15, NOW, stale)["spec"]["leaseTransitions"] == 1


@pytest.mark.parametrize("replica", ["Host_01.example", "a" * 300, "gitward-0"])
def test_lease_names_are_dns_names_and_distinct(replica: str) -> None:
    name = lease.lease_name(replica)
    assert len(name) <= 253
    assert name == name.lower()
    assert name.startswith("gitward-replica-")
    assert lease.lease_name(replica.upper() + "x") != name
