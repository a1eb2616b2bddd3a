"""``kill -9`` of ``gitward serve`` at random points of a sync, twenty times in a row.

Each round commits a new revision (objects added, changed and removed across three
waves), asks serve to refresh, waits a seeded random delay and kills the process with
SIGKILL; then starts it again on the same state. After every restart, what a user
relies on must hold:

- every sync in the history is complete (Succeeded) or Interrupted — none Running, none
  half-written — and the revision of the round is synced after the restart;
- the cluster converges: exactly the ConfigMaps of the revision, with its values;
- nothing is orphaned: an object applied by any sync, killed or not, is pruned once Git
  no longer has it, and the inventory lists exactly what Git wants.

Set ``GITWARD_FAULT_SEED`` to replay another sequence of kill points.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lightkube import Client
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import ConfigMap, Namespace

from gitward.apply.inventory import decode
from tests.engine.conftest import GitRepo
from tests.faults.conftest import Plane
from tests.serve.conftest import application
from tests.support.serve_process import ServeProcess
from tests.support.waiting import eventually_sync

ROUNDS = 20
NAMESPACE = "killed"
APP = "kill9"
POOL = 45  # possible ConfigMaps; each revision holds a random subset
SEED = int(os.environ.get("GITWARD_FAULT_SEED", "20261130"))


def revision(rng: random.Random, round_no: int) -> dict[str, str]:
    """Manifests of one revision: a random subset of ConfigMaps in three waves."""
    names = sorted(rng.sample(range(POOL), k=rng.randint(15, 40)))
    return {
        f"cm-{n}": (
            "apiVersion: v1\nkind: ConfigMap\n"
            f"metadata: {{name: cm-{n}, annotations: {{gitward.dev/sync-wave: '{n % 3}'}}}}\n"
            f"data: {{round: 'r{round_no}'}}\n"
        )
        for n in names
    }


def write_revision(repo: GitRepo, files: dict[str, str]) -> str:
    for old in (repo.path / "app").glob("*.yaml"):
        old.unlink()
    repo.write({f"app/{name}.yaml": text for name, text in files.items()})
    return repo.commit("next revision")


def configmaps(kube: Client) -> dict[str, str]:
    return {
        str(cm.metadata.name): str((cm.data or {}).get("round"))
        for cm in kube.list(ConfigMap, namespace=NAMESPACE)
        if cm.metadata is not None
    }


def inventory(kube: Client) -> set[str]:
    stored = kube.get(ConfigMap, f"gitward-inventory-{APP}", namespace="gitward-system")
    text = next(iter((stored.data or {}).values()))
    return {key.name for key in decode(APP, text).entries}


@pytest.fixture
def serve(tmp_path: Path, own_control_plane: Plane) -> Iterator[ServeProcess]:
    config = tmp_path / "config"
    config.mkdir()
    process = ServeProcess(tmp_path, own_control_plane.kubeconfig, config)
    yield process
    process.stop()


def converged(serve: ServeProcess, sha: str) -> dict[str, Any]:
    def look() -> dict[str, Any]:
        app: dict[str, Any] = serve.get(f"/api/v1/applications/{APP}")
        return app

    return eventually_sync(
        look,
        lambda a: a["syncState"] == "Synced" and a["revision"]["live"] == sha,
        what=f"{APP} to be synced at {sha[:8]} after the restart",
        timeout=120,
    )


@pytest.mark.timeout(1800)  # 20 restarts of serve: ~4 min alone here, more under load
def test_kill_9_at_random_points_of_a_sync_loses_nothing(
    own_control_plane: Plane, serve: ServeProcess, repo: GitRepo, tmp_path: Path
) -> None:
    rng = random.Random(SEED)  # noqa: S311 - reproducible kill points, not secrets
    kube = own_control_plane.admin
    kube.create(Namespace(metadata=ObjectMeta(name=NAMESPACE)))
    files = revision(rng, 0)
    sha = write_revision(repo, files)
    (tmp_path / "config" / "app.yaml").write_text(application(APP, repo, "app", NAMESPACE))
    serve.start()
    converged(serve, sha)
    interrupted = 0

    for round_no in range(1, ROUNDS + 1):
        files = revision(rng, round_no)
        sha = write_revision(repo, files)
        assert serve.request("POST", f"/api/v1/applications/{APP}/refresh").status_code == 202
        if round_no % 2:  # aim inside the sync: start the clock once it is recorded Running
            serve.wait(
                f"/api/v1/applications/{APP}/history",
                lambda h, sha=sha: h["items"][0]["sha"] == sha,  # type: ignore[misc]
                timeout=120,
            )
        delay = rng.uniform(0.0, 0.6 if round_no % 2 else 1.5)
        time.sleep(delay)  # picks the kill point; nothing is asserted from waiting
        serve.kill()

        serve.start()
        converged(serve, sha)
        context = f"round {round_no} (seed {SEED}, killed after {delay:.2f}s)"
        history = serve.get(f"/api/v1/applications/{APP}/history?limit=200")["items"]
        results = [h["result"] for h in history]
        assert set(results) <= {"Succeeded", "Interrupted"}, context
        assert history[0]["result"] == "Succeeded", context
        assert all(h["finishedAt"] for h in history), context
        interrupted = results.count("Interrupted")

        wanted = dict.fromkeys(files, f"r{round_no}")
        assert configmaps(kube) == wanted, context  # nothing orphaned, nothing missing
        assert inventory(kube) == set(wanted), context

    # How many kills landed inside a sync depends on the machine's speed (a loaded run
    # here: 2 to 5 of 20); the assertions above hold for every kill point.
    print(f"{interrupted} of {ROUNDS} kills landed inside a sync (seed {SEED})")
