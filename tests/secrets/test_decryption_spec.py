"""``spec.decryption`` of an Application, with Flux's field names."""

from __future__ import annotations

from typing import Any

import pytest

from gitward.errors import ConfigError
from gitward.model import Decryption
from gitward.spec import parse_application


def application(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "gitward.dev/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "web"},
        "spec": {
            "source": {"repoURL": "https://git.example/r.git", "path": "web"},
            "destination": {"namespace": "web"},
            **spec,
        },
    }


def test_decryption_with_a_secret_ref() -> None:
    doc = application(decryption={"provider": "sops", "secretRef": {"name": "sops-age"}})
    assert parse_application(doc).decryption == Decryption("sops", "sops-age")


def test_decryption_without_a_secret_uses_the_given_keys_only() -> None:
    assert parse_application(application(decryption={"provider": "sops"})).decryption == (
        Decryption("sops", None)
    )
    assert parse_application(application()).decryption is None


@pytest.mark.parametrize(
    ("decryption", "message"),
    [
        ({"provider": "vault"}, "spec.decryption.provider 'vault' is not supported; use sops"),
        ({"secretRef": {"name": "k"}}, "spec.decryption.provider is required"),
        ({"provider": "sops", "secretRef": {}}, "spec.decryption.secretRef.name is required"),
        (
            {"provider": "sops", "secretRef": {"name": "k", "key": "x"}},
            "spec.decryption.secretRef.key is not a known field",
        ),
        ({"provider": "sops", "keys": []}, "spec.decryption.keys is not a known field"),
    ],
)
def test_bad_decryption_is_named(decryption: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_application(application(decryption=decryption), origin="apps/web.yaml")
    assert str(caught.value).startswith(f"apps/web.yaml: {message}")
