"""`gitward serve`: run the controller and its HTTP API until stopped."""

from __future__ import annotations

import asyncio
import os
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gitward import logs
from gitward.cli import appflags as f
from gitward.cli import uiflags as u
from gitward.cli.output import err_console
from gitward.cli.policyflags import PolicyPaths
from gitward.errors import ConfigError
from gitward.ha.replica import HaSettings
from gitward.reconcile.config import ConfigLocation

if TYPE_CHECKING:
    from gitward.serve import Service


def _listen(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit():
        raise ConfigError(f"--listen {value!r}: use HOST:PORT, e.g. 127.0.0.1:8080")
    return host.strip("[]") or "127.0.0.1", int(port)


def _ha(
    on: bool, replica_id: str | None, namespace: str, duration: float, shard_by: str
) -> HaSettings | None:
    """The --ha settings; the replica id defaults to the pod name, else the host name."""
    if shard_by not in ("app", "cluster"):
        raise ConfigError(f"--shard-by {shard_by!r}: use app or cluster")
    if not on:
        if replica_id is not None:
            raise ConfigError("--replica-id needs --ha")
        if shard_by != "app":
            raise ConfigError("--shard-by needs --ha")
        return None
    if duration < 3:
        raise ConfigError(f"--lease-duration {duration:g}: use at least 3 seconds")
    name = replica_id or os.environ.get("POD_NAME") or socket.gethostname()
    return HaSettings(
        replica_id=name, namespace=namespace, lease_duration=duration, shard_by=shard_by
    )


def serve(
    config: Annotated[
        str,
        typer.Option(
            help="Folder of Application/Cluster documents, or a Git repository URL holding them."
        ),
    ],
    config_path: Annotated[
        str | None,
        typer.Option(
            help="With a Git URL: the folder inside the repository \\[default: the root]."
        ),
    ] = None,
    config_revision: Annotated[
        str | None, typer.Option(help="With a Git URL: branch, tag or SHA \\[default: HEAD].")
    ] = None,
    health_rules: Annotated[
        str | None,
        typer.Option(
            help="Folder of health rule files in the config repository (from its root, or "
            "from the --config folder), read at every config revision; its rules replace "
            "the bundled ones. Not read as declarations."
        ),
    ] = None,
    listen: Annotated[str, typer.Option(help="Address of the HTTP API.")] = "127.0.0.1:8080",
    state_dir: Annotated[
        Path | None,
        typer.Option(
            help="Admin token and SQLite database \\[default: $XDG_STATE_HOME/gitward/server]."
        ),
    ] = None,
    db: Annotated[
        str | None,
        typer.Option(
            envvar="GITWARD_DB",
            show_envvar=True,
            help="sqlite:///FILE or postgresql://USER@HOST:PORT/DB (from the environment, a "
            "password stays out of the process list) \\[default: STATE_DIR/gitward.db].",
        ),
    ] = None,
    kubeconfig: Annotated[
        str | None,
        typer.Option(help="Kubeconfig for apps that name no cluster \\[default: $KUBECONFIG]."),
    ] = None,
    context: Annotated[str | None, typer.Option(help="Kubeconfig context.")] = None,
    webhook_secret_file: Annotated[
        Path | None,
        typer.Option(help="Shared secret for Git webhooks (without it every webhook is refused)."),
    ] = None,
    admin_token_file: Annotated[
        Path | None,
        typer.Option(
            help="Read the admin API token from this file (for example a mounted Secret) "
            "instead of creating one in the state directory."
        ),
    ] = None,
    poll_interval: Annotated[
        float, typer.Option(help="Seconds between polls of each app (with ±10% jitter).")
    ] = 180.0,
    workers: Annotated[int, typer.Option(help="Apps reconciled in parallel at most.")] = 4,
    field_manager: Annotated[
        str, typer.Option(help="Server-side apply field manager of every write.")
    ] = "gitward",
    inventory_namespace: Annotated[
        str, typer.Option(help="Namespace of the inventory ConfigMaps (created when missing).")
    ] = "gitward-system",
    username: f.Username = None,
    password_file: f.PasswordFile = None,
    ssh_key: f.SshKey = None,
    known_hosts: f.KnownHosts = None,
    decryption_key_file: Annotated[
        Path | None,
        typer.Option(help="age identity file to decrypt SOPS-encrypted files of every app."),
    ] = None,
    policy: PolicyPaths = None,
    policy_path: Annotated[
        str | None,
        typer.Option(
            help="A folder of policies in the config location, read at its latest commit "
            "for every sync (policy changes go through pull requests too)."
        ),
    ] = None,
    notifications: Annotated[
        Path | None,
        typer.Option(
            help="Notifications file: commit statuses, signed webhooks, Slack "
            "(docs/notifications.md)."
        ),
    ] = None,
    ui_listen: u.UiListen = None,
    ui_session_ttl: u.UiSessionTtl = 8 * 3600.0,
    tokens_file: u.TokensFile = None,
    roles: u.Roles = None,
    oidc_issuer: u.OidcIssuer = None,
    oidc_client_id: u.OidcClientId = "gitward",
    oidc_client_secret_file: u.OidcSecretFile = None,
    oidc_redirect_url: u.OidcRedirect = None,
    oidc_ca_file: u.OidcCa = None,
    ha: Annotated[
        bool,
        typer.Option(
            "--ha",
            help="Run as one of several replicas sharing the --db PostgreSQL: each holds a "
            "Lease, apps are spread over the live ones (docs/ha.md).",
        ),
    ] = False,
    replica_id: Annotated[
        str | None,
        typer.Option(
            help="With --ha: this replica's name \\[default: $POD_NAME, else the host name]."
        ),
    ] = None,
    lease_namespace: Annotated[
        str | None,
        typer.Option(
            help="With --ha: namespace of the replica Leases \\[default: --inventory-namespace]."
        ),
    ] = None,
    lease_duration: Annotated[
        float,
        typer.Option(help="With --ha: seconds a replica's Lease lasts without renewal."),
    ] = 15.0,
    shard_by: Annotated[
        str,
        typer.Option(
            help="With --ha: what the replicas share out: app, or cluster (every app of "
            "one destination cluster on one replica)."
        ),
    ] = "app",
    log_format: Annotated[str, typer.Option(help="text or json.")] = "text",
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
) -> None:
    """Keep applications in sync with Git: poll, webhooks, drift correction, history, API."""
    # Imported here: the server, its store (SQLAlchemy, alembic) and HTTP stack are heavy,
    # and every other command would pay for them at start-up.
    from gitward.serve import ServeSettings, default_state_dir, run  # noqa: PLC0415

    if log_format not in ("text", "json"):
        raise typer.BadParameter("use text or json", param_hint="--log-format")
    logs.setup(json_format=log_format == "json", level=log_level)
    host, port = _listen(listen)
    source = f.settings(
        username=username,
        password_file=password_file,
        ssh_key=ssh_key,
        known_hosts=known_hosts,
        decryption_key_file=decryption_key_file,
    )
    settings = ServeSettings(
        config=ConfigLocation.parse(config, config_path, config_revision, health_rules),
        state_dir=state_dir or default_state_dir(),
        host=host,
        port=port,
        db_url=db,
        kubeconfig=kubeconfig,
        context=context,
        webhook_secret_file=webhook_secret_file,
        admin_token_file=admin_token_file,
        poll_interval=poll_interval,
        workers=workers,
        keys=source.keys,
        credentials=source.credentials,
        field_manager=field_manager,
        inventory_namespace=inventory_namespace,
        policies=tuple(policy or ()),
        policy_path=policy_path,
        notifications=notifications,
        tokens_file=tokens_file,
        roles_file=roles,
        ui=u.ui_settings(
            _listen(ui_listen) if ui_listen else None,
            ui_session_ttl,
            oidc_issuer,
            oidc_client_id,
            oidc_client_secret_file,
            oidc_redirect_url,
            oidc_ca_file,
        ),
        ha=_ha(ha, replica_id, lease_namespace or inventory_namespace, lease_duration, shard_by),
    )

    async def announce(service: Service) -> None:
        err_console.print(
            f"gitward is serving {len(service.controller.apps)} applications "
            f"on http://{host}:{service.port}"
        )
        err_console.print(f"admin API token: {service.token_path} (use it as a bearer token)")
        if service.ui is not None:
            err_console.print(f"web UI on http://{service.ui.settings.host}:{service.ui.port}")

    asyncio.run(run(settings, announce))
