"""ApplicationSets under ``gitward serve``: real cluster, real Git, real webhooks.

One config holds a set per generator kind (list, clusters, git directories, git files,
matrix, merge); the apps they stamp out must sync their own objects. Removing an
element (in the config, or a folder in Git followed by a push) removes the app and
prunes its objects, unless the set preserves them. A broken set (an unknown key, a
missing Git path, two elements making one app name) is reported on ``/readyz`` and
keeps its apps, while the other sets and ``serve`` carry on.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest

from gitward.devcluster import ClusterState
from gitward.kube.client import KubeClient
from gitward.model import ResourceKey
from tests.engine.conftest import GitRepo
from tests.serve.conftest import Running, Serve
from tests.support.waiting import eventually

pytestmark = pytest.mark.cluster


def configmap(name: str) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\ndata: {{app: {name}}}\n"


def app_repo(repo: GitRepo, folders: Iterable[str]) -> str:
    """One ConfigMap per folder, named after the folder (``dirs/web`` -> ``dirs-web``)."""
    repo.write({f"{f}/cm.yaml": configmap(f.replace("/", "-")) for f in folders})
    repo.write({"config/eu.json": '{"region": "eu"}', "config/us.yaml": "region: us\n"})
    return repo.commit()


def clusters(control_plane: ClusterState) -> str:
    docs = []
    for name, env in (("prod-a", "prod"), ("prod-b", "prod"), ("dev-c", "dev")):
        docs.append(
            "apiVersion: gitward.dev/v1alpha1\nkind: Cluster\n"
            f"metadata: {{name: {name}, labels: {{env: {env}}}}}\n"
            f"spec: {{kubeconfig: '{control_plane.kubeconfig}'}}\n"
        )
    return "---\n".join(docs)


def appset(
    name: str,
    generators: str,
    app_name: str,
    path: str,
    *,
    namespace: str,
    repo: GitRepo,
    go: bool = True,
    cluster: str = "",
    preserve: bool = False,
) -> str:
    """An Argo CD ApplicationSet document, as Argo CD users write it."""
    options = "  goTemplate: true\n  goTemplateOptions: [missingkey=error]\n" if go else ""
    destination = f"name: '{cluster}', " if cluster else ""
    return (
        "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\n"
        f"metadata: {{name: {name}, namespace: argocd}}\nspec:\n{options}"
        f"  generators:\n{generators}"
        f"  syncPolicy: {{preserveResourcesOnDeletion: {str(preserve).lower()}}}\n"
        "  template:\n"
        f"    metadata: {{name: '{app_name}'}}\n"
        "    spec:\n"
        "      project: default\n"
        f"      source: {{repoURL: '{repo.path}', targetRevision: main, path: '{path}'}}\n"
        f"      destination: {{{destination}namespace: {namespace}}}\n"
        "      syncPolicy: {automated: {prune: true, selfHeal: true}}\n"
    )


def all_sets(namespace: str, repo: GitRepo, control_plane: ClusterState) -> dict[str, str]:
    s = namespace.removeprefix("t-")
    git_dirs = f"  - git: {{repoURL: '{repo.path}', revision: main, directories: [{{path: 'dirs/*'}}, {{path: dirs/skip, exclude: true}}]}}\n"  # noqa: E501
    return {
        "clusters.yaml": clusters(control_plane),
        "list.yaml": appset(
            "list",
            "  - list: {elements: [{item: one}, {item: two}]}\n",
            f"list-{{{{item}}}}-{s}",
            "list/{{item}}",
            namespace=namespace,
            repo=repo,
            go=False,
        ),
        "dirs.yaml": appset(
            "dirs",
            git_dirs,
            f"dirs-{{{{.path.basename}}}}-{s}",
            "{{.path.path}}",
            namespace=namespace,
            repo=repo,
        ),
        "files.yaml": appset(
            "files",
            f"  - git: {{repoURL: '{repo.path}', revision: main, files: [{{path: 'config/*'}}]}}\n",
            f"files-{{{{.region}}}}-{s}",
            "files/{{.region}}",
            namespace=namespace,
            repo=repo,
        ),
        "clusters-set.yaml": appset(
            "by-cluster",
            "  - clusters: {selector: {matchLabels: {env: prod}}}\n",
            f"c-{{{{.name}}}}-{s}",
            '{{printf "clusters/%s" .name}}',
            namespace=namespace,
            repo=repo,
            cluster="{{.name}}",
        ),
        "matrix.yaml": appset(
            "matrix",
            "  - matrix:\n      generators:\n      - list: {elements: [{tier: mx}]}\n"
            f"      - git: {{repoURL: '{repo.path}', revision: main, directories: [{{path: 'matrix/*'}}]}}\n",  # noqa: E501
            f"{{{{.tier}}}}-{{{{.path.basename}}}}-{s}",
            "{{.path.path}}",
            namespace=namespace,
            repo=repo,
        ),
        "merge.yaml": appset(
            "merge",
            "  - merge:\n      mergeKeys: [name]\n      generators:\n"
            "      - clusters: {selector: {matchLabels: {env: prod}}, values: {dir: plain}}\n"
            "      - list: {elements: [{name: prod-b, values: {dir: special}}]}\n",
            f"g-{{{{name}}}}-{s}",
            "merge/{{name}}-{{values.dir}}",
            namespace=namespace,
            repo=repo,
            go=False,
            cluster="{{name}}",
        ),
    }


FOLDERS = (
    "list/one", "list/two", "dirs/web", "dirs/api", "dirs/skip", "files/eu", "files/us",
    "clusters/prod-a", "clusters/prod-b", "clusters/dev-c", "matrix/a", "matrix/b",
    "merge/prod-a-plain", "merge/prod-b-special", "merge/prod-b-plain",
)  # fmt: skip


def expected(namespace: str) -> dict[str, str]:
    """Generated app -> the ConfigMap it must apply."""
    s = namespace.removeprefix("t-")
    apps = {
        "list-one": "list-one", "list-two": "list-two",
        "dirs-web": "dirs-web", "dirs-api": "dirs-api",
        "files-eu": "files-eu", "files-us": "files-us",
        "c-prod-a": "clusters-prod-a", "c-prod-b": "clusters-prod-b",
        "mx-a": "matrix-a", "mx-b": "matrix-b",
        "g-prod-a": "merge-prod-a-plain", "g-prod-b": "merge-prod-b-special",
    }  # fmt: skip
    return {f"{app}-{s}": cm for app, cm in apps.items()}


async def configmaps(cluster: KubeClient, namespace: str, names: Iterable[str]) -> set[str]:
    found = set()
    for name in names:
        if await cluster.get(ResourceKey("", "ConfigMap", namespace, name)) is not None:
            found.add(name)
    return found


def synced(app: dict[str, Any]) -> bool:
    return bool(app["syncState"] == "Synced" and app["health"]["status"] == "Healthy")


async def all_synced(running: Running, names: Iterable[str]) -> None:
    for name in names:
        await running.wait_app(name, synced, timeout=180)


async def test_every_generator_kind_stamps_out_apps_that_sync_their_objects(
    serve: Serve,
    repo: GitRepo,
    cluster: KubeClient,
    namespace: str,
    control_plane: ClusterState,
) -> None:
    app_repo(repo, FOLDERS)
    running = await serve(all_sets(namespace, repo, control_plane))
    want = expected(namespace)
    mine = {n for n in running.controller.apps if n.endswith(namespace.removeprefix("t-"))}

    assert mine == set(want)  # dirs/skip excluded, dev-c not selected, prod-b merged
    await all_synced(running, want)
    every = [f.replace("/", "-") for f in FOLDERS]
    assert await configmaps(cluster, namespace, every) == set(want.values())
    s = namespace.removeprefix("t-")
    assert running.controller.apps[f"dirs-web-{s}"].owner == "ApplicationSet/dirs"
    assert running.controller.apps[f"c-prod-a-{s}"].destination.name == "prod-a"


async def test_a_removed_element_removes_its_app_and_prunes_unless_preserved(
    serve: Serve, repo: GitRepo, cluster: KubeClient, namespace: str
) -> None:
    s = namespace.removeprefix("t-")
    app_repo(repo, ("dirs/web", "dirs/api", "list/one", "list/two"))
    dirs = (
        f"  - git: {{repoURL: '{repo.path}', revision: main, directories: [{{path: 'dirs/*'}}]}}\n"
    )
    kept = "  - list: {elements: [{item: one}, {item: two}]}\n"
    sets = {
        "dirs.yaml": appset(
            "dirs",
            dirs,
            f"d-{{{{.path.basename}}}}-{s}",
            "{{.path.path}}",
            namespace=namespace,
            repo=repo,
        ),
        "kept.yaml": appset(
            "kept",
            kept,
            f"k-{{{{item}}}}-{s}",
            "list/{{item}}",
            namespace=namespace,
            repo=repo,
            go=False,
            preserve=True,
        ),
    }
    running = await serve(sets)
    await all_synced(running, [f"d-web-{s}", f"d-api-{s}", f"k-one-{s}", f"k-two-{s}"])

    repo.remove("dirs/api")
    repo.commit("drop api")
    status, body = await running.push(repo)  # a push to the generator's repository
    (running.config / "kept.yaml").write_text(
        sets["kept.yaml"].replace("[{item: one}, {item: two}]", "[{item: one}]")
    )
    await running.service.reload()

    assert status == 200
    assert body["config"] is True
    assert set(running.controller.apps) >= {f"d-web-{s}", f"k-one-{s}"}
    assert not {f"d-api-{s}", f"k-two-{s}"} & set(running.controller.apps)
    await eventually(
        lambda: configmaps(cluster, namespace, ["dirs-api", "dirs-web", "list-two"]),
        lambda found: found == {"dirs-web", "list-two"},  # pruned; preserved by the set
        what="dirs-api pruned, list-two kept",
    )


async def test_a_broken_set_is_reported_and_keeps_its_apps_while_others_carry_on(
    serve: Serve, repo: GitRepo, cluster: KubeClient, namespace: str
) -> None:
    s = namespace.removeprefix("t-")
    app_repo(repo, ("list/one", "list/two"))
    good = appset(
        "good",
        "  - list: {elements: [{item: one}]}\n",
        f"ok-{{{{item}}}}-{s}",
        "list/{{item}}",
        namespace=namespace,
        repo=repo,
        go=False,
    )
    flaky = appset(
        "flaky",
        "  - list: {elements: [{item: two}]}\n",
        f"fl-{{{{.item}}}}-{s}",
        "list/{{.item}}",
        namespace=namespace,
        repo=repo,
    )
    running = await serve({"good.yaml": good, "flaky.yaml": flaky})
    await all_synced(running, [f"ok-one-{s}", f"fl-two-{s}"])

    broken = flaky.replace("{{.item}}-", "{{.itme}}-")
    missing = appset(
        "missing",
        f"  - git: {{repoURL: '{repo.path}', directories: [{{path: 'nope/*'}}]}}\n",
        f"m-{{{{.path.basename}}}}-{s}",
        "x",
        namespace=namespace,
        repo=repo,
    )
    twice = appset(
        "twice",
        "  - list: {elements: [{item: one}, {item: one}]}\n",
        f"tw-{{{{.item}}}}-{s}",
        "list/{{.item}}",
        namespace=namespace,
        repo=repo,
    )
    (running.config / "flaky.yaml").write_text(broken)
    (running.config / "missing.yaml").write_text(missing)
    (running.config / "twice.yaml").write_text(twice)
    await running.service.reload()
    readyz = await running.api("GET", "/readyz")

    assert readyz[0] == 200
    assert "ApplicationSet flaky (flaky.yaml): spec.generators[0] (list element 0): unknown " \
        "template key .itme" in readyz[1]  # fmt: skip
    assert "ApplicationSet missing (missing.yaml): git generator path 'nope/*'" in readyz[1]
    assert (
        f"ApplicationSet twice (twice.yaml): application 'tw-one-{s}' is generated twice: "
        "by spec.generators[0] (list element 0) and by spec.generators[0] (list element 1)"
    ) in readyz[1]
    assert f"tw-one-{s}" not in running.controller.apps  # nothing from a set that fails
    assert {f"ok-one-{s}", f"fl-two-{s}"} <= set(running.controller.apps)  # kept
    assert await configmaps(cluster, namespace, ["list-two"]) == {"list-two"}
