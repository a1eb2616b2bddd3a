"""The inventory's own namespace under a long-lived engine (as ``gitward serve`` keeps
one per cluster): deleted by hand, it is created again at the next write."""

from __future__ import annotations

import secrets

import pytest

from gitward.apply.inventory import Entry, Inventory, InventoryStore
from gitward.kube.client import KubeClient
from gitward.model import ResourceKey
from tests.support.waiting import eventually

pytestmark = pytest.mark.cluster


async def test_an_inventory_namespace_deleted_by_hand_is_created_again(
    cluster: KubeClient,
) -> None:
    name = f"t-inventory-{secrets.token_hex(4)}"
    store = InventoryStore(cluster, name)
    namespace = ResourceKey("", "Namespace", "", name)
    first = Inventory("web").with_entries({ResourceKey("", "ConfigMap", "a", "one"): Entry("v1")})
    second = first.with_entries({ResourceKey("", "ConfigMap", "a", "two"): Entry("v1")})
    try:
        await store.save(first)
        await cluster.delete(namespace)  # a person cleans up gitward's namespace
        await eventually(
            lambda: cluster.get(namespace), lambda live: live is None, what=f"{name} deleted"
        )

        await store.save(second, first)

        assert (await store.load("web")).keys() == second.keys()
    finally:
        await cluster.delete(namespace)
