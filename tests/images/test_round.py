"""One round of image automation against the real registry and a real Git remote over
smart HTTP, from Flux's documents as a user writes them: tags listed (signature tags
excluded), policies applied, the marked files edited, committed and pushed."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitward.imageauto.scan import ImageUpdater
from gitward.model import RepoCredentials
from gitward.source.oci import list_tags, tag_digest
from gitward.spec.declarations import read_documents
from gitward.spec.images import parse_images
from tests.images.conftest import Images
from tests.source.gitfixtures import GitRepo, HttpGitServer, git


def documents(host: str, url: str) -> str:
    return f"""\
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {{name: fleet, namespace: flux-system}}
spec: {{url: '{url}', interval: 1m, ref: {{branch: main}}}}
---
apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImageRepository
metadata: {{name: web, namespace: flux-system}}
spec: {{image: '{host}/team/web', interval: 1m, insecure: true}}
---
apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImageRepository
metadata: {{name: worker, namespace: flux-system}}
spec: {{image: '{host}/team/worker', interval: 1m, insecure: true}}
---
apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImagePolicy
metadata: {{name: web, namespace: flux-system}}
spec:
  imageRepositoryRef: {{name: web}}
  policy: {{semver: {{range: 1.x}}}}
---
apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImagePolicy
metadata: {{name: worker, namespace: flux-system}}
spec:
  imageRepositoryRef: {{name: worker}}
  filterTags: {{pattern: '^main-[a-f0-9]+-(?P<ts>[0-9]+)', extract: '$ts'}}
  policy: {{numerical: {{order: asc}}}}
---
apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImageUpdateAutomation
metadata: {{name: fleet, namespace: flux-system}}
spec:
  interval: 1m
  sourceRef: {{kind: GitRepository, name: fleet}}
  git:
    commit:
      author: {{name: fluxcdbot, email: fluxcdbot@users.noreply.github.com}}
      messageTemplate: 'Bump{{{{range .Updated.Images}}}} {{{{.}}}}{{{{end}}}}'
  update: {{path: ./apps, strategy: Setters}}
"""


WEB = """\
# web, kept current by image automation
image: {host}/team/web:1.0.0 # {{"$imagepolicy": "flux-system:web"}}
"""
KUSTOMIZATION = """\
resources: [worker.yaml]
images:
  - name: worker
    newName: {host}/team/worker # {{"$imagepolicy": "flux-system:worker:name"}}
    newTag: main-aaa-100 # {{"$imagepolicy": "flux-system:worker:tag"}}
"""


@pytest.fixture
def origin(tmp_path: Path) -> GitRepo:
    return GitRepo(tmp_path / "git")


async def test_a_round_selects_edits_commits_and_pushes(
    images_registry: Images, origin: GitRepo, tmp_path: Path
) -> None:
    host = images_registry.server.host
    images_registry.push("team/web", "1.0.0", "1.2.0", "1.10.0", "2.0.0", "sha256-abc.sig")
    images_registry.push("team/worker", "main-aaa-100", "main-bbb-99", "main-ccc-101", "latest")
    start = origin.commit(
        {
            "apps/web.yaml": WEB.format(host=host),
            "apps/kustomization.yaml": KUSTOMIZATION.format(host=host),
            "other/web.yaml": WEB.format(host=host),  # outside update.path: untouched
        }
    )
    server = HttpGitServer(tmp_path / "git", "bot", "token")
    try:
        config = tmp_path / "flux.yaml"
        config.write_text(documents(host, server.url(origin)))
        images = parse_images([(str(config), d) for d in read_documents(config)], {})
        announced: list[str] = []
        updater = ImageUpdater(
            tmp_path / "cache",
            list_tags,
            git_credentials=lambda _url: RepoCredentials(username="bot", password="token"),
            announce=announced.append,
        )

        first = await updater.run_once(images)
        again = await updater.run_once(images)
    finally:
        server.stop()

    assert first.errors == {}
    assert first.latest["flux-system:web"].tag == "1.10.0"  # 1.x, by version; 2.0.0 is out
    assert first.latest["flux-system:worker"].tag == "main-ccc-101"  # by the extracted number
    pushed = first.pushed["flux-system/fleet"]
    assert git(origin.bare, "rev-parse", "main") == pushed.sha
    assert git(origin.bare, "rev-parse", "main^") == start
    assert git(origin.bare, "log", "-1", "--format=%an|%s", "main") == (
        f"fluxcdbot|Bump {host}/team/web:1.10.0 {host}/team/worker:main-ccc-101"
    )
    assert git(origin.bare, "show", "main:apps/web.yaml") == WEB.format(host=host).replace(
        "1.0.0", "1.10.0"
    ).rstrip("\n")
    kustomization = git(origin.bare, "show", "main:apps/kustomization.yaml")
    assert "newTag: main-ccc-101 # {" in kustomization
    assert git(origin.bare, "show", "main:other/web.yaml") == WEB.format(host=host).rstrip("\n")
    assert announced == [server.url(origin)]
    assert again.pushed == {}  # nothing new: no commit


PINNED_DOCUMENTS = """\
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImageRepository
metadata: {{name: web, namespace: flux-system}}
spec: {{image: '{host}/team/web', interval: 1m, insecure: true}}
---
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImagePolicy
metadata: {{name: web, namespace: flux-system}}
spec:
  imageRepositoryRef: {{name: web}}
  digestReflectionPolicy: {reflect}
  policy: {{semver: {{range: 1.x}}}}
---
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImageUpdateAutomation
metadata: {{name: fleet, namespace: flux-system}}
spec:
  interval: 1m
  sourceRef: {{kind: GitRepository, name: fleet}}
  git: {{commit: {{author: {{name: bot, email: bot@example.com}}}}}}
  update: {{path: ./apps, strategy: Setters}}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {{name: fleet, namespace: flux-system}}
spec: {{url: '{url}', interval: 1m, ref: {{branch: main}}}}
"""
PINNED_VALUES = """\
image: {host}/team/web:1.0.0 # {{"$imagepolicy": "flux-system:web"}}
digest: none # {{"$imagepolicy": "flux-system:web:digest"}}
"""


@pytest.mark.parametrize(
    ("reflect", "follows_a_moved_tag"), [("IfNotPresent", False), ("Always", True)]
)
async def test_a_policy_that_reflects_digests_pins_what_the_tag_points_at(
    images_registry: Images,
    origin: GitRepo,
    tmp_path: Path,
    reflect: str,
    follows_a_moved_tag: bool,
) -> None:
    """The selected tag is written with its digest (image:tag@sha256:..., and alone at
    :digest markers), the digest the registry serves (read here by oras). When the tag
    is pushed again with another image, Always follows it; IfNotPresent keeps the first."""
    host = images_registry.server.host
    images_registry.push("team/web", "1.0.0", "1.10.0")
    origin.commit({"apps/values.yaml": PINNED_VALUES.format(host=host)})
    server = HttpGitServer(tmp_path / "git", "bot", "token")
    try:
        config = tmp_path / "flux.yaml"
        config.write_text(
            PINNED_DOCUMENTS.format(host=host, url=server.url(origin), reflect=reflect)
        )
        images = parse_images([(str(config), d) for d in read_documents(config)], {})
        updater = ImageUpdater(
            tmp_path / "cache",
            list_tags,
            git_credentials=lambda _url: RepoCredentials(username="bot", password="token"),
            tag_digest=tag_digest,
        )
        first = await updater.run_once(images)
        first_digest = images_registry.digest("team/web", "1.10.0")
        images_registry.push("team/web", "1.10.0", build="rebuilt")  # the tag moves
        moved_digest = images_registry.digest("team/web", "1.10.0")
        second = await updater.run_once(images)
    finally:
        server.stop()

    assert first.errors == second.errors == {}
    assert first_digest != moved_digest
    assert first.pushed["flux-system/fleet"]
    expected = moved_digest if follows_a_moved_tag else first_digest
    assert bool(second.pushed) is follows_a_moved_tag
    assert git(origin.bare, "show", "main:apps/values.yaml").splitlines() == [
        f'image: {host}/team/web:1.10.0@{expected} # {{"$imagepolicy": "flux-system:web"}}',
        f'digest: {expected} # {{"$imagepolicy": "flux-system:web:digest"}}',
    ]
