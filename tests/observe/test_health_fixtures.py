"""Every fixture under fixtures/ is one object as the API server returns it.

The file name says the kind and the expected status (``deployment-degraded-deadline``);
the first line, ``# message: ...``, text that the health message must contain (a
double-quoted YAML string when it needs escapes).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from gitward.model import HealthStatus
from gitward.observe.health import health_of

FIXTURES = Path(__file__).parent / "fixtures"
STATUSES = {s.value.lower(): s for s in HealthStatus}


def load(path: Path) -> tuple[dict[str, Any], HealthStatus, str]:
    text = path.read_text()
    first = text.splitlines()[0]
    assert first.startswith("# message:"), f"{path.name}: first line must be '# message: ...'"
    raw = first.removeprefix("# message:").strip()
    quoted = raw.startswith('"')
    message = str(yaml.load(raw, Loader=yaml.CSafeLoader)) if quoted else raw
    status = STATUSES[path.stem.split("-")[1]]
    obj = yaml.load(text, Loader=yaml.CSafeLoader)
    return obj, status, message


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.yaml")), ids=lambda p: p.stem)
def test_fixture(path: Path) -> None:
    obj, status, message = load(path)
    health = health_of(obj)
    assert health.status is status, health.message
    assert message, f"{path.name}: every health carries a message"
    assert message.lower() in health.message.lower()


def test_every_builtin_check_has_fixtures() -> None:
    kinds = {p.stem.split("-")[0] for p in FIXTURES.glob("*.yaml")}
    expected = {
        "deployment", "statefulset", "daemonset", "replicaset", "pod", "persistentvolumeclaim",
        "service", "namespace", "job", "cronjob", "ingress", "customresourcedefinition",
        "apiservice",
    }  # fmt: skip
    assert expected <= kinds


@pytest.mark.parametrize(
    ("obj", "status"),
    [
        ({}, HealthStatus.HEALTHY),
        ({"apiVersion": "v1", "kind": "Secret", "data": {}}, HealthStatus.HEALTHY),
        ({"apiVersion": "apps/v1", "kind": "Deployment"}, HealthStatus.PROGRESSING),
        ({"apiVersion": "v1", "kind": "Pod"}, HealthStatus.UNKNOWN),
        (
            {"apiVersion": "x.io/v1", "kind": "Thing", "status": {"phase": "Failed"}},
            HealthStatus.DEGRADED,
        ),
        (
            {
                "apiVersion": "x.io/v1",
                "kind": "Thing",
                "metadata": {"deletionTimestamp": "t"},
                "status": {},
            },
            HealthStatus.PROGRESSING,
        ),
        (
            {
                "apiVersion": "x.io/v1",
                "kind": "Thing",
                "status": {"conditions": [{"type": "Available", "status": "False"}]},
            },
            HealthStatus.DEGRADED,
        ),
        # A custom kind named like a built-in one is checked generically, not as a Pod.
        ({"apiVersion": "example.com/v1", "kind": "Pod", "status": {}}, HealthStatus.HEALTHY),
    ],
)
def test_sparse_objects(obj: dict[str, Any], status: HealthStatus) -> None:
    health = health_of(obj)
    assert health.status is status
    assert health.message
