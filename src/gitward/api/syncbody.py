"""The body of ``POST /api/v1/applications/{name}/sync``, and the UI's sync form, read
into a :class:`~gitward.model.syncrequest.SyncRequest` and checked against the app.

An empty body is a plain sync (the app's policy). A body that names an object the app
does not have is refused whole, naming it: nothing is queued from bad input.
"""

from __future__ import annotations

import orjson

from gitward.errors import ConfigError
from gitward.model.syncrequest import SyncRequest, request_from_body, unknown_objects
from gitward.ports import AppsView

EXAMPLE = '{"prune": false, "force": true, "resources": ["ConfigMap demo/settings"]}'


def parse_sync_body(raw: bytes) -> SyncRequest:
    """The request in ``raw`` (JSON; empty: the default request)."""
    if not raw.strip():
        return SyncRequest()
    try:
        return request_from_body(orjson.loads(raw))
    except orjson.JSONDecodeError as e:
        raise ConfigError(f"the sync body is not JSON: {e}", hint=f"send e.g. {EXAMPLE}") from e
    except ValueError as e:
        raise ConfigError(f"the sync body is invalid: {e}", hint=f"send e.g. {EXAMPLE}") from e


def check_objects(apps: AppsView, app: str, request: SyncRequest) -> None:
    """Refuse a subset naming objects ``app`` has neither in Git (as last looked) nor
    in the cluster from an earlier sync (waiting to be pruned)."""
    if not request.only:
        return
    known = apps.objects(app)
    if known is None:
        raise ConfigError(
            f"the objects of {app} are not known here yet: no look at its commit has "
            "finished on this replica (with --ha, only the replica that owns an app looks "
            "at it)",
            hint="refresh the app, wait for its status, then sync the objects again; with "
            "several replicas, sync every object, or send the request to the app's owner",
        )
    unknown = unknown_objects(request, known)
    if unknown:
        names = ", ".join(repr(str(k)) for k in unknown)
        raise ConfigError(
            f"{app} has no object {names}, in Git or waiting to be pruned, so it cannot sync it",
            hint="name objects as the app's Resources list them, e.g. 'ConfigMap demo/a'",
        )
