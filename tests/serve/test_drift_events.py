"""Which watch events are drift: judged by the fields gitward owns, not by who wrote last."""

from __future__ import annotations

import pytest

from gitward.kube.client import KubeClient
from tests.engine.conftest import GitRepo
from tests.serve.conftest import Running, Serve, application
from tests.serve.test_controller import configmap, edit_by_hand, synced, wait_value, web

pytestmark = pytest.mark.cluster


def drift_events(running: Running, app: str) -> float:
    value = running.service.metrics.registry.get_sample_value(
        "gitward_drift_events_total", {"app": app}
    )
    return value or 0.0


async def test_another_controller_adding_its_own_fields_is_not_drift(
    serve: Serve, repo: GitRepo, cluster: KubeClient, namespace: str
) -> None:
    """Like kube-controller-manager's revision annotation on a Deployment: a write by
    another manager that takes no field from gitward. It used to count as drift (and
    to start a self-heal look) whenever it was the latest write to the second."""
    repo.write({"app/cm.yaml": configmap("settings", "from-git")})
    repo.commit()
    running = await serve({"app.yaml": application(web(namespace), repo, "app", namespace)})
    await running.wait_app(web(namespace), synced)
    note = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "settings",
            "namespace": namespace,
            "annotations": {"example.com/seen-by": "another-controller"},
        },
    }
    await cluster.apply(note, field_manager="another-controller")

    # Then a real manual edit: its event comes after the annotation's (one watch per
    # kind delivers in order), so once it is healed both were judged.
    await edit_by_hand(cluster, namespace)
    await wait_value(cluster, namespace, "from-git")
    await running.wait_app(
        web(namespace), lambda a: a["lastOperation"]["trigger"] == "selfheal" and synced(a)
    )

    assert drift_events(running, web(namespace)) == 1.0
