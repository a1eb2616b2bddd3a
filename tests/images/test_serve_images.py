"""Image automation under ``gitward serve``, end to end and all real: tags pushed with
``oras`` to the built registry, Flux's three documents beside the Application, the
repository served over smart HTTP, and the dev cluster. A new tag is committed,
pushed and deployed; the commit is the automation's, on top of the branch."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gitward.kube.client import KubeClient
from gitward.model import ResourceKey
from tests.images.conftest import Images
from tests.serve.conftest import Serve
from tests.support.git_server import FaultyGitServer
from tests.support.waiting import eventually

pytestmark = pytest.mark.cluster


@pytest.fixture
def served(tmp_path: Path) -> Iterator[FaultyGitServer]:
    server = FaultyGitServer(tmp_path / "served")
    yield server
    server.stop()


def git(cwd: Path, *args: str) -> str:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(cwd),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_AUTHOR_NAME": "Dev",
        "GIT_AUTHOR_EMAIL": "dev@example.com",
        "GIT_COMMITTER_NAME": "Dev",
        "GIT_COMMITTER_EMAIL": "dev@example.com",
    }
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def deployment(image: str) -> str:
    return f"""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers:
        - name: web
          # the front end; the tag below is kept current by image automation
          image: {image} # {{"$imagepolicy": "apps:web"}}
"""


def declarations(name: str, url: str, namespace: str, image: str) -> str:
    return f"""\
apiVersion: gitward.dev/v1alpha1
kind: Application
metadata: {{name: {name}}}
spec:
  source: {{repoURL: '{url}', path: deploy, targetRevision: main}}
  destination: {{namespace: {namespace}}}
  syncPolicy: {{automated: {{prune: true}}}}
---
apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImageRepository
metadata: {{name: web, namespace: apps}}
spec:
  image: {image}
  interval: 1s
  insecure: true
---
apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImagePolicy
metadata: {{name: web, namespace: apps}}
spec:
  imageRepositoryRef: {{name: web}}
  policy:
    semver: {{range: ">=1.0.0"}}
---
apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImageUpdateAutomation
metadata: {{name: web, namespace: apps}}
spec:
  interval: 1s
  sourceRef: {{kind: Application, name: {name}}}
  git:
    checkout: {{ref: {{branch: main}}}}
    commit:
      author: {{name: Image Bot, email: bot@example.com}}
      messageTemplate: "{{{{range .Updated.Images}}}}Bump {{{{.}}}}{{{{end}}}}"
    push: {{branch: main}}
  update: {{path: ./deploy, strategy: Setters}}
"""


async def live_image(cluster: KubeClient, namespace: str) -> str | None:
    live = await cluster.get(ResourceKey("apps", "Deployment", namespace, "web"))
    if live is None:
        return None
    return str(live["spec"]["template"]["spec"]["containers"][0]["image"])


async def test_a_new_tag_is_committed_pushed_and_deployed(  # noqa: PLR0917
    serve: Serve,
    images_registry: Images,
    served: FaultyGitServer,
    cluster: KubeClient,
    namespace: str,
    tmp_path: Path,
) -> None:
    image = f"{images_registry.server.host}/team/web"
    images_registry.push("team/web", "1.0.0", "0.9.0")
    bare = tmp_path / "served" / "web.git"
    work = tmp_path / "work"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    git(bare, "config", "http.receivepack", "true")
    git(tmp_path, "clone", "-q", str(bare), str(work))
    (work / "deploy").mkdir()
    (work / "deploy" / "web.yaml").write_text(deployment(f"{image}:1.0.0"))
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", "web")
    git(work, "push", "-q", "origin", "HEAD:main")
    start = git(bare, "rev-parse", "main")
    name = f"web-{namespace}"
    running = await serve({"apps.yaml": declarations(name, served.url(bare), namespace, image)})
    await running.wait_app(name, lambda a: a["revision"]["live"] == start)
    assert await live_image(cluster, namespace) == f"{image}:1.0.0"

    images_registry.push("team/web", "1.1.0")
    await eventually(
        lambda: live_image(cluster, namespace),
        lambda v: v == f"{image}:1.1.0",
        what="the Deployment to run the new tag",
        timeout=120,
    )

    head = git(bare, "rev-parse", "main")
    assert git(bare, "rev-parse", "main^") == start  # on top of the branch: nothing lost
    assert git(bare, "log", "-1", "--format=%an|%s", "main") == f"Image Bot|Bump {image}:1.1.0"
    text = git(bare, "show", "main:deploy/web.yaml")
    assert text == deployment(f"{image}:1.1.0").rstrip("\n")  # comments and layout kept
    app: dict[str, Any] = await running.wait_app(name, lambda a: a["revision"]["live"] == head)
    assert app["syncState"] == "Synced"
