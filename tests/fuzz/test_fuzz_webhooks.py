"""Fuzzing webhooks: signatures, headers and payloads of the four providers.

:func:`verify` must answer every request with nothing or a WebhookAuthError, and
:func:`parse_push` every verified body with push events or a WebhookPayloadError,
whatever the headers (names in any case, duplicated, non-ASCII) and the JSON (the real
payloads of ``tests/api/payloads`` with fields replaced at random, or anything at all).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gitward.api.errors import WebhookAuthError, WebhookPayloadError
from gitward.api.repo_urls import normalize_repo_url
from gitward.api.webhooks import Provider, detect_provider, parse_push, verify
from tests.fuzz.budget import within
from tests.fuzz.strategies import json_values, mutate

FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PAYLOADS = Path(__file__).parents[1] / "api" / "payloads"
SECRET = b"fuzzing-secret"
EVENTS = {
    Provider.GITHUB: ("X-GitHub-Event", "push", "github_push.json"),
    Provider.GITEA: ("X-Gitea-Event", "push", "gitea_push.json"),
    Provider.GITLAB: ("X-Gitlab-Event", "Push Hook", "gitlab_push.json"),
    Provider.BITBUCKET: ("X-Event-Key", "repo:push", "bitbucket_push.json"),
    Provider.BITBUCKET_SERVER: (
        "X-Event-Key",
        "repo:refs_changed",
        "bitbucket_server_refs_changed.json",
    ),
}
HEADER_NAMES = st.sampled_from(
    [
        "X-GitHub-Event",
        "X-Hub-Signature-256",
        "X-Hub-Signature",
        "X-Gitea-Signature",
        "X-Gitlab-Token",
        "X-Gitlab-Event",
        "X-Event-Key",
        "X-Hook-UUID",
        "X-Request-Id",
        "Content-Type",
    ]
) | st.text(max_size=20)
HEADER_VALUES = st.sampled_from(
    ["push", "sha256=", "sha256=" + "0" * 64, "application/x-www-form-urlencoded", "repo:push"]
) | st.text(max_size=80)


def signed(provider: Provider, body: bytes) -> dict[str, str]:
    name, event, _ = EVENTS[provider]
    digest = hmac.new(SECRET, body, hashlib.sha256).hexdigest()
    headers = {name: event, "Content-Type": "application/json"}
    if provider is Provider.GITLAB:
        headers["X-Gitlab-Token"] = SECRET.decode()
    elif provider is Provider.GITEA:
        headers["X-Gitea-Signature"] = digest
    else:
        headers["X-Hub-Signature" + ("-256" if provider is Provider.GITHUB else "")] = (
            f"sha256={digest}"
        )
    return headers


@FUZZ
@given(
    st.sampled_from(list(Provider)),
    st.dictionaries(HEADER_NAMES, HEADER_VALUES, max_size=6),
    st.binary(max_size=200),
    st.binary(max_size=20),
)
def test_verify_answers_any_request_with_a_verdict(
    provider: Provider, headers: dict[str, str], body: bytes, secret: bytes
) -> None:
    with within(what="verifying a webhook"):
        try:
            verify(provider, headers, body, secret)
        except WebhookAuthError:
            return
        detect_provider(headers)


@settings(FUZZ, max_examples=50)
@given(st.sampled_from(list(Provider)), st.data())
def test_a_mutated_payload_is_pushes_or_a_payload_error(
    provider: Provider, data: st.DataObject
) -> None:
    real: Any = orjson.loads((PAYLOADS / EVENTS[provider][2]).read_bytes())
    body = json.dumps(mutate(real, data)).encode()
    headers = signed(provider, body)
    verify(provider, headers, body, SECRET)
    with within(what="reading a webhook payload"):
        try:
            events = parse_push(provider, headers, body)
        except WebhookPayloadError:
            return
        for event in events:
            for url in event.repo_urls:
                normalize_repo_url(url)


@FUZZ
@given(st.sampled_from(list(Provider)), json_values() | st.binary(max_size=100))
def test_any_body_is_pushes_or_a_payload_error(provider: Provider, value: object) -> None:
    body = value if isinstance(value, bytes) else json.dumps(value).encode()
    headers = signed(provider, body)
    with within(what="reading a webhook body"), contextlib.suppress(WebhookPayloadError):
        parse_push(provider, headers, body)


@FUZZ
@given(st.text(max_size=120))
def test_any_repository_url_normalizes(url: str) -> None:
    with within(what="normalizing a repository URL"):
        normalize_repo_url(url)
