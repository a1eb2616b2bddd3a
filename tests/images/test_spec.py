"""Flux's image automation documents read unchanged, and their mistakes named."""

from __future__ import annotations

import pytest
import yaml

from gitward.errors import ConfigError
from gitward.model import AppSpec, SourceSpec
from gitward.model.images import Order, PolicyKind, TagFilter
from gitward.spec.declarations import parse_declarations
from gitward.spec.images import parse_images

# As in Flux's documentation (image-reflector and image-automation guides).
FLUX = """
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: flux-system, namespace: flux-system}
spec: {url: 'https://git.example/fleet.git', interval: 1m, ref: {branch: main}}
---
apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImageRepository
metadata: {name: podinfo, namespace: flux-system}
spec: {image: ghcr.io/stefanprodan/podinfo, interval: 5m}
---
apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImagePolicy
metadata: {name: podinfo, namespace: flux-system}
spec:
  imageRepositoryRef: {name: podinfo}
  policy: {semver: {range: 5.0.x}}
---
apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImagePolicy
metadata: {name: podinfo-builds, namespace: flux-system}
spec:
  imageRepositoryRef: {name: podinfo}
  filterTags: {pattern: '^main-[a-fA-F0-9]+-(?P<ts>.*)', extract: '$ts'}
  policy: {alphabetical: {order: desc}}
---
apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImageUpdateAutomation
metadata: {name: flux-system, namespace: flux-system}
spec:
  interval: 30m
  sourceRef: {kind: GitRepository, name: flux-system}
  git:
    checkout: {ref: {branch: main}}
    commit:
      author: {email: fluxcdbot@users.noreply.github.com, name: fluxcdbot}
      messageTemplate: '{{range .Updated.Images}}{{.}}{{end}}'
    push: {branch: image-updates}
  update: {path: ./clusters/my-cluster, strategy: Setters}
"""


def docs(text: str) -> list[tuple[str, object]]:
    return [("flux.yaml", d) for d in yaml.safe_load_all(text)]


def test_flux_documents_are_read_unchanged() -> None:
    images = parse_images(docs(FLUX), {})

    assert images.repositories["flux-system/podinfo"].image == "ghcr.io/stefanprodan/podinfo"
    assert images.repositories["flux-system/podinfo"].interval == 300
    semver = images.policies["flux-system:podinfo"]
    assert (semver.kind, semver.semver_range) == (PolicyKind.SEMVER, "5.0.x")
    builds = images.policies["flux-system:podinfo-builds"]
    assert (builds.kind, builds.order) == (PolicyKind.ALPHABETICAL, Order.DESC)
    assert builds.filter == TagFilter("^main-[a-fA-F0-9]+-(?P<ts>.*)", "$ts")
    (auto,) = images.automations
    assert (auto.repo_url, auto.checkout_branch, auto.push_branch) == (
        "https://git.example/fleet.git",
        "main",
        "image-updates",
    )
    assert (auto.path, auto.author_name, auto.interval) == (
        "clusters/my-cluster",
        "fluxcdbot",
        1800,
    )


def test_an_application_can_be_the_source() -> None:
    text = FLUX.replace("kind: GitRepository, name: flux-system", "kind: Application, name: web")
    apps = {
        "web": AppSpec("web", SourceSpec("https://git.example/web.git", target_revision="prod"))
    }

    (auto,) = parse_images(docs(text), apps).automations

    assert (auto.repo_url, auto.checkout_branch) == ("https://git.example/web.git", "main")


def test_image_documents_sit_beside_applications_in_declarations() -> None:
    app = """
apiVersion: gitward.dev/v1alpha1
kind: Application
metadata: {name: web}
spec:
  source: {repoURL: 'https://git.example/web.git', path: deploy, targetRevision: main}
  destination: {namespace: web}
---"""
    image_docs = FLUX.split("---", 1)[1]  # the image documents, without the GitRepository
    text = app + image_docs.replace(
        "kind: GitRepository, name: flux-system", "kind: Application, name: web"
    )

    declared = parse_declarations(docs(text))

    assert list(declared.apps) == ["web"]
    assert declared.images.automations[0].repo_url == "https://git.example/web.git"
    assert set(declared.images.policies) == {"flux-system:podinfo", "flux-system:podinfo-builds"}


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            ("ImageRepository", "interval: 5m", "interval: 5m, proxySecretRef: {name: s}"),
            "proxySecretRef is not supported by gitward yet",
        ),
        (
            ("ImageRepository", "podinfo, interval", "podinfo:1.0, interval"),
            "must name a repository",
        ),
        (
            ("ImagePolicy", "semver: {range: 5.0.x}", "semver: {range: 5.0.x}, numerical: {}"),
            "exactly one of",
        ),
        (
            ("ImagePolicy", "alphabetical: {order: desc}", "alphabetical: {order: down}"),
            "'down' must be asc or desc",
        ),
        (
            (
                "ImagePolicy",
                "imageRepositoryRef: {name: podinfo}",
                "imageRepositoryRef: {name: podinfo}\n  digestReflectionPolicy: Sometimes",
            ),
            "'Sometimes' must be one of Never, IfNotPresent, Always",
        ),
        (
            (
                "ImagePolicy",
                "imageRepositoryRef: {name: podinfo}",
                "imageRepositoryRef: {name: nope}",
            ),
            "ImageRepository flux-system/nope, which is not declared",
        ),
        (
            ("ImageUpdateAutomation", "strategy: Setters", "strategy: Other"),
            "'Other' is not supported",
        ),
        (
            (
                "ImageUpdateAutomation",
                "name: fluxcdbot}",
                "name: fluxcdbot}\n      signingKey: {secretRef: {name: k}}",
            ),
            "signingKey is not supported",
        ),
        (
            (
                "ImageUpdateAutomation",
                "kind: GitRepository, name: flux-system",
                "kind: GitRepository, name: other",
            ),
            "GitRepository flux-system/other, which is not declared",
        ),
        (
            ("ImageUpdateAutomation", "update:", "typo: 1\n  update:"),
            "spec.typo is not a known field",
        ),
    ],
)
def test_mistakes_name_the_document_and_field(edit: tuple[str, str, str], message: str) -> None:
    kind, old, new = edit
    parts = FLUX.split("---")
    index = next(i for i, p in enumerate(parts) if f"kind: {kind}\n" in p and old in p)
    parts[index] = parts[index].replace(old, new)

    with pytest.raises(
        ConfigError, match=message.replace(".", r"\.").replace("{", r"\{")
    ) as failed:
        parse_images(docs("---".join(parts)), {})

    assert str(failed.value).startswith("flux.yaml")
