"""The sync engine against the real control plane and real Git repositories.

Each test commits manifests to a Git repository made for it, syncs them into its own
namespace with the library API, and checks the cluster itself afterwards.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import pytest

from gitward.errors import PathEscapeError, RenderError, UnknownKindError
from gitward.kube.client import KubeClient
from gitward.model import (
    Action,
    Change,
    HealthStatus,
    JsonObject,
    Outcome,
    Phase,
    ResourceKey,
    Step,
    SyncPolicy,
)
from gitward.model.annotations import APP_LABEL, TRACKING
from gitward.plan import EmptyDesiredStateError
from gitward.reconcile.pipeline import Engine, SyncOptions, SyncResult
from tests.engine.conftest import GitRepo, app

pytestmark = pytest.mark.cluster


def configmap(name: str, value: str, annotations: dict[str, str] | None = None) -> str:
    meta = f"name: {name}"
    if annotations:
        meta += (
            ", annotations: {" + ", ".join(f'"{k}": "{v}"' for k, v in annotations.items()) + "}"
        )
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{{meta}}}\ndata: {{value: '{value}'}}\n"


def outcomes(result: SyncResult) -> dict[str, Outcome]:
    return {c.key.name: c.outcome for c in result.changes.changes}


def cm_key(namespace: str, name: str) -> ResourceKey:
    return ResourceKey("", "ConfigMap", namespace, name)


async def test_create_then_no_op_without_requests_then_prune(
    repo: GitRepo, engine: Engine, cluster: KubeClient, namespace: str
) -> None:
    repo.write({"app/a.yaml": configmap("a", "1"), "app/b.yaml": configmap("b", "1")})
    repo.commit()
    spec = app(repo, "app", namespace, policy=SyncPolicy(prune=True))

    first = await engine.sync(spec, SyncOptions())
    assert outcomes(first) == {"a": Outcome.CREATED, "b": Outcome.CREATED}
    live = await cluster.get(cm_key(namespace, "a"))
    assert live is not None
    assert live["metadata"]["labels"][APP_LABEL] == spec.name
    assert live["metadata"]["annotations"][TRACKING] == f"{spec.name}:/ConfigMap:{namespace}/a"

    writes_before = cluster.requests["APPLY"] + cluster.requests["APPLY dry-run"]
    second = await engine.sync(spec, SyncOptions())
    assert outcomes(second) == {"a": Outcome.UNCHANGED, "b": Outcome.UNCHANGED}
    assert cluster.requests["APPLY"] + cluster.requests["APPLY dry-run"] == writes_before

    repo.remove("app/b.yaml")
    repo.commit("drop b")
    third = await engine.sync(spec, SyncOptions())
    assert outcomes(third) == {"a": Outcome.UNCHANGED, "b": Outcome.PRUNED}
    assert await cluster.get(cm_key(namespace, "b")) is None
    inventory = await engine.inventory.load(spec.name)
    assert cm_key(namespace, "b") not in inventory.entries


async def test_without_prune_removed_objects_are_kept_and_reported(
    repo: GitRepo, engine: Engine, cluster: KubeClient, namespace: str
) -> None:
    repo.write(
        {
            "app/a.yaml": configmap("a", "1"),
            "app/b.yaml": configmap("b", "1"),
            "app/c.yaml": configmap("c", "1", {"gitward.dev/sync-options": "Prune=false"}),
        }
    )
    repo.commit()
    spec = app(repo, "app", namespace, name="keep")
    await engine.sync(spec, SyncOptions())
    repo.remove("app/b.yaml")
    repo.remove("app/c.yaml")
    repo.commit()

    kept = await engine.sync(spec, SyncOptions())
    assert outcomes(kept)["b"] is Outcome.SKIPPED
    assert await cluster.get(cm_key(namespace, "b")) is not None

    pruned = await engine.sync(spec, SyncOptions(prune=True))
    assert outcomes(pruned)["b"] is Outcome.PRUNED
    assert outcomes(pruned)["c"] is Outcome.SKIPPED  # protected by Prune=false
    assert await cluster.get(cm_key(namespace, "c")) is not None


async def test_a_kept_object_deleted_by_hand_is_not_waited_for(
    repo: GitRepo, engine: Engine, cluster: KubeClient, namespace: str
) -> None:
    """Git dropped the Deployment ``b`` (never Ready: no node matches it) and pruning is
    off, so it is kept; a person then deletes it. The sync must not wait for it to come
    back (it never will) nor report the app Missing because of it."""
    repo.write({"app/a.yaml": configmap("a", "1"), "app/b.yaml": UNSCHEDULABLE})
    repo.commit()
    spec = app(repo, "app", namespace, name="kept-gone")
    await engine.sync(spec, SyncOptions(wait=False))
    repo.remove("app/b.yaml")
    repo.commit("drop b")
    options = SyncOptions(timeout=5)
    look = await engine.look(spec, options)
    assert outcomes_of(look.plan.steps)["b"] is Action.KEEP
    await cluster.delete(ResourceKey("apps", "Deployment", namespace, "b"))

    result = await engine.write(spec, options, look)

    assert not result.failed
    assert {k.name: h.status for k, h in result.health.items()} == {"a": HealthStatus.HEALTHY}


UNSCHEDULABLE = """apiVersion: apps/v1
kind: Deployment
metadata: {name: b}
spec:
  selector: {matchLabels: {app: b}}
  template:
    metadata: {labels: {app: b}}
    spec:
      nodeSelector: {disk: none-has-it}
      containers: [{name: b, image: busybox}]
"""


def outcomes_of(steps: Sequence[Step]) -> dict[str, Action]:
    return {s.key.name: s.action for s in steps}


async def test_an_empty_source_does_not_prune_everything(
    repo: GitRepo, engine: Engine, cluster: KubeClient, namespace: str
) -> None:
    repo.write({"app/a.yaml": configmap("a", "1")})
    repo.commit()
    spec = app(repo, "app", namespace, name="empty", policy=SyncPolicy(prune=True))
    await engine.sync(spec, SyncOptions())
    repo.remove("app/a.yaml")
    repo.write({"app/README.md": "nothing here\n"})
    repo.commit()

    with pytest.raises(EmptyDesiredStateError):
        await engine.sync(spec, SyncOptions())
    assert await cluster.get(cm_key(namespace, "a")) is not None

    allowed = dataclasses.replace(spec, sync_policy=SyncPolicy(prune=True, allow_empty=True))
    result = await engine.sync(allowed, SyncOptions())
    assert outcomes(result) == {"a": Outcome.PRUNED}


async def test_a_conflicting_manual_edit_is_reported_and_force_takes_over(
    repo: GitRepo, engine: Engine, cluster: KubeClient, namespace: str
) -> None:
    repo.write({"app/a.yaml": configmap("a", "from-git")})
    repo.commit()
    spec = app(repo, "app", namespace, name="conflict")
    await engine.sync(spec, SyncOptions())
    body = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "data": {"value": "by-hand"},
        "metadata": {"name": "a", "namespace": namespace},
    }
    await cluster.apply(body, field_manager="kubectl-edit", force=True)

    planned = await engine.look(spec, SyncOptions())
    assert [s.action for s in planned.plan.steps] == [Action.UPDATE]
    assert planned.conflicts[cm_key(namespace, "a")].managers == ("kubectl-edit",)

    result = await engine.sync(spec, SyncOptions())
    [change] = result.changes.changes
    assert change.outcome is Outcome.FAILED
    assert 'conflict with "kubectl-edit"' in change.message
    assert ".data.value" in change.message
    assert result.failed

    forced = await engine.sync(spec, SyncOptions(force_conflicts=True))
    assert outcomes(forced) == {"a": Outcome.CONFIGURED}
    live = await cluster.get(cm_key(namespace, "a"))
    assert live is not None
    assert live["data"] == {"value": "from-git"}


async def test_drift_by_another_manager_on_unowned_fields_shows_in_diff(
    repo: GitRepo, engine: Engine, cluster: KubeClient, namespace: str
) -> None:
    repo.write({"app/a.yaml": configmap("a", "1")})
    repo.commit()
    spec = app(repo, "app", namespace, name="drift")
    await engine.sync(spec, SyncOptions())
    await cluster.apply(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "a", "namespace": namespace, "labels": {"extra": "yes"}},
        },
        field_manager="someone",
    )

    planned = await engine.look(spec, SyncOptions())
    # A label added by someone else is not Git's business: still in sync.
    assert [s.action for s in planned.plan.steps] == [Action.UNCHANGED]


CRD = """apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.e2e.gitward.dev}
spec:
  group: e2e.gitward.dev
  names: {kind: Widget, plural: widgets, singular: widget}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec: {type: object, properties: {size: {type: integer}}}
"""


async def test_a_crd_and_its_custom_resources_in_one_sync(
    repo: GitRepo, engine: Engine, cluster: KubeClient, namespace: str
) -> None:
    repo.write(
        {
            "app/widget.yaml": "apiVersion: e2e.gitward.dev/v1\nkind: Widget\n"
            "metadata: {name: w1}\nspec: {size: 3}\n",
            "app/crd.yaml": CRD,
        }
    )
    repo.commit()
    spec = app(repo, "app", namespace, name="crd")

    result = await engine.sync(spec, SyncOptions())

    assert not result.failed, result.changes
    order = [c.key.kind for c in result.changes.changes]
    assert order.index("CustomResourceDefinition") < order.index("Widget")
    widget = await cluster.get(ResourceKey("e2e.gitward.dev", "Widget", namespace, "w1"))
    assert widget is not None
    assert widget["spec"] == {"size": 3}
    again = await engine.look(spec, SyncOptions(full_compare=True))
    assert again.plan.in_sync, [(s.key, s.changes) for s in again.plan.steps]


class Recorder:
    """Listens to the executor and notes the cluster's state when each wave starts."""

    def __init__(self, cluster: KubeClient, watch: ResourceKey) -> None:
        self.cluster = cluster
        self.watch = watch
        self.waves: list[tuple[Phase, int]] = []
        self.watched_at_wave: dict[int, JsonObject | None] = {}

    def wave_started(self, phase: Phase, wave: int, steps: Sequence[Step]) -> None:
        self.waves.append((phase, wave))

    def object_done(self, change: Change) -> None:
        pass

    async def wave_done(
        self, phase: Phase, wave: int, stored: dict[ResourceKey, JsonObject]
    ) -> None:
        self.watched_at_wave[wave] = await self.cluster.get(self.watch)


DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  annotations: {{"argocd.argoproj.io/sync-wave": "{wave}"}}
spec:
  replicas: 2
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers: [{{name: web, image: "nginx:1.27"}}]
"""


async def test_waves_run_in_order_and_wait_for_health(
    repo: GitRepo, engine: Engine, cluster: KubeClient, namespace: str
) -> None:
    repo.write(
        {
            "app/deploy.yaml": DEPLOYMENT.format(wave=-1),
            "app/late.yaml": configmap("late", "1", {"gitward.dev/sync-wave": "5"}),
        }
    )
    repo.commit()
    spec = app(repo, "app", namespace, name="waves")
    recorder = Recorder(cluster, ResourceKey("apps", "Deployment", namespace, "web"))

    result = await engine.sync(spec, SyncOptions(), recorder)

    assert not result.failed, result.changes
    assert recorder.waves == [(Phase.SYNC, -1), (Phase.SYNC, 5)]
    # The Deployment was available before wave 5 started, so the gate really waited.
    first_wave_change = next(c for c in result.changes.changes if c.key.name == "late")
    assert first_wave_change.outcome is Outcome.CREATED
    assert result.health[ResourceKey("apps", "Deployment", namespace, "web")].status is (
        HealthStatus.HEALTHY
    )


def job(
    name: str, hook: str | None = None, *, fail: bool = False, policy: str | None = None
) -> str:
    annotations = {}
    if hook:
        annotations["argocd.argoproj.io/hook"] = hook
    if policy:
        annotations["argocd.argoproj.io/hook-delete-policy"] = policy
    meta = f"name: {name}"
    if annotations:
        meta += (
            ", annotations: {" + ", ".join(f'"{k}": "{v}"' for k, v in annotations.items()) + "}"
        )
    # A pod that can never be scheduled fails the Job at its deadline.
    unschedulable = "nodeSelector: {nowhere: 'true'}" if fail else "nodeSelector: {}"
    deadline = "activeDeadlineSeconds: 2" if fail else "activeDeadlineSeconds: 600"
    return f"""apiVersion: batch/v1
kind: Job
metadata: {{{meta}}}
spec:
  backoffLimit: 0
  {deadline}
  template:
    spec:
      restartPolicy: Never
      {unschedulable}
      containers: [{{name: c, image: busybox}}]
"""


async def test_hooks_run_at_their_phase_and_are_cleaned_up(
    repo: GitRepo, engine: Engine, cluster: KubeClient, namespace: str
) -> None:
    repo.write(
        {
            "app/pre.yaml": job("migrate", "PreSync", policy="HookSucceeded"),
            "app/post.yaml": job("smoke", "PostSync"),
            "app/cm.yaml": configmap("config", "1"),
        }
    )
    repo.commit()
    spec = app(repo, "app", namespace, name="hooks")

    result = await engine.sync(spec, SyncOptions())

    assert not result.failed, result.changes
    by_name = {c.key.name: c for c in result.changes.changes}
    assert by_name["migrate"].outcome is Outcome.HOOK_SUCCEEDED
    assert by_name["migrate"].phase is Phase.PRE_SYNC
    assert by_name["smoke"].phase is Phase.POST_SYNC
    assert [c.key.name for c in result.changes.changes] == ["migrate", "config", "smoke"]
    assert await cluster.get(ResourceKey("batch", "Job", namespace, "migrate")) is None
    assert await cluster.get(ResourceKey("batch", "Job", namespace, "smoke")) is not None
    inventory = await engine.inventory.load(spec.name)
    assert {k.name for k in inventory.entries} == {"config"}  # hooks are not owned objects


async def test_a_failed_hook_fails_the_sync_and_runs_syncfail_hooks(
    repo: GitRepo, engine: Engine, cluster: KubeClient, namespace: str
) -> None:
    repo.write(
        {
            "app/pre.yaml": job("check", "PreSync", fail=True),
            "app/onfail.yaml": job("alert", "SyncFail"),
            "app/cm.yaml": configmap("config", "1"),
        }
    )
    repo.commit()
    spec = app(repo, "app", namespace, name="failhook")

    result = await engine.sync(spec, SyncOptions(timeout=60))

    assert result.failed
    by_name = {c.key.name: c for c in result.changes.changes}
    assert by_name["check"].outcome is Outcome.HOOK_FAILED
    assert by_name["alert"].outcome is Outcome.HOOK_SUCCEEDED
    assert "config" not in by_name  # the Sync phase never ran
    assert await cluster.get(cm_key(namespace, "config")) is None


async def test_immutable_change_is_explained_and_replace_recreates(
    repo: GitRepo, engine: Engine, cluster: KubeClient, namespace: str
) -> None:
    repo.write({"app/job.yaml": job("batch")})
    repo.commit()
    spec = app(repo, "app", namespace, name="immutable")
    await engine.sync(spec, SyncOptions())
    old = await cluster.get(ResourceKey("batch", "Job", namespace, "batch"))
    assert old is not None
    repo.write({"app/job.yaml": job("batch").replace("image: busybox", "image: busybox:2")})
    repo.commit()

    failed = await engine.sync(spec, SyncOptions())
    [change] = failed.changes.changes
    assert change.outcome is Outcome.FAILED
    assert "immutable" in change.message
    assert "Replace" in change.message

    replaced_spec = dataclasses.replace(
        spec, sync_policy=SyncPolicy(options=(("Replace", "true"),))
    )
    replaced = await engine.sync(replaced_spec, SyncOptions())
    assert outcomes(replaced) == {"batch": Outcome.REPLACED}
    new = await cluster.get(ResourceKey("batch", "Job", namespace, "batch"))
    assert new is not None
    assert new["metadata"]["uid"] != old["metadata"]["uid"]


class CrashAfterFirstWave(Recorder):
    async def wave_done(
        self, phase: Phase, wave: int, stored: dict[ResourceKey, JsonObject]
    ) -> None:
        raise KeyboardInterrupt  # the process dies here, after wave 0 was recorded


async def test_an_interrupted_sync_is_completed_by_the_next_run(
    repo: GitRepo, engine: Engine, cluster: KubeClient, namespace: str
) -> None:
    repo.write(
        {
            "app/first.yaml": configmap("first", "1", {"gitward.dev/sync-wave": "0"}),
            "app/second.yaml": configmap("second", "1", {"gitward.dev/sync-wave": "1"}),
        }
    )
    repo.commit()
    spec = app(repo, "app", namespace, name="resume")
    crash = CrashAfterFirstWave(cluster, cm_key(namespace, "first"))

    with pytest.raises(KeyboardInterrupt):
        await engine.sync(spec, SyncOptions(), crash)
    assert await cluster.get(cm_key(namespace, "second")) is None

    result = await engine.sync(spec, SyncOptions())
    assert outcomes(result) == {"first": Outcome.UNCHANGED, "second": Outcome.CREATED}
    inventory = await engine.inventory.load(spec.name)
    assert {k.name for k in inventory.entries} == {"first", "second"}


async def test_unknown_kinds_name_their_file(repo: GitRepo, engine: Engine, namespace: str) -> None:
    repo.write(
        {"app/odd.yaml": "apiVersion: nowhere.example.com/v1\nkind: Gizmo\nmetadata: {name: g}\n"}
    )
    repo.commit()
    with pytest.raises(UnknownKindError) as error:
        await engine.sync(app(repo, "app", namespace, name="odd"), SyncOptions())
    assert "app/odd.yaml" in str(error.value)


async def test_malformed_yaml_names_file_and_line(
    repo: GitRepo, engine: Engine, namespace: str
) -> None:
    repo.write({"app/bad.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [unclosed\n"})
    repo.commit()
    with pytest.raises(RenderError) as error:
        await engine.sync(app(repo, "app", namespace, name="bad"), SyncOptions())
    assert "app/bad.yaml:" in str(error.value)
    assert ":4" in str(error.value) or ":5" in str(error.value)


async def test_a_symlink_leaving_the_repository_is_refused(
    repo: GitRepo, engine: Engine, namespace: str
) -> None:
    repo.write({"app/ok.yaml": configmap("ok", "1")})
    (repo.path / "app" / "passwd.yaml").symlink_to("/etc/passwd")
    repo.commit()
    with pytest.raises(PathEscapeError) as error:
        await engine.sync(app(repo, "app", namespace, name="escape"), SyncOptions())
    assert "outside the repository" in str(error.value)


async def test_namespaces_are_bound_and_created_on_request(
    repo: GitRepo, engine: Engine, cluster: KubeClient, namespace: str
) -> None:
    target = f"{namespace}-made"
    repo.write({"app/a.yaml": configmap("a", "1")})
    repo.commit()
    spec = app(
        repo, "app", target, name="newns", policy=SyncPolicy(options=(("CreateNamespace", "true"),))
    )
    try:
        result = await engine.sync(spec, SyncOptions())
        assert not result.failed, result.changes
        assert await cluster.get(cm_key(target, "a")) is not None
    finally:
        await cluster.delete(ResourceKey("", "Namespace", "", target))


BAD_SERVICE = """apiVersion: v1
kind: Service
metadata: {name: broken}
spec:
  ports: [{port: 99999}]
"""


async def test_one_failing_object_keeps_the_record_of_the_others(
    repo: GitRepo, engine: Engine, cluster: KubeClient, namespace: str
) -> None:
    repo.write(
        {
            "app/a.yaml": configmap("a", "1"),
            "app/b.yaml": configmap("b", "1"),
            "app/svc.yaml": BAD_SERVICE,
        }
    )
    repo.commit()
    spec = app(repo, "app", namespace, name="partial")

    result = await engine.sync(spec, SyncOptions())

    assert result.failed
    by_name = {c.key.name: c for c in result.changes.changes}
    assert by_name["broken"].outcome is Outcome.FAILED
    assert "99999" in by_name["broken"].message or "port" in by_name["broken"].message
    assert by_name["a"].outcome is Outcome.CREATED
    inventory = await engine.inventory.load(spec.name)
    assert {k.name for k in inventory.entries} == {"a", "b"}

    repo.write({"app/svc.yaml": BAD_SERVICE.replace("99999", "80")})
    repo.commit("fix the port")
    fixed = await engine.sync(spec, SyncOptions())
    assert outcomes(fixed) == {
        "a": Outcome.UNCHANGED,
        "b": Outcome.UNCHANGED,
        "broken": Outcome.CREATED,
    }


async def test_a_look_dry_runs_only_what_it_is_asked_to_compare_once_synced(
    repo: GitRepo, engine: Engine, cluster: KubeClient, namespace: str
) -> None:
    """The UI's object drawer looks at one object: after a sync, that object is dry-run
    and the others, left as gitward applied them, are not (one request, not N)."""
    repo.write({f"app/{n}.yaml": configmap(n, "1") for n in ("a", "b", "c")})
    repo.commit()
    spec = app(repo, "app", namespace, name="compare")
    assert not (await engine.sync(spec, SyncOptions())).failed
    dry_runs: list[str] = []
    real_apply = cluster.apply

    async def counting_apply(body: JsonObject, **kwargs: Any) -> JsonObject:
        if kwargs.get("dry_run"):
            dry_runs.append(body["metadata"]["name"])
        return await real_apply(body, **kwargs)

    cluster.apply = counting_apply  # type: ignore[method-assign]
    try:
        fast = await engine.look(spec, SyncOptions())
        after_fast = list(dry_runs)
        one = await engine.look(spec, SyncOptions(compare=frozenset({cm_key(namespace, "b")})))
        after_one = dry_runs[len(after_fast) :]
        full = await engine.look(spec, SyncOptions(full_compare=True))
        after_full = dry_runs[len(after_fast) + len(after_one) :]
    finally:
        del cluster.apply
    assert (after_fast, after_one, sorted(after_full)) == ([], ["b"], ["a", "b", "c"])
    assert [fast.plan.in_sync, one.plan.in_sync, full.plan.in_sync] == [True, True, True]
