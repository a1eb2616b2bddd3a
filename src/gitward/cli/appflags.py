"""The options `render`, `diff` and `sync` share: where the app comes from and goes to.

An application is given either as flags (``--repo --revision --path ...``) or as an
``Application`` document (``-f app.yaml``, gitward's or Argo CD's); ``--revision`` may
override the document's ``targetRevision``. Other source flags next to ``-f`` are an
error rather than a silent override.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated

import typer

from gitward.compose import Settings
from gitward.errors import ConfigError
from gitward.model import (
    AppSpec,
    DecryptionKeys,
    Destination,
    DirectoryOptions,
    HelmOptions,
    KustomizeOptions,
    RepoCredentials,
    SourceSpec,
    SyncPolicy,
)
from gitward.spec import parse_application
from gitward.spec.declarations import read_documents

SOURCE = "Source"
CLUSTER = "Cluster"

AppFile = Annotated[
    Path | None,
    typer.Option(
        "-f",
        "--file",
        help="An Application document (gitward.dev/v1alpha1 or argoproj.io/v1alpha1).",
        rich_help_panel=SOURCE,
    ),
]
Repo = Annotated[
    str | None, typer.Option("--repo", help="Repository URL or local path.", rich_help_panel=SOURCE)
]
RevisionOpt = Annotated[
    str | None,
    typer.Option(
        "--revision", help="Branch, tag, commit SHA, semver range or HEAD.", rich_help_panel=SOURCE
    ),
]
PathOpt = Annotated[
    str | None, typer.Option("--path", help="Path inside the repository.", rich_help_panel=SOURCE)
]
Name = Annotated[
    str | None,
    typer.Option(
        "--name",
        help="Application name \\[default: the last part of --path].",
        rich_help_panel=SOURCE,
    ),
]
Renderer = Annotated[
    str, typer.Option(help="auto, directory, kustomize or helm.", rich_help_panel=SOURCE)
]
Recurse = Annotated[
    bool,
    typer.Option("--recurse", help="Directory: include subdirectories.", rich_help_panel=SOURCE),
]
Include = Annotated[
    str | None, typer.Option(help="Directory: glob of files to include.", rich_help_panel=SOURCE)
]
Exclude = Annotated[
    str | None, typer.Option(help="Directory: glob of files to exclude.", rich_help_panel=SOURCE)
]
HelmRelease = Annotated[
    str | None, typer.Option(help="Helm release name \\[default: --name].", rich_help_panel=SOURCE)
]
HelmValuesFile = Annotated[
    list[str] | None,
    typer.Option(
        "--values-file",
        help="Helm values file, relative to the chart (repeatable).",
        rich_help_panel=SOURCE,
    ),
]
HelmValues = Annotated[
    str | None, typer.Option("--values", help="Helm values as inline YAML.", rich_help_panel=SOURCE)
]
DestNamespace = Annotated[
    str | None,
    typer.Option(
        "--dest-namespace",
        "-n",
        help="Namespace for namespaced objects that name none.",
        rich_help_panel=CLUSTER,
    ),
]
Kubeconfig = Annotated[
    str | None,
    typer.Option(help="Kubeconfig file \\[default: $KUBECONFIG].", rich_help_panel=CLUSTER),
]
Context = Annotated[
    str | None,
    typer.Option(help="Kubeconfig context \\[default: current].", rich_help_panel=CLUSTER),
]
Username = Annotated[str | None, typer.Option(help="Git HTTPS user name.", rich_help_panel=SOURCE)]
PasswordFile = Annotated[
    Path | None,
    typer.Option(
        help="File holding the Git HTTPS password or token (or set GITWARD_GIT_PASSWORD).",
        rich_help_panel=SOURCE,
    ),
]
SshKey = Annotated[
    Path | None, typer.Option(help="SSH private key for Git.", rich_help_panel=SOURCE)
]
DecryptionKeyFile = Annotated[
    Path | None,
    typer.Option(
        help="age identity file (as age-keygen writes it) to decrypt SOPS-encrypted files.",
        rich_help_panel=SOURCE,
    ),
]
KnownHosts = Annotated[
    Path | None, typer.Option(help="known_hosts file for Git over SSH.", rich_help_panel=SOURCE)
]


@dataclass(frozen=True)
class AppFlags:
    file: Path | None = None
    repo: str | None = None
    revision: str | None = None
    path: str | None = None
    name: str | None = None
    renderer: str = "auto"
    recurse: bool = False
    include: str | None = None
    exclude: str | None = None
    helm_release: str | None = None
    values_files: tuple[str, ...] = ()
    values: str | None = None
    dest_namespace: str | None = None


def build_app(flags: AppFlags, policy: SyncPolicy | None = None) -> AppSpec:
    """The AppSpec named by ``-f`` or by the flags."""
    if flags.file is not None:
        return _from_file(flags)
    if not flags.repo:
        raise ConfigError(
            "give an application with -f app.yaml, or a source with --repo",
            hint="e.g. gitward render --repo . --path deploy/",
        )
    path = flags.path or "."
    name = flags.name or _name_from(path)
    renderer = flags.renderer.lower()
    if renderer not in ("auto", "directory", "kustomize", "helm"):
        raise ConfigError(f"--renderer {flags.renderer!r}: use auto, directory, kustomize or helm")
    helm_given = flags.helm_release or flags.values_files or flags.values
    source = SourceSpec(
        repo_url=flags.repo,
        path=path,
        target_revision=flags.revision or "HEAD",
        directory=DirectoryOptions(flags.recurse, flags.include, flags.exclude)
        if renderer == "directory" or flags.recurse or flags.include or flags.exclude
        else None,
        helm=HelmOptions(flags.helm_release, flags.values, flags.values_files)
        if renderer == "helm" or helm_given
        else None,
        kustomize=KustomizeOptions() if renderer == "kustomize" else None,
    )
    return AppSpec(
        name=name,
        source=source,
        destination=Destination(namespace=flags.dest_namespace),
        sync_policy=policy or SyncPolicy(),
    )


def _from_file(flags: AppFlags) -> AppSpec:
    assert flags.file is not None  # noqa: S101 - checked by the caller
    clashing = [
        n
        for n, v in (
            ("--repo", flags.repo),
            ("--path", flags.path),
            ("--values", flags.values),
            ("--include", flags.include),
        )
        if v
    ]
    if clashing:
        raise ConfigError(
            f"{', '.join(clashing)} cannot be combined with -f; "
            "edit the Application document instead"
        )
    docs = [d for d in read_documents(flags.file) if d]
    if len(docs) != 1:
        raise ConfigError(f"{flags.file} must hold exactly one Application, found {len(docs)}")
    app = parse_application(docs[0], origin=str(flags.file))
    source = app.source
    if flags.revision:
        source = replace(source, target_revision=flags.revision)
    if source.repo_url and "://" not in source.repo_url and not source.repo_url.startswith("/"):
        local = (flags.file.parent / source.repo_url).resolve()
        if local.exists() and "@" not in source.repo_url:
            source = replace(source, repo_url=str(local))  # a path relative to the file
    destination = app.destination
    if flags.dest_namespace:
        destination = replace(destination, namespace=flags.dest_namespace)
    return replace(app, source=source, destination=destination)


def _name_from(path: str) -> str:
    base = Path(path.rstrip("/")).name or "app"
    cleaned = "".join(c if c.isalnum() else "-" for c in base.lower()).strip("-")
    return cleaned[:63] or "app"


def settings(
    *,
    kubeconfig: str | None = None,
    context: str | None = None,
    username: str | None = None,
    password_file: Path | None = None,
    ssh_key: Path | None = None,
    known_hosts: Path | None = None,
    decryption_key_file: Path | None = None,
) -> Settings:
    password = os.environ.get("GITWARD_GIT_PASSWORD")
    if password_file is not None:
        try:
            password = password_file.read_text().strip()
        except OSError as e:
            raise ConfigError(f"cannot read --password-file {password_file}: {e.strerror}") from e
    credentials = None
    if username or password or ssh_key or known_hosts:
        credentials = RepoCredentials(
            username=username,
            password=password,
            ssh_private_key_file=str(ssh_key) if ssh_key else None,
            known_hosts_file=str(known_hosts) if known_hosts else None,
        )
    return Settings(
        kubeconfig=kubeconfig,
        context=context,
        credentials=credentials,
        keys=read_keys(decryption_key_file),
    )


def read_keys(path: Path | None) -> DecryptionKeys:
    """The age identities of ``--decryption-key-file``, or none."""
    if path is None:
        return DecryptionKeys()
    try:
        text = path.read_text()
    except OSError as e:
        raise ConfigError(f"cannot read --decryption-key-file {path}: {e.strerror}") from e
    # Imported here: pyrage and cryptography are needed only when a key file is given.
    from gitward.render.sops_keys import parse_identities  # noqa: PLC0415

    return parse_identities(text, f"--decryption-key-file {path}")
