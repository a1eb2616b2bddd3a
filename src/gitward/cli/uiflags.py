"""``gitward serve`` flags of the web UI, single sign-on and roles (docs/ui.md)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gitward.errors import ConfigError

if TYPE_CHECKING:
    from gitward.ui.server import UiSettings

UiListen = Annotated[
    str | None,
    typer.Option(help="Serve the web UI on HOST:PORT (its own listener) \\[default: off]."),
]
UiSessionTtl = Annotated[
    float, typer.Option(help="Seconds a web UI session lasts before signing in again.")
]
TokensFile = Annotated[
    Path | None,
    typer.Option(help="More API tokens: a YAML list of {name, role, token_sha256} (docs/ui.md)."),
]
Roles = Annotated[
    Path | None,
    typer.Option(
        help="Role policy read once at start: who may view, sync, roll back or suspend "
        "which apps, projects, clusters, by user or OIDC group; its grants add to the "
        "config repository's RolePolicy (docs/ui.md)."
    ),
]
OidcIssuer = Annotated[
    str | None, typer.Option(help="OpenID Connect issuer URL: enables single sign-on.")
]
OidcClientId = Annotated[str, typer.Option(help="OIDC client id registered for gitward.")]
OidcSecretFile = Annotated[Path | None, typer.Option(help="File holding the OIDC client secret.")]
OidcRedirect = Annotated[
    str | None,
    typer.Option(
        help="The UI's callback URL as browsers reach it \\[default: http://UI-LISTEN/auth/callback]."
    ),
]
OidcCa = Annotated[
    Path | None, typer.Option(help="CA bundle to verify the OIDC provider's certificate.")
]


def ui_settings(
    listen: tuple[str, int] | None,
    session_ttl: float,
    issuer: str | None,
    client_id: str,
    secret_file: Path | None,
    redirect: str | None,
    ca_file: Path | None,
) -> UiSettings | None:
    """The UI's settings, or None when ``--ui-listen`` is not given."""
    from gitward.ui.oidc import OidcSettings  # noqa: PLC0415 - serve-only imports
    from gitward.ui.server import UiSettings  # noqa: PLC0415

    if listen is None:
        if issuer:
            raise ConfigError("--oidc-issuer needs --ui-listen: single sign-on is for the UI")
        return None
    host, port = listen
    oidc = None
    if issuer:
        if secret_file is None:
            raise ConfigError("--oidc-issuer needs --oidc-client-secret-file")
        try:
            secret = secret_file.read_text().strip()
        except OSError as e:
            raise ConfigError(f"cannot read --oidc-client-secret-file: {e.strerror}") from e
        oidc = OidcSettings(
            issuer=issuer,
            client_id=client_id,
            client_secret=secret,
            redirect_url=redirect or f"http://{host}:{port}/auth/callback",
            ca_file=str(ca_file) if ca_file else None,
        )
    return UiSettings(host=host, port=port, session_ttl=session_ttl, oidc=oidc)
