"""Hooks named by the server (``metadata.generateName``), as Argo CD's examples use them.

Argo CD's ``sync-waves`` and ``helm-hooks`` examples declare their hook Jobs with
``generateName``. gitward refused them ("GitOps cannot track"); now a hook may use it:
it is created anew (POST) on every sync, never compared, never in the inventory, and
cleaned by its delete policy. ``BeforeHookCreation`` (the default) deletes the Jobs of
earlier syncs, found by the hook-id label gitward sets.
"""

from __future__ import annotations

import pytest

from gitward.kube.client import KubeClient
from gitward.model import Action, Outcome, Phase, ResourceKey
from gitward.model.annotations import APP_LABEL, HOOK_ID_LABEL
from gitward.reconcile.pipeline import Engine, SyncOptions
from tests.engine.conftest import GitRepo, app

pytestmark = pytest.mark.cluster


def hook_job(generate_name: str, phase: str = "PreSync", policy: str | None = None) -> str:
    annotations = f'"argocd.argoproj.io/hook": "{phase}"'
    if policy:
        annotations += f', "argocd.argoproj.io/hook-delete-policy": "{policy}"'
    return f"""apiVersion: batch/v1
kind: Job
metadata: {{generateName: {generate_name}, annotations: {{{annotations}}}}}
spec:
  backoffLimit: 0
  activeDeadlineSeconds: 600
  template:
    spec:
      restartPolicy: Never
      containers: [{{name: c, image: busybox}}]
"""


CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: config}\ndata: {v: '1'}\n"


async def jobs_of(cluster: KubeClient, namespace: str, app_name: str) -> list[str]:
    found = await cluster.list(
        "batch", "Job", namespace=namespace, labels=f"{APP_LABEL}={app_name}"
    )
    return sorted(
        obj["metadata"]["name"] for obj in found if "deletionTimestamp" not in obj["metadata"]
    )


async def test_a_generate_name_hook_runs_on_every_sync_and_replaces_its_last_run(
    repo: GitRepo, engine: Engine, cluster: KubeClient, namespace: str
) -> None:
    repo.write({"app/migrate.yaml": hook_job("upgrade-sql-schema-"), "app/cm.yaml": CONFIGMAP})
    repo.commit()
    spec = app(repo, "app", namespace, name="genhook")

    first = await engine.sync(spec, SyncOptions())
    assert not first.failed, first.changes
    (run1,) = [c for c in first.changes.changes if c.key.kind == "Job"]
    assert run1.outcome is Outcome.HOOK_SUCCEEDED
    assert run1.phase is Phase.PRE_SYNC
    assert run1.key.name.startswith("upgrade-sql-schema-")
    assert not run1.key.generated  # the change names the Job the server created
    assert await jobs_of(cluster, namespace, spec.name) == [run1.key.name]

    second = await engine.sync(spec, SyncOptions())  # same commit: the hook runs again
    (run2,) = [c for c in second.changes.changes if c.key.kind == "Job"]
    assert run2.outcome is Outcome.HOOK_SUCCEEDED
    assert run2.key.name != run1.key.name
    # BeforeHookCreation (the default) deleted the first run before creating the second.
    assert await jobs_of(cluster, namespace, spec.name) == [run2.key.name]
    live = await cluster.get(run2.key)
    assert live is not None
    assert HOOK_ID_LABEL in live["metadata"]["labels"]

    inventory = await engine.inventory.load(spec.name)
    assert {k.name for k in inventory.entries} == {"config"}  # hooks are not owned objects
    assert [s.action for s in second.plan.steps if s.key.kind == "Job"] == [Action.HOOK]


async def test_a_generate_name_hook_with_hook_succeeded_leaves_nothing_behind(
    repo: GitRepo, engine: Engine, cluster: KubeClient, namespace: str
) -> None:
    repo.write(
        {
            "app/before.yaml": hook_job("before-", policy="HookSucceeded"),
            "app/after.yaml": hook_job("after-", phase="PostSync", policy="HookSucceeded"),
            "app/cm.yaml": CONFIGMAP,
        }
    )
    repo.commit()
    spec = app(repo, "app", namespace, name="genclean")

    result = await engine.sync(spec, SyncOptions())

    assert not result.failed, result.changes
    before, config, after = result.changes.changes
    assert before.key.name.startswith("before-")
    assert before.phase is Phase.PRE_SYNC
    assert config.key.name == "config"
    assert after.key.name.startswith("after-")
    assert after.phase is Phase.POST_SYNC
    assert all(c.outcome is not Outcome.FAILED for c in result.changes.changes)
    assert await jobs_of(cluster, namespace, spec.name) == []
    assert await cluster.get(ResourceKey("", "ConfigMap", namespace, "config")) is not None


async def test_the_plan_never_compares_a_generate_name_hook(
    repo: GitRepo, engine: Engine, namespace: str
) -> None:
    repo.write({"app/migrate.yaml": hook_job("migrate-"), "app/cm.yaml": CONFIGMAP})
    repo.commit()
    spec = app(repo, "app", namespace, name="genplan")
    await engine.sync(spec, SyncOptions())

    planned = await engine.look(spec, SyncOptions())

    (step,) = [s for s in planned.plan.steps if s.key.kind == "Job"]
    assert step.action is Action.HOOK
    assert step.key.name == "migrate-*"
    assert step.key.generated
    assert step.live is None
    assert step.changes == ()
    assert planned.plan.prunes == []  # the earlier run is never a prune candidate
