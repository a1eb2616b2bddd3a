"""Webhooks: signatures and tokens per provider, and push payloads read into PushEvents.

The payloads in ``payloads/`` follow each provider's documented push payload, trimmed
but with the real field names and shapes.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitward.api.webhooks import (
    ZERO_SHA,
    Provider,
    PushEvent,
    WebhookAuthError,
    WebhookPayloadError,
    detect_provider,
    parse_push,
    verify,
)

PAYLOADS = Path(__file__).parent / "payloads"
SECRET = b"It's a Secret to Everybody"
HMAC_PROVIDERS = [p for p in Provider if p is not Provider.GITLAB]
PUSH_FILES = {
    Provider.GITHUB: "github_push.json",
    Provider.GITLAB: "gitlab_push.json",
    Provider.GITEA: "gitea_push.json",
    Provider.BITBUCKET: "bitbucket_push.json",
    Provider.BITBUCKET_SERVER: "bitbucket_server_refs_changed.json",
}


def load(name: str) -> bytes:
    return (PAYLOADS / name).read_bytes()


def hexmac(body: bytes, secret: bytes = SECRET) -> str:
    return hmac.new(secret, body, hashlib.sha256).hexdigest()


def github(body: bytes, event: str = "push", secret: bytes = SECRET) -> dict[str, str]:
    return {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
        "X-Hub-Signature-256": f"sha256={hexmac(body, secret)}",
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/044aadd",
    }


def gitea(body: bytes, event: str = "push", secret: bytes = SECRET) -> dict[str, str]:
    mac = hexmac(body, secret)
    return {
        "X-Gitea-Event": event,
        "X-Gogs-Event": event,
        "X-GitHub-Event": event,
        "X-Gitea-Delivery": "f6266f16-1bf3-46a5-9ea4-602e06ead473",
        "X-Gitea-Signature": mac,
        "X-Gogs-Signature": mac,
        "X-Hub-Signature-256": f"sha256={mac}",
        "Content-Type": "application/json",
    }


def gitlab(body: bytes, event: str = "Push Hook", secret: bytes = SECRET) -> dict[str, str]:
    return {
        "X-Gitlab-Event": event,
        "X-Gitlab-Token": secret.decode(),
        "X-Gitlab-Instance": "https://gitlab.example.com",
        "Content-Type": "application/json",
    }


def bitbucket(body: bytes, event: str = "repo:push", secret: bytes = SECRET) -> dict[str, str]:
    return {
        "X-Event-Key": event,
        "X-Hook-UUID": "cb6a1b5c-0000-4c4d-9d8e-111122223333",
        "X-Request-UUID": "9f2b5c6d-0000-4a4b-8c8d-444455556666",
        "X-Attempt-Number": "1",
        "X-Hub-Signature": f"sha256={hexmac(body, secret)}",
        "Content-Type": "application/json",
    }


def bitbucket_server(
    body: bytes, event: str = "repo:refs_changed", secret: bytes = SECRET
) -> dict[str, str]:
    return {
        "X-Event-Key": event,
        "X-Request-Id": "a1b2c3d4-0000-4e5f-9a8b-777788889999",
        "X-Hub-Signature": f"sha256={hexmac(body, secret)}",
        "Content-Type": "application/json; charset=utf-8",
    }


HEADERS: dict[Provider, Callable[..., dict[str, str]]] = {
    Provider.GITHUB: github,
    Provider.GITEA: gitea,
    Provider.GITLAB: gitlab,
    Provider.BITBUCKET: bitbucket,
    Provider.BITBUCKET_SERVER: bitbucket_server,
}
SIGNATURE_HEADERS = {
    Provider.GITHUB: ["X-Hub-Signature-256"],
    Provider.GITEA: ["X-Gitea-Signature", "X-Gogs-Signature", "X-Hub-Signature-256"],
    Provider.GITLAB: ["X-Gitlab-Token"],
    Provider.BITBUCKET: ["X-Hub-Signature"],
    Provider.BITBUCKET_SERVER: ["X-Hub-Signature"],
}


# ------------------------------------------------------------------------ verification


@pytest.mark.parametrize("provider", list(Provider))
def test_a_valid_signature_is_accepted(provider: Provider) -> None:
    body = load(PUSH_FILES[provider])
    verify(provider, HEADERS[provider](body), body, SECRET)
    verify(provider.value, HEADERS[provider](body), body, SECRET)  # plain strings work too


def _wrong_secret(provider: Provider, body: bytes) -> tuple[dict[str, str], bytes, bytes]:
    return HEADERS[provider](body, secret=b"not the secret"), body, SECRET


def _missing_header(provider: Provider, body: bytes) -> tuple[dict[str, str], bytes, bytes]:
    headers = HEADERS[provider](body)
    for name in SIGNATURE_HEADERS[provider]:
        del headers[name]
    return headers, body, SECRET


def _empty_secret(provider: Provider, body: bytes) -> tuple[dict[str, str], bytes, bytes]:
    return HEADERS[provider](body, secret=b""), body, b""


def _empty_signature(provider: Provider, body: bytes) -> tuple[dict[str, str], bytes, bytes]:
    headers = HEADERS[provider](body)
    for name in SIGNATURE_HEADERS[provider]:
        headers[name] = ""
    return headers, body, SECRET


REFUSALS = {
    "wrong secret": _wrong_secret,
    "missing header": _missing_header,
    "empty secret configured": _empty_secret,
    "empty signature": _empty_signature,
}


@pytest.mark.parametrize("provider", list(Provider))
@pytest.mark.parametrize("case", list(REFUSALS))
def test_refused(provider: Provider, case: str) -> None:
    headers, body, secret = REFUSALS[case](provider, load(PUSH_FILES[provider]))
    with pytest.raises(WebhookAuthError) as caught:
        verify(provider, headers, body, secret)
    assert caught.value.status == 401
    message = str(caught.value)
    assert SECRET.decode() not in message
    assert hexmac(body) not in message  # never tell the caller the right signature


@pytest.mark.parametrize("provider", HMAC_PROVIDERS)
def test_a_tampered_body_is_refused(provider: Provider) -> None:
    body = load(PUSH_FILES[provider])
    headers = HEADERS[provider](body)
    tampered = bytearray(body)
    tampered[len(body) // 2] ^= 1
    with pytest.raises(WebhookAuthError, match="does not match its body"):
        verify(provider, headers, bytes(tampered), SECRET)


def test_a_gitlab_token_proves_the_sender_but_not_the_body() -> None:
    """GitLab sends the secret itself, no HMAC: only TLS protects the body in transit."""
    body = load(PUSH_FILES[Provider.GITLAB])
    verify(Provider.GITLAB, gitlab(body), body + b" ", SECRET)


@pytest.mark.parametrize("provider", list(Provider))
@pytest.mark.parametrize("case", [str.lower, str.upper, str.title])
def test_header_names_are_case_insensitive(provider: Provider, case: Callable[[str], str]) -> None:
    body = load(PUSH_FILES[provider])
    headers = {case(k): v for k, v in HEADERS[provider](body).items()}
    verify(provider, headers, body, SECRET)
    assert detect_provider(headers) is provider
    assert parse_push(provider, headers, body)


def test_gitea_is_accepted_with_only_the_github_style_signature() -> None:
    body = load(PUSH_FILES[Provider.GITEA])
    headers = {"X-Gitea-Event": "push", "X-Hub-Signature-256": f"sha256={hexmac(body)}"}
    verify(Provider.GITEA, headers, body, SECRET)


def test_signature_hex_may_be_uppercase() -> None:
    body = load(PUSH_FILES[Provider.GITHUB])
    headers = github(body) | {"X-Hub-Signature-256": f"sha256={hexmac(body).upper()}"}
    verify(Provider.GITHUB, headers, body, SECRET)


@pytest.mark.parametrize(
    "value", ["sha1=0123456789abcdef0123456789abcdef01234567", "0123abcd", "sha256"]
)
def test_other_algorithms_and_malformed_signatures_are_refused(value: str) -> None:
    body = load(PUSH_FILES[Provider.BITBUCKET])
    headers = bitbucket(body) | {"X-Hub-Signature": value}
    with pytest.raises(WebhookAuthError, match="sha256"):
        verify(Provider.BITBUCKET, headers, body, SECRET)


def test_non_ascii_signatures_are_refused_not_crashing() -> None:
    body = load(PUSH_FILES[Provider.GITHUB])
    headers = github(body) | {"X-Hub-Signature-256": "sha256=é" + hexmac(body)[1:]}
    with pytest.raises(WebhookAuthError):
        verify(Provider.GITHUB, headers, body, SECRET)


def test_a_header_given_twice_differently_is_refused() -> None:
    body = load(PUSH_FILES[Provider.GITHUB])
    headers = github(body) | {"x-hub-signature-256": "sha256=" + "0" * 64}
    with pytest.raises(WebhookAuthError, match="twice"):
        verify(Provider.GITHUB, headers, body, SECRET)


def test_a_header_given_twice_identically_is_fine() -> None:
    body = load(PUSH_FILES[Provider.GITHUB])
    headers = github(body)
    headers["x-hub-signature-256"] = headers["X-Hub-Signature-256"]
    verify(Provider.GITHUB, headers, body, SECRET)


def test_unknown_provider() -> None:
    with pytest.raises(WebhookPayloadError, match="unknown webhook provider 'svn'"):
        verify("svn", {}, b"{}", SECRET)


@settings(max_examples=300, deadline=None)
@given(
    provider=st.sampled_from(HMAC_PROVIDERS),
    position=st.floats(min_value=0, max_value=1, exclude_max=True),
    delta=st.integers(min_value=1, max_value=255),
)
def test_any_single_byte_change_fails_verification(
    provider: Provider, position: float, delta: int
) -> None:
    body = load(PUSH_FILES[provider])
    headers = HEADERS[provider](body)
    index = int(position * len(body))
    changed = bytearray(body)
    changed[index] = (changed[index] + delta) % 256
    with pytest.raises(WebhookAuthError):
        verify(provider, headers, bytes(changed), SECRET)


# ---------------------------------------------------------------------------- detection


@pytest.mark.parametrize(
    ("headers", "provider"),
    [
        ({"X-GitHub-Event": "push"}, Provider.GITHUB),
        ({"X-GitHub-Event": "push", "X-Gitea-Event": "push"}, Provider.GITEA),
        ({"X-GitHub-Event": "push", "X-Forgejo-Event": "push"}, Provider.GITEA),
        ({"X-Gogs-Event": "push"}, Provider.GITEA),
        ({"X-Gitlab-Event": "Push Hook"}, Provider.GITLAB),
        ({"X-Event-Key": "repo:push", "X-Hook-UUID": "u"}, Provider.BITBUCKET),
        ({"X-Event-Key": "repo:push"}, Provider.BITBUCKET),
        ({"X-Event-Key": "repo:refs_changed", "X-Request-Id": "r"}, Provider.BITBUCKET_SERVER),
        ({"X-Event-Key": "repo:refs_changed"}, Provider.BITBUCKET_SERVER),
        ({"X-Event-Key": "diagnostics:ping"}, Provider.BITBUCKET_SERVER),
        ({"X-Event-Key": "pr:opened"}, Provider.BITBUCKET_SERVER),
        ({"Content-Type": "application/json"}, None),
        ({}, None),
    ],
)
def test_detect_provider(headers: dict[str, str], provider: Provider | None) -> None:
    assert detect_provider(headers) is provider


@pytest.mark.parametrize("provider", list(Provider))
def test_detect_provider_from_realistic_headers(provider: Provider) -> None:
    assert detect_provider(HEADERS[provider](b"{}")) is provider


# ------------------------------------------------------------------------------ parsing

GITHUB_URLS = frozenset({"github.com/acme-corp/platform-config"})
GITLAB_URLS = frozenset(
    {"gitlab.example.com/platform/infra/deploy", "gitlab.example.com:2222/platform/infra/deploy"}
)
GITEA_URLS = frozenset(
    {"git.example.org/ops/cluster-apps", "git.example.org:2222/ops/cluster-apps"}
)
BITBUCKET_URLS = frozenset({"bitbucket.org/acme/gitops-config"})
BITBUCKET_SERVER_URLS = frozenset(
    {"bitbucket.example.com:7999/ops/k8s-manifests", "bitbucket.example.com/scm/ops/k8s-manifests"}
)
EXPECTED = {
    Provider.GITHUB: (
        PushEvent(
            Provider.GITHUB,
            "Acme-Corp/Platform-Config",
            GITHUB_URLS,
            "refs/heads/main",
            after="0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c",
            before="6113728f27ae82c7b1a177c8d03f9e96e0adf246",
            changed_paths=frozenset(
                {"apps/web/hpa.yaml", "apps/web/deployment.yaml", "apps/batch/cronjob.yaml"}
            ),
        ),
    ),
    Provider.GITLAB: (
        PushEvent(
            Provider.GITLAB,
            "platform/infra/deploy",
            GITLAB_URLS,
            "refs/heads/main",
            after="da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
            before="95790bf891e76fee5e1747ab589903a6a1f80f22",
            changed_paths=frozenset(
                {
                    "clusters/prod/ingress.yaml",
                    "clusters/staging/kustomization.yaml",
                    "clusters/staging/README.md",
                }
            ),
        ),
    ),
    Provider.GITEA: (
        PushEvent(
            Provider.GITEA,
            "ops/cluster-apps",
            GITEA_URLS,
            "refs/heads/develop",
            after="bffeb74224043ba2feb48d137756c8a9331c449a",
            before="28e1879d029cb852e4844d9c718537df08844e03",
            changed_paths=frozenset({"podinfo/values.yaml"}),
        ),
    ),
    Provider.BITBUCKET: (
        PushEvent(
            Provider.BITBUCKET,
            "acme/gitops-config",
            BITBUCKET_URLS,
            "refs/heads/main",
            after="10a1e2af0c2daf86d429c22f6a8c34d8a6ab9114",
            before="4c0b6e1b2bdf0a8d1a7e8f06c1e5a2b8d4f3c291",
        ),
        PushEvent(
            Provider.BITBUCKET,
            "acme/gitops-config",
            BITBUCKET_URLS,
            "refs/tags/release-7",
            after="10a1e2af0c2daf86d429c22f6a8c34d8a6ab9114",
            before=ZERO_SHA,
        ),
        PushEvent(
            Provider.BITBUCKET,
            "acme/gitops-config",
            BITBUCKET_URLS,
            "refs/heads/feature/old",
            after=ZERO_SHA,
            before="7d5c0ce2b2f1bb7a1e6bd3c6e1f4e1e1c6f1a2b3",
        ),
    ),
    Provider.BITBUCKET_SERVER: (
        PushEvent(
            Provider.BITBUCKET_SERVER,
            "OPS/k8s-manifests",
            BITBUCKET_SERVER_URLS,
            "refs/heads/master",
            after="178864a7d521b6f5e720b386b2c2b0ef8563e0dc",
            before="ecddabb624f6f5ba43816f5926e580a5f680a932",
        ),
    ),
}


@pytest.mark.parametrize("provider", list(Provider))
def test_parse_push(provider: Provider) -> None:
    body = load(PUSH_FILES[provider])
    assert parse_push(provider, HEADERS[provider](body), body) == EXPECTED[provider]


@pytest.mark.parametrize(
    ("provider", "url"),
    [
        (Provider.GITHUB, "https://github.com/Acme-Corp/Platform-Config.git"),
        (Provider.GITHUB, "git@github.com:acme-corp/platform-config.git"),
        (Provider.GITHUB, "https://github.com/Acme-Corp/Platform-Config"),
        (Provider.GITLAB, "https://gitlab.example.com/platform/infra/deploy.git"),
        (Provider.GITLAB, "ssh://git@gitlab.example.com:2222/platform/infra/deploy"),
        (Provider.GITEA, "https://git.example.org/ops/cluster-apps"),
        (Provider.GITEA, "ssh://gitea@git.example.org:2222/ops/cluster-apps.git"),
        (Provider.BITBUCKET, "git@bitbucket.org:acme/gitops-config.git"),
        (Provider.BITBUCKET, "https://someone@bitbucket.org/acme/gitops-config.git"),
        (Provider.BITBUCKET_SERVER, "https://bitbucket.example.com/scm/ops/k8s-manifests.git"),
        (Provider.BITBUCKET_SERVER, "ssh://git@bitbucket.example.com:7999/ops/k8s-manifests.git"),
    ],
)
def test_a_push_concerns_every_spelling_of_its_repository(provider: Provider, url: str) -> None:
    body = load(PUSH_FILES[provider])
    (push, *_) = parse_push(provider, HEADERS[provider](body), body)
    assert push.concerns(url)
    assert not push.concerns(url.removesuffix(".git") + "-fork")


def test_branch_and_tag_helpers() -> None:
    body = load(PUSH_FILES[Provider.BITBUCKET])
    main, tag, gone = parse_push(Provider.BITBUCKET, bitbucket(body), body)
    assert (main.branch, main.tag, main.created, main.deleted) == ("main", None, False, False)
    assert (tag.branch, tag.tag, tag.created, tag.deleted) == (None, "release-7", True, False)
    assert (gone.branch, gone.deleted) == ("feature/old", True)


def test_a_deleted_tag_is_a_push_with_zero_after() -> None:
    body = load("github_delete_tag.json")
    (push,) = parse_push(Provider.GITHUB, github(body), body)
    assert push.tag == "v1.4.0"
    assert push.deleted
    assert push.after == ZERO_SHA
    assert push.changed_paths == frozenset()


def test_gitlab_tag_push_reports_the_commit_not_the_tag_object() -> None:
    body = load("gitlab_tag_push.json")
    (push,) = parse_push(Provider.GITLAB, gitlab(body, "Tag Push Hook"), body)
    assert push.tag == "v1.0.0"
    assert push.after == "5937ac0a7beb003549fc5fd26fc247adbce4a52e"
    assert push.created
    assert push.changed_paths == frozenset()


def test_gitlab_system_hook_push() -> None:
    body = load(PUSH_FILES[Provider.GITLAB])
    assert (
        parse_push(Provider.GITLAB, gitlab(body, "System Hook"), body) == EXPECTED[Provider.GITLAB]
    )


@pytest.mark.parametrize(
    ("provider", "event", "body"),
    [
        (Provider.GITHUB, "ping", load("github_ping.json")),
        (Provider.GITHUB, "pull_request", b"{}"),
        (Provider.GITHUB, "create", b"{}"),
        (Provider.GITEA, "pull_request", b"{}"),
        (Provider.GITEA, "delete", b"{}"),
        (Provider.GITLAB, "Merge Request Hook", load("gitlab_merge_request.json")),
        (Provider.GITLAB, "System Hook", load("gitlab_merge_request.json")),
        (Provider.BITBUCKET, "pullrequest:created", b"{}"),
        (Provider.BITBUCKET_SERVER, "diagnostics:ping", load("bitbucket_server_ping.json")),
        (Provider.BITBUCKET_SERVER, "pr:opened", b"{}"),
        (Provider.GITHUB, "ping", b"not json at all"),  # non-pushes are never parsed
    ],
)
def test_events_that_are_not_pushes_yield_nothing(
    provider: Provider, event: str, body: bytes
) -> None:
    assert parse_push(provider, HEADERS[provider](body, event), body) == ()


def test_a_form_encoded_github_payload() -> None:
    body = urlencode({"payload": load(PUSH_FILES[Provider.GITHUB]).decode()}).encode()
    headers = github(body) | {"Content-Type": "application/x-www-form-urlencoded"}
    verify(Provider.GITHUB, headers, body, SECRET)
    assert parse_push(Provider.GITHUB, headers, body) == EXPECTED[Provider.GITHUB]


def _edit(name: str, change: Callable[[dict[str, object]], None]) -> bytes:
    payload = orjson.loads(load(name))
    change(payload)
    return orjson.dumps(payload)


def _set(path: str, value: object) -> Callable[[dict[str, object]], None]:
    def change(payload: dict[str, object]) -> None:
        *parents, last = path.split(".")
        node: object = payload
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]  # type: ignore[index]
        if isinstance(node, list):
            node[int(last)] = value
        elif value is None:
            del node[last]  # type: ignore[attr-defined]
        else:
            node[last] = value  # type: ignore[index]

    return change


@pytest.mark.parametrize(
    ("provider", "path", "value"),
    [
        (Provider.GITHUB, "forced", True),
        (Provider.GITHUB, "created", True),
        (Provider.GITHUB, "commits", []),
        (Provider.GITLAB, "total_commits_count", 25),
        (Provider.GITLAB, "before", ZERO_SHA),
        (Provider.GITEA, "total_commits", 7),
        (Provider.GITEA, "total_commits", None),  # older Gitea: cannot tell if capped
        (Provider.GITEA, "before", ZERO_SHA),
    ],
)
def test_changed_paths_are_unknown_when_the_list_may_be_incomplete(
    provider: Provider, path: str, value: object
) -> None:
    body = _edit(PUSH_FILES[provider], _set(path, value))
    (push,) = parse_push(provider, HEADERS[provider](body), body)
    assert push.changed_paths == frozenset()


def test_a_github_commit_at_the_file_limit_makes_paths_unknown() -> None:
    files = [f"f{i}.yaml" for i in range(3000)]
    body = _edit(PUSH_FILES[Provider.GITHUB], _set("commits.0.added", files))
    (push,) = parse_push(Provider.GITHUB, github(body), body)
    assert push.changed_paths == frozenset()


@pytest.mark.parametrize(
    ("provider", "body", "message"),
    [
        (Provider.GITHUB, b"{not json", "not valid JSON"),
        (Provider.GITHUB, b"[1, 2]", "not an object"),
        (Provider.GITHUB, b'{"after": "x"}', "repository is missing"),
        (
            Provider.GITHUB,
            _edit(PUSH_FILES[Provider.GITHUB], _set("ref", None)),
            "github push webhook: ref is missing",
        ),
        (
            Provider.GITHUB,
            _edit(PUSH_FILES[Provider.GITHUB], _set("ref", "main")),
            "not a full ref name",
        ),
        (
            Provider.GITHUB,
            _edit(PUSH_FILES[Provider.GITHUB], _set("after", "HEAD; rm -rf /")),
            "after is not a full commit SHA",
        ),
        (
            Provider.GITHUB,
            _edit(PUSH_FILES[Provider.GITHUB], _set("commits.0.added", "apps/x.yaml")),
            r"commits\[0\].added is not a list of paths",
        ),
        (
            Provider.GITHUB,
            _edit(PUSH_FILES[Provider.GITHUB], _set("forced", "no")),
            "forced is not a boolean",
        ),
        (
            Provider.GITHUB,
            _edit(
                "github_push.json",
                _set("repository", {"full_name": "a/b", "clone_url": 7}),
            ),
            r"repository.clone_url is missing or not a non-empty string",
        ),
        (
            Provider.GITHUB,
            _edit("github_push.json", _set("repository", {"full_name": "a/b"})),
            "names no repository URL",
        ),
        (
            Provider.GITLAB,
            _edit(PUSH_FILES[Provider.GITLAB], _set("total_commits_count", "2")),
            "total_commits_count is not an integer",
        ),
        (
            Provider.BITBUCKET,
            _edit(PUSH_FILES[Provider.BITBUCKET], _set("push.changes.0.new.type", "bookmark")),
            r"push.changes\[0\].new.type is 'bookmark'",
        ),
        (
            Provider.BITBUCKET,
            _edit(PUSH_FILES[Provider.BITBUCKET], _set("push.changes.0", {"new": None})),
            "has neither new nor old",
        ),
        (
            Provider.BITBUCKET_SERVER,
            _edit(PUSH_FILES[Provider.BITBUCKET_SERVER], _set("repository.links.clone", [])),
            "repository.links.clone is empty",
        ),
        (
            Provider.BITBUCKET_SERVER,
            _edit(PUSH_FILES[Provider.BITBUCKET_SERVER], _set("changes.0.toHash", None)),
            r"changes\[0\].toHash is missing",
        ),
    ],
)
def test_malformed_payloads_say_what_is_wrong(
    provider: Provider, body: bytes, message: str
) -> None:
    headers = HEADERS[provider](body)
    verify(provider, headers, body, SECRET)  # authentic, yet wrong
    with pytest.raises(WebhookPayloadError, match=message) as caught:
        parse_push(provider, headers, body)
    assert caught.value.status == 400


def test_a_missing_event_header_is_a_payload_error() -> None:
    body = load(PUSH_FILES[Provider.GITHUB])
    with pytest.raises(WebhookPayloadError, match="no event header"):
        parse_push(Provider.GITHUB, {"X-Hub-Signature-256": "sha256=00"}, body)


def test_bitbucket_server_ref_falls_back_to_ref_id() -> None:
    body = _edit(PUSH_FILES[Provider.BITBUCKET_SERVER], _set("changes.0.refId", None))
    (push,) = parse_push(Provider.BITBUCKET_SERVER, bitbucket_server(body), body)
    assert push.branch == "master"
