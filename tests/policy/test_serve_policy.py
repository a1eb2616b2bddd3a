"""gitward serve with policies in the config repository: every sync is checked, a policy
commit takes effect at the next sync, warnings and denials reach history, API, metrics."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from gitward.devcluster import ClusterState
from gitward.kube.client import KubeClient
from gitward.model import ResourceKey
from gitward.reconcile.config import ConfigLocation
from gitward.serve import ServeSettings, Service
from tests.engine.conftest import GitRepo
from tests.policy import policies as p
from tests.serve.conftest import application
from tests.support.waiting import eventually, stopped

pytestmark = pytest.mark.cluster


@pytest.fixture
async def cluster(control_plane: ClusterState) -> Any:
    async with KubeClient.from_kubeconfig(control_plane.kubeconfig) as client:
        yield client


async def test_policies_from_the_config_repository_gate_every_sync(  # noqa: PLR0917
    control_plane: ClusterState,
    cluster: KubeClient,
    namespace: str,
    tmp_path: Path,
    opa_binary: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GITWARD_OPA", str(opa_binary))
    apps = GitRepo(tmp_path / "apps")
    apps.write(
        {
            "latest/web.yaml": p.deployment("web", "nginx:latest"),
            "unlabelled/api.yaml": p.deployment("api", "nginx:1.27", team=None),
        }
    )
    apps.commit()
    config = GitRepo(tmp_path / "config")
    denied, warned = f"latest-{namespace}", f"unlabelled-{namespace}"
    config.write(
        {
            "apps/latest.yaml": application(denied, apps, "latest", namespace),
            "apps/unlabelled.yaml": application(warned, apps, "unlabelled", namespace),
            "policies/no-latest.rego": p.NO_LATEST_REGO,
            "policies/team.rego": p.TEAM_LABEL_REGO,
        }
    )
    config.commit()
    service = Service(
        ServeSettings(
            config=ConfigLocation.parse(str(config.path), "apps", "main"),
            state_dir=tmp_path / "state",
            port=0,
            kubeconfig=control_plane.kubeconfig,
            poll_interval=3600,
            cache_dir=tmp_path / "cache",
            policy_path="policies",
        )
    )
    await service.start()
    assert service.token_path is not None
    token = service.token_path.read_text().strip()
    base = f"http://127.0.0.1:{service.port}"

    async def api(method: str, path: str) -> Any:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            response = await client.request(
                method, path, headers={"Authorization": f"Bearer {token}"}
            )
        return (
            response.json() if "json" in response.headers.get("content-type", "") else response.text
        )

    web = ResourceKey("apps", "Deployment", namespace, "web")
    api_key = ResourceKey("apps", "Deployment", namespace, "api")
    try:

        async def warned_synced() -> bool:
            return await cluster.get(api_key) is not None

        await eventually(warned_synced, what="the app with only a warning to be applied")
        history = await api("GET", f"/api/v1/applications/{warned}/history")

        async def recorded() -> bool:
            nonlocal history
            history = await api("GET", f"/api/v1/applications/{warned}/history")
            return bool(history["items"]) and history["items"][0]["result"] != "Running"

        await eventually(recorded, what="the warned sync's record")
        assert "Deployment api has no team label" in history["items"][0]["message"]

        async def refused() -> bool:
            app = await api("GET", f"/api/v1/applications/{denied}")
            return "uses the :latest tag" in str(app)

        await eventually(refused, what="the denied app's status to name the violation")
        assert await cluster.get(web) is None  # nothing of the denied app applied
        refusals = await api("GET", f"/api/v1/applications/{denied}/history")
        [refusal] = refusals["items"]
        assert refusal["result"] == "Failed"
        assert "refused by policy" in refusal["message"]
        assert "uses the :latest tag" in refusal["message"]
        metrics = await api("GET", "/metrics")
        assert (
            f'gitward_policy_violations_total{{app="{denied}",mode="deny",'
            'policy="kubernetes.images"}' in metrics
        )
        assert f'gitward_policy_violations_total{{app="{warned}",mode="warn"' in metrics

        config.remove("policies/no-latest.rego")
        config.commit("allow latest")
        await api("POST", f"/api/v1/applications/{denied}/sync")

        async def applied() -> bool:
            return await cluster.get(web) is not None

        await eventually(applied, what="the app to sync once the policy commit removed the rule")
    finally:
        await stopped(service)
