"""Verify and read Git push webhooks from GitHub, GitLab, Gitea and Bitbucket.

Before: a Git provider POSTs to the server, which passes the raw headers and body here.
After: the controller refreshes the applications the returned
:class:`~gitward.api.push.PushEvent` values concern.

The server calls, in this order::

    provider = detect_provider(headers)           # or fixed by the endpoint's path
    verify(provider, headers, body, secret)       # WebhookAuthError -> 401
    for push in parse_push(provider, headers, body):   # WebhookPayloadError -> 400
        controller.refresh_matching(push)

:func:`verify` always comes first and never reads the JSON: an unauthenticated body is
not parsed at all. Every provider requires a secret; an empty secret refuses everything,
so a forgotten setting never turns into an open endpoint. Signatures and tokens are
compared in constant time. GitLab's ``X-Gitlab-Token`` proves who sent a request but,
unlike the HMAC signatures of the others, does not protect the body; only TLS does.

Headers are matched case-insensitively. A header that appears twice with different
values makes the request ambiguous and is refused.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from urllib.parse import parse_qs

import orjson

from gitward.api.errors import WebhookAuthError, WebhookPayloadError
from gitward.api.push import ZERO_SHA, Provider, PushEvent
from gitward.api.push_payloads import (
    Json,
    read_bitbucket,
    read_bitbucket_server,
    read_gitea,
    read_github,
    read_gitlab,
)
from gitward.api.repo_urls import normalize_repo_url

__all__ = [
    "ZERO_SHA",
    "Provider",
    "PushEvent",
    "WebhookAuthError",
    "WebhookPayloadError",
    "detect_provider",
    "normalize_repo_url",
    "parse_push",
    "verify",
]

# Where each provider puts its HMAC-SHA256 signature, and the prefix before the hex digest.
# Gitea sends several of these at once; the first present one is checked.
_SIGNATURES: Mapping[Provider, tuple[tuple[str, str], ...]] = {
    Provider.GITHUB: (("x-hub-signature-256", "sha256="),),
    Provider.GITEA: (
        ("x-gitea-signature", ""),
        ("x-forgejo-signature", ""),
        ("x-hub-signature-256", "sha256="),
        ("x-gogs-signature", ""),
    ),
    Provider.BITBUCKET: (("x-hub-signature", "sha256="),),
    Provider.BITBUCKET_SERVER: (("x-hub-signature", "sha256="),),
}

# The header naming the event, and the event names that are pushes.
_EVENTS: Mapping[Provider, tuple[tuple[str, ...], frozenset[str]]] = {
    Provider.GITHUB: (("x-github-event",), frozenset({"push"})),
    Provider.GITEA: (
        ("x-gitea-event", "x-forgejo-event", "x-gogs-event"),
        frozenset({"push"}),
    ),
    # System hooks carry pushes too; the reader checks the payload's object_kind.
    Provider.GITLAB: (
        ("x-gitlab-event",),
        frozenset({"Push Hook", "Tag Push Hook", "System Hook"}),
    ),
    Provider.BITBUCKET: (("x-event-key",), frozenset({"repo:push"})),
    Provider.BITBUCKET_SERVER: (("x-event-key",), frozenset({"repo:refs_changed"})),
}
_READERS: Mapping[Provider, Callable[[Json], tuple[PushEvent, ...]]] = {
    Provider.GITHUB: read_github,
    Provider.GITEA: read_gitea,
    Provider.GITLAB: read_gitlab,
    Provider.BITBUCKET: read_bitbucket,
    Provider.BITBUCKET_SERVER: read_bitbucket_server,
}
# Event keys only Bitbucket Data Center/Server sends (Cloud says "pullrequest:", "repo:push").
_BITBUCKET_SERVER_KEYS = ("repo:refs_changed", "diagnostics:ping", "pr:", "mirror:", "project:")


class _Headers:
    """A case-insensitive view of request headers that refuses ambiguous duplicates."""

    def __init__(self, headers: Mapping[str, str]) -> None:
        self._values: dict[str, str] = {}
        self._ambiguous: set[str] = set()
        for name, value in headers.items():
            key = name.lower()
            if self._values.get(key, value) != value:
                self._ambiguous.add(key)
            self._values[key] = value

    def get(self, name: str) -> str | None:
        if name in self._ambiguous:
            raise WebhookAuthError(f"the request carries the header {name} twice, differently")
        return self._values.get(name)

    def __contains__(self, name: str) -> bool:
        return name in self._values


def detect_provider(headers: Mapping[str, str]) -> Provider | None:
    """Which provider sent a webhook, from its event header; None if none is recognised.

    Gitea and Forgejo also send ``X-GitHub-Event`` for compatibility, so they are checked
    first. Bitbucket Cloud and Data Center share ``X-Event-Key``; Cloud adds
    ``X-Hook-UUID``, Data Center ``X-Request-Id`` and its own event keys. A forged header
    only selects which check :func:`verify` runs; every check needs the secret.
    """
    view = _Headers(headers)
    if any(h in view for h in _EVENTS[Provider.GITEA][0]):
        return Provider.GITEA
    if "x-gitlab-event" in view:
        return Provider.GITLAB
    if "x-github-event" in view:
        return Provider.GITHUB
    return _bitbucket_kind(view)


def _bitbucket_kind(view: _Headers) -> Provider | None:
    key = view.get("x-event-key")
    if key is None:
        return None
    if "x-hook-uuid" in view or "x-request-uuid" in view:
        return Provider.BITBUCKET
    if "x-request-id" in view or key.startswith(_BITBUCKET_SERVER_KEYS):
        return Provider.BITBUCKET_SERVER
    return Provider.BITBUCKET


def verify(
    provider: Provider | str, headers: Mapping[str, str], body: bytes, secret: bytes
) -> None:
    """Prove that ``body`` was sent by whoever holds ``secret``, or raise WebhookAuthError."""
    kind = _provider(provider)
    if not secret:
        raise WebhookAuthError(
            f"no {kind} webhook secret is configured, so every {kind} webhook is refused",
            hint="set the same secret in gitward and in the provider's webhook settings",
        )
    view = _Headers(headers)
    if kind is Provider.GITLAB:
        _verify_token(view, secret)
    else:
        _verify_signature(kind, view, body, secret)


def _verify_token(view: _Headers, secret: bytes) -> None:
    given = view.get("x-gitlab-token")
    if given is None:
        raise WebhookAuthError(
            "the gitlab webhook carries no X-Gitlab-Token header",
            hint="set the secret token in the GitLab webhook settings",
        )
    # Compare digests so the time taken does not even depend on the lengths.
    if not hmac.compare_digest(_sha256(_header_bytes(given)), _sha256(secret)):
        raise WebhookAuthError(
            "the gitlab webhook's X-Gitlab-Token does not match the configured secret"
        )


def _verify_signature(kind: Provider, view: _Headers, body: bytes, secret: bytes) -> None:
    name, prefix, digest = _signature_header(kind, view)
    if prefix:
        algorithm, sep, digest = digest.partition("=")
        if not sep or algorithm.strip().lower() != prefix[:-1]:
            raise WebhookAuthError(
                f"the {kind} webhook's {name} header is not a {prefix[:-1]} signature",
                hint="gitward accepts HMAC-SHA256 signatures only",
            )
    expected = hmac.new(secret, body, hashlib.sha256).hexdigest().encode()
    if not hmac.compare_digest(expected, digest.strip().lower().encode("ascii", "replace")):
        raise WebhookAuthError(
            f"the {kind} webhook's {name} signature does not match its body",
            hint="the secret differs between gitward and the provider, or the body was altered",
        )


def _signature_header(kind: Provider, view: _Headers) -> tuple[str, str, str]:
    """The first signature header present: its name, its prefix and its value."""
    candidates = _SIGNATURES[kind]
    for name, prefix in candidates:
        given = view.get(name)
        if given is not None:
            return name, prefix, given.strip()
    names = " or ".join(name for name, _ in candidates)
    raise WebhookAuthError(
        f"the {kind} webhook carries no signature ({names})",
        hint="set a secret in the provider's webhook settings, the same as gitward's",
    )


def parse_push(
    provider: Provider | str, headers: Mapping[str, str], body: bytes
) -> tuple[PushEvent, ...]:
    """The ref updates a verified webhook reports; empty for events that are not pushes.

    A tuple rather than one event because Bitbucket (Cloud and Data Center) reports all
    the refs of one ``git push`` in one delivery; GitHub, GitLab and Gitea send one
    delivery per ref, so their tuples hold one event. Pings, pull request and other events
    return an empty tuple without their JSON being read. Call :func:`verify` first.
    """
    kind = _provider(provider)
    view = _Headers(headers)
    names, pushes = _EVENTS[kind]
    event = next((v for v in map(view.get, names) if v is not None), None)
    if event is None:
        raise WebhookPayloadError(
            f"the {kind} webhook carries no event header ({' or '.join(names)})",
            hint="is the webhook pointed at the endpoint of the right provider?",
        )
    if event.strip() not in pushes:
        return ()
    return _READERS[kind](_load(kind, view, body))


def _load(kind: Provider, view: _Headers, body: bytes) -> Json:
    """The JSON object of a body, sent raw or as a form field ``payload`` (GitHub, Gitea)."""
    text: bytes | str = body
    content_type = (view.get("content-type") or "").split(";")[0].strip().lower()
    if content_type == "application/x-www-form-urlencoded":
        try:
            text = parse_qs(body.decode(), strict_parsing=True)["payload"][0]
        except (UnicodeDecodeError, ValueError, KeyError) as e:
            raise WebhookPayloadError(f"the {kind} webhook's form body has no payload field") from e
    try:
        payload = orjson.loads(text)
    except orjson.JSONDecodeError as e:
        raise WebhookPayloadError(
            f"the {kind} webhook's body is not valid JSON: {e}",
            hint="set the webhook's content type to application/json",
        ) from e
    if not isinstance(payload, dict):
        raise WebhookPayloadError(f"the {kind} webhook's body is JSON but not an object")
    return payload


def _provider(provider: Provider | str) -> Provider:
    try:
        return Provider(provider)
    except ValueError:
        known = ", ".join(p.value for p in Provider)
        raise WebhookPayloadError(
            f"unknown webhook provider {provider!r}", hint=f"use one of: {known}"
        ) from None


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _header_bytes(value: str) -> bytes:
    """The bytes of a header value: ASGI servers decode headers as latin-1."""
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode()
