"""Sync wave, hook, delete policy and option annotations: gitward's, Argo CD's, Helm's."""

from __future__ import annotations

from typing import Any

import pytest

from gitward.model import HookDeletePolicy, Phase
from gitward.plan.errors import InvalidAnnotationError
from gitward.plan.sync_annotations import (
    compare_options,
    delete_protected,
    hook_spec,
    ignore_extraneous,
    prune_protected,
    sync_options,
    sync_wave,
)


def obj(**annotations: str) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "migrate", "namespace": "shop", "annotations": annotations},
    }


def ann(pairs: dict[str, str]) -> dict[str, Any]:
    return obj(**pairs)


@pytest.mark.parametrize(
    ("annotations", "wave"),
    [
        ({}, 0),
        ({"gitward.dev/sync-wave": "3"}, 3),
        ({"argocd.argoproj.io/sync-wave": "-2"}, -2),
        ({"gitward.dev/sync-wave": "1", "argocd.argoproj.io/sync-wave": "9"}, 1),
        ({"gitward.dev/sync-wave": " 7 "}, 7),
        ({"helm.sh/hook": "pre-install", "helm.sh/hook-weight": "-5"}, -5),
        ({"helm.sh/hook-weight": "4"}, 0),  # the weight counts only on Helm hooks
        (
            {
                "helm.sh/hook": "pre-install",
                "helm.sh/hook-weight": "4",
                "gitward.dev/sync-wave": "1",
            },
            1,
        ),
    ],
)
def test_sync_wave(annotations: dict[str, str], wave: int) -> None:
    assert sync_wave(ann(annotations)) == wave


@pytest.mark.parametrize("value", ["one", "1.5", "", "--1"])
def test_invalid_sync_wave_names_the_object(value: str) -> None:
    with pytest.raises(InvalidAnnotationError, match=r"Job\.batch shop/migrate.*sync-wave"):
        sync_wave(ann({"argocd.argoproj.io/sync-wave": value}))


@pytest.mark.parametrize(
    ("annotations", "phases"),
    [
        ({"gitward.dev/hook": "PreSync"}, (Phase.PRE_SYNC,)),
        ({"argocd.argoproj.io/hook": "PostSync,PreSync"}, (Phase.PRE_SYNC, Phase.POST_SYNC)),
        ({"argocd.argoproj.io/hook": "SyncFail"}, (Phase.SYNC_FAIL,)),
        ({"argocd.argoproj.io/hook": "sync"}, (Phase.SYNC,)),
        ({"helm.sh/hook": "pre-install,pre-upgrade"}, (Phase.PRE_SYNC,)),
        ({"helm.sh/hook": "post-install"}, (Phase.POST_SYNC,)),
        ({"helm.sh/hook": "pre-install,post-upgrade"}, (Phase.PRE_SYNC, Phase.POST_SYNC)),
        ({"helm.sh/hook": "test"}, ()),
        ({"helm.sh/hook": "pre-delete"}, ()),
        ({"argocd.argoproj.io/hook": "Skip"}, ()),
        ({"gitward.dev/hook": "Sync", "helm.sh/hook": "post-install"}, (Phase.SYNC,)),
    ],
)
def test_hook_phases(annotations: dict[str, str], phases: tuple[Phase, ...]) -> None:
    spec = hook_spec(ann(annotations))
    assert spec is not None
    assert spec.phases == phases
    assert bool(spec.not_run_reason) == (not phases)


def test_an_ordinary_object_is_no_hook() -> None:
    assert hook_spec(ann({"gitward.dev/sync-wave": "1"})) is None


@pytest.mark.parametrize(
    "annotations",
    [{"gitward.dev/hook": "PreSink"}, {"helm.sh/hook": "pre-instal"}],
)
def test_invalid_hook(annotations: dict[str, str]) -> None:
    with pytest.raises(InvalidAnnotationError, match="migrate"):
        hook_spec(ann(annotations))


@pytest.mark.parametrize(
    ("annotations", "policies"),
    [
        ({"gitward.dev/hook": "PreSync"}, (HookDeletePolicy.BEFORE_HOOK_CREATION,)),
        (
            {
                "gitward.dev/hook": "PreSync",
                "argocd.argoproj.io/hook-delete-policy": "HookSucceeded,HookFailed",
            },
            (HookDeletePolicy.HOOK_SUCCEEDED, HookDeletePolicy.HOOK_FAILED),
        ),
        (
            {"helm.sh/hook": "pre-install", "helm.sh/hook-delete-policy": "hook-succeeded"},
            (HookDeletePolicy.HOOK_SUCCEEDED,),
        ),
        (
            {"helm.sh/hook": "pre-install", "helm.sh/hook-delete-policy": "before-hook-creation"},
            (HookDeletePolicy.BEFORE_HOOK_CREATION,),
        ),
    ],
)
def test_hook_delete_policies(
    annotations: dict[str, str], policies: tuple[HookDeletePolicy, ...]
) -> None:
    spec = hook_spec(ann(annotations))
    assert spec is not None
    assert spec.delete_policies == policies


def test_invalid_delete_policy() -> None:
    with pytest.raises(InvalidAnnotationError, match="hook-delete-policy"):
        hook_spec(ann({"gitward.dev/hook": "Sync", "gitward.dev/hook-delete-policy": "Never"}))


def test_sync_options_merge_with_gitward_winning() -> None:
    o = ann(
        {
            "argocd.argoproj.io/sync-options": "Prune=false, Replace=true",
            "gitward.dev/sync-options": "Prune=true",
        }
    )
    assert sync_options(o) == {"Prune": "true", "Replace": "true"}
    assert not prune_protected(o)


@pytest.mark.parametrize(
    ("annotations", "prune", "delete", "extraneous"),
    [
        ({}, False, False, False),
        ({"gitward.dev/sync-options": "Prune=false"}, True, False, False),
        ({"argocd.argoproj.io/sync-options": "Delete=false,Prune=false"}, True, True, False),
        ({"argocd.argoproj.io/compare-options": "IgnoreExtraneous"}, False, False, True),
    ],
)
def test_protections(
    annotations: dict[str, str], prune: bool, delete: bool, extraneous: bool
) -> None:
    o = ann(annotations)
    assert (prune_protected(o), delete_protected(o), ignore_extraneous(o)) == (
        prune,
        delete,
        extraneous,
    )


def test_compare_options_bare_word_is_true() -> None:
    assert compare_options(ann({"gitward.dev/compare-options": "IgnoreExtraneous"})) == {
        "IgnoreExtraneous": "true"
    }
