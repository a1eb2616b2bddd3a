"""A person's sync options: read from a body, checked, written to history, and turned
into the engine's options for that run only (pure parts; the cluster tests are in
tests/api/test_api_sync_options.py and tests/ui/test_sync_options.py)."""

from __future__ import annotations

import pytest

from gitward.model import AppSpec, ResourceKey
from gitward.model.history import Trigger
from gitward.model.syncrequest import SyncRequest, parse_key, request_from_body
from gitward.reconcile.runoptions import after_narrowed, look_options, write_options
from gitward.spec import parse_application

WEB = ResourceKey("apps", "Deployment", "demo", "web")
NS = ResourceKey("", "Namespace", "", "demo")


@pytest.mark.parametrize("key", [WEB, NS, ResourceKey("", "ConfigMap", "demo", "a.b")])
def test_an_object_reads_back_from_its_printed_form(key: ResourceKey) -> None:
    assert parse_key(str(key)) == key


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ([], "JSON object"),
        ({"prune": "no"}, "'prune'"),
        ({"force": 1}, "'force'"),
        ({"resources": "ConfigMap demo/a"}, '"resources"'),
        ({"resources": ["web"]}, "'web'"),
        ({"everything": True}, "'everything'"),
    ],
)
def test_a_bad_body_is_refused_naming_the_field(body: object, named: str) -> None:
    with pytest.raises(ValueError, match=named):
        request_from_body(body)


def test_a_request_round_trips_through_the_store_text_and_describes_itself() -> None:
    request = request_from_body({"prune": False, "resources": [str(WEB), str(NS), str(WEB)]})
    assert request.only == (WEB, NS)  # sorted as printed, without repeats
    assert SyncRequest.decode(request.encode()) == request
    assert request.describe() == f"prune off, only {', '.join(str(k) for k in request.only)}"
    assert SyncRequest().encode() == ""
    assert SyncRequest.decode("") == SyncRequest()


def app(automated: bool) -> AppSpec:
    policy = {"automated": {"prune": True}} if automated else {}
    return parse_application(
        {
            "apiVersion": "gitward.dev/v1alpha1",
            "kind": "Application",
            "metadata": {"name": "a"},
            "spec": {
                "source": {"repoURL": "https://example.com/r.git", "path": "p"},
                "destination": {"namespace": "demo"},
                "syncPolicy": policy,
            },
        }
    )


@pytest.mark.parametrize("automated", [True, False])
def test_without_options_a_manual_sync_forces_and_prunes_as_the_policy_says(
    automated: bool,
) -> None:
    spec = app(automated)
    written = write_options(spec, Trigger.MANUAL, None, 30.0)
    assert (written.prune, written.force_conflicts, written.only) == (None, True, frozenset())
    looked = look_options(spec, None)
    assert (looked.prune, looked.force_conflicts) == (None, automated)


def test_options_override_the_policy_for_the_look_and_the_write_alike() -> None:
    spec = app(automated=True)
    request = SyncRequest(prune=False, force=False, only=(WEB,))
    for options in (look_options(spec, request), write_options(spec, Trigger.MANUAL, request, 1)):
        assert (options.prune, options.force_conflicts, options.only) == (
            False,
            False,
            frozenset({WEB}),
        )


def test_a_narrowed_sync_is_followed_by_a_look_that_never_syncs() -> None:
    narrowed = after_narrowed(None, True, SyncRequest(only=(WEB,)))
    assert narrowed is not None
    assert (narrowed.after, narrowed.trigger) == (0.0, Trigger.HEALTH)
    assert after_narrowed(None, True, SyncRequest(prune=False)) == narrowed
    assert after_narrowed(None, True, SyncRequest(force=True)) is None  # nothing left out
    assert after_narrowed(None, False, SyncRequest(only=(WEB,))) is None  # it failed
