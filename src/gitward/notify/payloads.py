"""Each receiver's HTTP request for one event (pure: no I/O, easy to check).

Commit statuses follow each forge's published REST API:

- GitHub: ``POST {api}/repos/{owner}/{repo}/statuses/{sha}``, ``Authorization: Bearer``,
  ``state`` in pending/success/failure/error, ``context``, ``description`` (at most 140
  characters), ``target_url``.
- GitLab: ``POST {url}/api/v4/projects/{url-encoded path}/statuses/{sha}``,
  ``PRIVATE-TOKEN``, ``state`` in pending/running/success/failed/canceled, ``name``.
- Gitea: ``POST {url}/api/v1/repos/{owner}/{repo}/statuses/{sha}``,
  ``Authorization: token``, ``state`` in pending/success/error/failure/warning, ``context``.

The context is ``gitward/<app>``, so each app of a commit has its own status line.

Generic webhooks carry a JSON body and ``X-Gitward-Signature: sha256=<hex>``, the
HMAC-SHA256 of ``<timestamp>.<raw body>`` keyed with the shared secret, with the
timestamp in ``X-Gitward-Timestamp``: a receiver recomputes it, compares in constant
time and rejects old timestamps (replays). See docs/notifications.md.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

import orjson

from gitward.model.events import EventKind, SyncEvent
from gitward.notify.config import Receiver

_STATE = {
    EventKind.STARTED: "pending",
    EventKind.SUCCEEDED: "success",
    EventKind.FAILED: "failure",
    EventKind.DEGRADED: "failure",
    EventKind.DRIFT: "failure",
}
_GITLAB_STATE = {**_STATE, EventKind.FAILED: "failed", EventKind.DEGRADED: "failed"}
_GITLAB_STATE[EventKind.DRIFT] = "failed"
_WORDS = {
    EventKind.STARTED: "sync started",
    EventKind.SUCCEEDED: "synced",
    EventKind.FAILED: "sync failed",
    EventKind.DEGRADED: "synced, but Degraded",
    EventKind.DRIFT: "drift found: the cluster differs from Git",
}
_ICON = {
    EventKind.STARTED: ":hourglass_flowing_sand:",
    EventKind.SUCCEEDED: ":white_check_mark:",
    EventKind.FAILED: ":x:",
    EventKind.DEGRADED: ":warning:",
    EventKind.DRIFT: ":mag:",
}


@dataclass(frozen=True)
class Request:
    method: str
    url: str = field(repr=False)  # may carry a secret (Slack)
    headers: dict[str, str] = field(repr=False)  # may carry a token
    body: bytes = field(repr=False)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` over ``<timestamp>.<body>``: what a receiver recomputes."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def describe(event: SyncEvent) -> str:
    text = _WORDS[event.kind] + (f": {event.message}" if event.message else "")
    return text if len(text) <= 140 else text[:139] + "…"


def request_for(
    receiver: Receiver, event: SyncEvent, delivery_id: str, now: float
) -> Request | None:
    """The request, or ``None`` when the event says nothing this receiver can post
    (a status needs a commit and a repository on that forge). ``now`` (epoch seconds)
    is the signature's timestamp: each attempt is signed afresh."""
    if receiver.kind == "webhook":
        return _webhook(receiver, event, delivery_id, now)
    if receiver.kind == "slack":
        return _json("POST", receiver.url, {"text": slack_text(event)}, {})
    repo = repo_path(event.repo_url)
    if not event.sha or repo is None:
        return None
    body: dict[str, Any] = {"description": describe(event), "context": f"gitward/{event.app}"}
    if receiver.kind == "github":
        body["state"] = _STATE[event.kind]
        headers = {
            "Authorization": f"Bearer {receiver.secret}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
        }
        return _json("POST", f"{receiver.url}/repos/{repo}/statuses/{event.sha}", body, headers)
    if receiver.kind == "gitlab":
        body = {"state": _GITLAB_STATE[event.kind], "name": body.pop("context"), **body}
        project = quote(repo, safe="")
        url = f"{receiver.url}/api/v4/projects/{project}/statuses/{event.sha}"
        return _json("POST", url, body, {"PRIVATE-TOKEN": receiver.secret})
    body["state"] = _STATE[event.kind]
    url = f"{receiver.url}/api/v1/repos/{repo}/statuses/{event.sha}"
    return _json("POST", url, body, {"Authorization": f"token {receiver.secret}"})


def event_data(event: SyncEvent) -> dict[str, Any]:
    return {
        "app": event.app,
        "event": event.kind.value,
        "repoURL": event.repo_url,
        "revision": event.sha,
        "message": event.message,
        "health": event.health,
        "syncId": event.sync_id,
        "timestamp": event.at,
    }


def slack_text(event: SyncEvent) -> str:
    short = event.sha[:12] or "?"
    return f"{_ICON[event.kind]} *{event.app}* {describe(event)} (`{short}`)"


def repo_path(repo_url: str) -> str | None:
    """``owner/name`` (or a GitLab group path) from an http(s) or ssh repository URL."""
    if repo_url.startswith("git@") and ":" in repo_url:
        path = repo_url.split(":", 1)[1]
    else:
        parts = urlsplit(repo_url)
        if parts.scheme not in ("http", "https", "ssh"):
            return None
        path = parts.path
    path = path.strip("/").removesuffix(".git")
    return path if "/" in path else None


def _webhook(receiver: Receiver, event: SyncEvent, delivery_id: str, now: float) -> Request:
    body = orjson.dumps(event_data(event))
    timestamp = str(int(now))
    headers = {
        "Content-Type": "application/json",
        "X-Gitward-Event": event.kind.value,
        "X-Gitward-Delivery": delivery_id,
        "X-Gitward-Timestamp": timestamp,
    }
    if receiver.secret:
        headers["X-Gitward-Signature"] = sign(receiver.secret, timestamp, body)
    return Request("POST", receiver.url, headers, body)


def _json(method: str, url: str, body: dict[str, Any], headers: dict[str, str]) -> Request:
    return Request(method, url, {"Content-Type": "application/json", **headers}, orjson.dumps(body))
