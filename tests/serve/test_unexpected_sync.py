"""A bug inside a sync ends its history row Failed, with the cause, never Running.

A row left Running would read as a sync still in flight in the API, the UI and
``gitward app history``, and a restart would call it interrupted. The fault is injected
into the real inventory store of the running service (an exception no handler
expects); everything else is real: the cluster, Git, the store and the HTTP API.
"""

from __future__ import annotations

from typing import Any

import pytest

from gitward.apply.inventory import Inventory
from gitward.model import AppSpec, Destination, SourceSpec
from tests.engine.conftest import GitRepo
from tests.serve.conftest import Serve, application
from tests.serve.test_controller import configmap, synced, web
from tests.support.waiting import eventually

pytestmark = pytest.mark.cluster


async def test_a_bug_in_a_sync_ends_its_history_row_failed_and_the_app_recovers(
    serve: Serve, repo: GitRepo, namespace: str
) -> None:
    name = web(namespace)
    repo.write({"app/cm.yaml": configmap("settings", "v1")})
    repo.commit()
    running = await serve({"app.yaml": application(name, repo, "app", namespace)})
    await running.wait_app(name, synced)
    spec = AppSpec(name, SourceSpec(str(repo.path), "app"), Destination(namespace=namespace))
    inventories = running.service.engine_for(spec).inventory
    real_save = inventories.save

    async def buggy_save(inventory: Inventory, previous: Inventory | None = None) -> None:
        raise RuntimeError("an index out of range in the inventory code")

    inventories.save = buggy_save  # type: ignore[method-assign]
    repo.write({"app/more.yaml": configmap("more", "v1")})  # the inventory must change
    repo.commit("add one")
    assert (await running.api("POST", f"/api/v1/applications/{name}/sync"))[0] == 202

    def failed(rows: list[dict[str, Any]]) -> bool:
        return bool(rows) and rows[0]["trigger"] == "manual" and rows[0]["result"] == "Failed"

    async def history() -> list[dict[str, Any]]:
        answer = (await running.api("GET", f"/api/v1/applications/{name}/history"))[1]
        items: list[dict[str, Any]] = answer["items"]
        return items

    rows = await eventually(history, failed, what="the manual sync's row to end Failed")
    assert "RuntimeError, a bug" in rows[0]["message"]
    assert "index out of range" not in rows[0]["message"]  # the traceback is for the log
    assert all(r["result"] != "Running" for r in rows)

    inventories.save = real_save  # type: ignore[method-assign]  # the bug fixed: retried
    head = repo.git("rev-parse", "HEAD")
    await running.wait_app(name, lambda a: synced(a) and a["revision"]["live"] == head)
