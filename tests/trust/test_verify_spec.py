"""``spec.source.verify``: how an Application asks for signed commits, and its mistakes."""

from __future__ import annotations

from typing import Any, cast

import pytest

from gitward.errors import ConfigError
from gitward.model import Revision, Verification, VerifyMode
from gitward.reconcile.trust import TrustCheck
from gitward.spec import parse_application


def app(verify: Any) -> dict[str, Any]:
    return {
        "apiVersion": "gitward.dev/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "web"},
        "spec": {
            "source": {"repoURL": "https://git.example/web.git", "verify": verify},
            "destination": {"namespace": "web"},
        },
    }


def test_no_verify_means_any_commit_is_deployed() -> None:
    doc = app(None)
    del doc["spec"]["source"]["verify"]
    assert parse_application(doc).source.verify is None


@pytest.mark.parametrize(
    ("verify", "expected"),
    [
        ({"secretRef": {"name": "trusted"}}, Verification(VerifyMode.HEAD, "trusted", None)),
        ({"mode": "HEAD", "keysFile": "/k"}, Verification(VerifyMode.HEAD, None, "/k")),
        # Flux's older lower-case spelling of the same mode
        (
            {"mode": "head", "secretRef": {"name": "k"}, "keysFile": "f"},
            Verification(VerifyMode.HEAD, "k", "f"),
        ),
    ],
)
def test_verify_names_the_trusted_keys(verify: Any, expected: Verification) -> None:
    assert parse_application(app(verify)).source.verify == expected


@pytest.mark.parametrize(
    ("verify", "message"),
    [
        ({}, "spec.source.verify.secretRef or keysFile is required"),
        ({"mode": "Tag", "secretRef": {"name": "k"}}, "spec.source.verify.mode 'Tag' is not"),
        ({"secretRef": {}}, "spec.source.verify.secretRef.name is required"),
        ({"keysFile": "f", "provider": "cosign"}, "spec.source.verify.provider is not a known"),
        ({"secretRef": {"name": "k", "namespace": "x"}}, "verify.secretRef.namespace is not"),
    ],
)
def test_mistakes_name_the_field(verify: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        parse_application(app(verify))


def test_verify_is_refused_for_a_source_that_is_not_git() -> None:
    doc = app({"secretRef": {"name": "k"}})
    doc["spec"]["source"]["repoURL"] = "oci://registry.example/manifests"

    with pytest.raises(ConfigError, match=r"spec\.source\.verify applies only to Git"):
        parse_application(doc)


async def test_verify_on_a_later_source_of_a_multi_source_app_is_refused_not_ignored() -> None:
    doc = app(None)
    first = {"repoURL": "https://git.example/web.git", "path": "."}
    second = {"repoURL": "https://git.example/lib.git", "path": ".", "verify": {"keysFile": "k"}}
    doc["spec"]["sources"] = [first, second]
    del doc["spec"]["source"]
    spec = parse_application(doc)
    revision = Revision(first["repoURL"], "HEAD", "0" * 40)

    with pytest.raises(ConfigError, match=r"spec\.sources\[\]\.verify is supported on"):
        await TrustCheck().verify(cast(Any, None), cast(Any, None), spec, revision, None)
