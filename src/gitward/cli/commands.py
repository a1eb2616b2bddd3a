"""The table of `gitward`'s top-level commands: name, where it lives, its help.

Kept apart and free of imports so that the dispatcher (:mod:`gitward.cli.main`) can list
every command, and answer ``--help``, without importing any of them. The help strings
must equal the commands' own (``tests/unit/test_cli_lazy.py`` checks it).

Adding a command: write it in its own module and add one :class:`Command` row.
"""

from __future__ import annotations

from typing import NamedTuple

HELP = "gitward: a GitOps engine. Git holds the desired state; gitward makes clusters match."


class Command(NamedTuple):
    """One top-level command: a Typer command function, or a Typer sub-app (``group``)."""

    name: str
    module: str
    attribute: str
    help: str
    group: bool = False


COMMANDS: tuple[Command, ...] = (
    Command(
        "render",
        "gitward.cli.engine_commands",
        "render",
        "Render an application's manifests at a revision, as a YAML stream (sorted).",
    ),
    Command(
        "diff",
        "gitward.cli.engine_commands",
        "diff",
        "Show what a sync would change, per object, secrets masked. Exit 0 in sync, 1 if not.",
    ),
    Command(
        "sync",
        "gitward.cli.engine_commands",
        "sync",
        "Apply an application to the cluster: waves, hooks, prune, health. Exit 1 on failure.",
    ),
    Command(
        "serve",
        "gitward.cli.serve",
        "serve",
        "Keep applications in sync with Git: poll, webhooks, drift correction, history, API.",
    ),
    Command(
        "health",
        "gitward.cli.health",
        "health",
        "Report the health of every object in the given files, without a cluster.",
    ),
    Command(
        "validate",
        "gitward.cli.validate",
        "validate",
        "Render, schema-check and policy-check apps offline. Exit 0 clean, 1 denied, 2 error.",
    ),
    Command(
        "preview",
        "gitward.cli.preview",
        "preview",
        "Diff every app between two commits (or head against live). Exit 0, 1 denied, 2 error.",
    ),
    Command(
        "bootstrap",
        "gitward.cli.bootstrap",
        "bootstrap",
        "Install gitward into the current cluster and commit the install to Git (idempotent).",
    ),
    Command(
        "import",
        "gitward.cli.importing",
        "import_",
        "Write gitward declarations for the Flux or Argo CD apps of a live cluster.",
    ),
    Command(
        "app",
        "gitward.cli.app_commands",
        "app",
        "Inspect and operate the applications of a running `gitward serve` over its API.",
        group=True,
    ),
    Command(
        "cluster",
        "gitward.cli.cluster_commands",
        "app",
        "Show the clusters of a running `gitward serve`: health, version, labels, apps.",
        group=True,
    ),
    Command(
        "dev-cluster",
        "gitward.cli.devcluster",
        "app",
        "Run a local Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager, "
        "kube-scheduler, kwok) built from Go modules, on 127.0.0.1.",
        group=True,
    ),
)
