"""The policy stage of the pipeline: a denial stops the sync before anything is read
from or written to the cluster's objects."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from gitward import compose
from gitward.errors import PolicyError
from gitward.kube.client import KubeClient
from gitward.model import AppSpec, Resource, ResourceKey
from gitward.model.policy import PolicyMode, Verdict, Violation
from gitward.ports import PolicyCheck
from gitward.reconcile.pipeline import SyncOptions
from tests.engine.conftest import GitRepo, app

pytestmark = pytest.mark.cluster


class NoLatestTags:
    """A policy in the shape of gitward.policy's checker: deny, or only warn."""

    def __init__(self, mode: PolicyMode) -> None:
        self.mode = mode

    def check(self, app: AppSpec, resources: Sequence[Resource]) -> Verdict:
        return Verdict.of(
            Violation(r.key, "images", "no_latest", "the image tag is latest", self.mode)
            for r in resources
            if ":latest" in str(r.body.get("data"))
        )


@pytest.mark.parametrize("mode", [PolicyMode.DENY, PolicyMode.WARN])
async def test_a_denying_policy_refuses_the_sync_and_a_warning_does_not(
    repo: GitRepo, cluster: KubeClient, namespace: str, tmp_path: Path, mode: PolicyMode
) -> None:
    repo.write(
        {
            "app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: images}\n"
            "data: {web: 'nginx:latest'}\n"
        }
    )
    repo.commit()
    policy: PolicyCheck = NoLatestTags(mode)
    settings = compose.Settings(cache_dir=tmp_path / "cache")
    engine = compose.engine(settings, cluster, policy=policy)
    spec = app(repo, "app", namespace, name=f"policy-{mode}")
    key = ResourceKey("", "ConfigMap", namespace, "images")

    if mode is PolicyMode.DENY:
        with pytest.raises(PolicyError, match="no_latest") as refused:
            await engine.sync(spec, SyncOptions(wait=False))
        assert not refused.value.transient  # the controller reports it once, no retries
        assert await cluster.get(key) is None
    else:
        result = await engine.sync(spec, SyncOptions(wait=False))
        assert not result.failed
        assert await cluster.get(key) is not None
