"""Commit status requests match each forge's published REST API (pure, no network)."""

from __future__ import annotations

import json

import pytest

from gitward.model.events import EventKind, SyncEvent
from gitward.notify.config import Receiver
from gitward.notify.payloads import describe, repo_path, request_for

SHA = "0123456789abcdef0123456789abcdef01234567"
# The state values each API accepts (GitHub "Create a commit status", GitLab "Set the
# pipeline status of a commit", Gitea "CreateStatusOption").
STATES = {
    "github": {"error", "failure", "pending", "success"},
    "gitlab": {"pending", "running", "success", "failed", "canceled", "skipped"},
    "gitea": {"pending", "success", "error", "failure", "warning"},
}


def event(kind: EventKind, url: str = "https://forge.example.com/team/deploy.git") -> SyncEvent:
    return SyncEvent("payments", kind, url, SHA, "x" * 300, "", 1, 0.0)


@pytest.mark.parametrize(
    ("kind", "url", "auth"),
    [
        ("github", f"https://api.github.com/repos/team/deploy/statuses/{SHA}", "Bearer tok"),
        (
            "gitlab",
            f"https://gitlab.example.com/api/v4/projects/team%2Fdeploy/statuses/{SHA}",
            "tok",
        ),
        (
            "gitea",
            f"https://gitea.example.com/api/v1/repos/team/deploy/statuses/{SHA}",
            "token tok",
        ),
    ],
)
def test_status_requests_follow_each_forge_api(kind: str, url: str, auth: str) -> None:
    base = url.split("/repos/", maxsplit=1)[0].split("/api/", maxsplit=1)[0]
    receiver = Receiver("s", kind, base, "tok")
    states = set()
    for each in EventKind:
        request = request_for(receiver, event(each), "id", 0.0)
        assert request is not None
        assert (request.method, request.url) == ("POST", url)
        header = "PRIVATE-TOKEN" if kind == "gitlab" else "Authorization"
        assert request.headers[header] == auth
        body = json.loads(request.body)
        assert body["name" if kind == "gitlab" else "context"] == "gitward/payments"
        assert len(body["description"]) <= 140
        states.add(body["state"])
        assert body["state"] in STATES[kind]
    assert "pending" in states
    assert "success" in states
    assert states & {"failure", "failed"}


def test_no_status_without_a_forge_repository() -> None:
    receiver = Receiver("s", "gitea", "https://gitea.example.com", "tok")
    assert request_for(receiver, event(EventKind.SUCCEEDED, "/srv/git/deploy"), "id", 0) is None


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("https://github.com/team/deploy.git", "team/deploy"),
        ("git@gitlab.example.com:group/sub/deploy.git", "group/sub/deploy"),
        ("ssh://git@gitea.example.com:2222/team/deploy", "team/deploy"),
        ("file:///srv/git/deploy", None),
        ("https://example.com/deploy", None),
    ],
)
def test_repository_paths(url: str, path: str | None) -> None:
    assert repo_path(url) == path


def test_descriptions_fit_github_limit() -> None:
    assert len(describe(event(EventKind.FAILED))) == 140
