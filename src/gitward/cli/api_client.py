"""The HTTP API client behind `gitward app`: connection, token, error translation.

It needs the server URL and a bearer token, read from a file so that it never shows up
in ``ps`` or shell history. It imports no controller, store or Kubernetes code, so it
works from any machine that can reach the server.

Failures become :class:`~gitward.errors.GitwardError` subclasses with the server's own
message and a hint, so `gitward` prints ``error: ...`` and exits 2 instead of a
traceback. The token is never printed, not even in errors.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2 as httpx

from gitward.errors import ConfigError, GitwardError

DEFAULT_SERVER = "http://127.0.0.1:8080"
REQUEST_TIMEOUT = 30.0


def default_token_file() -> Path:
    """The admin token `gitward serve` creates in its default state directory.

    Computed here rather than imported from :mod:`gitward.serve`, so that the client
    does not load the server (uvicorn, Kubernetes, the store) just to find a file.
    """
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "gitward" / "server" / "admin-token"


class ServerError(GitwardError):
    """The API answered with an error, or could not be reached at all."""

    def __init__(self, message: str, *, status: int | None = None, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.status = status
        self.transient = status is None or status >= 500


def server_message(response: httpx.Response) -> tuple[str, str | None]:
    """The server's ``{"error", "hint"}`` body, or its text when it is not JSON."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip() or response.reason_phrase, None
    if not isinstance(body, dict):
        return str(body), None
    message, hint = str(body.get("error") or body), body.get("hint")
    if not hint and "\n  hint: " in message:  # some 400s fold the hint into the message
        message, hint = message.split("\n  hint: ", 1)
    return message, str(hint) if hint else None


def http_error(response: httpx.Response, server: str, token_file: Path) -> ServerError:
    """Turn an error answer into a message that says what to do about it."""
    status = response.status_code
    message, hint = server_message(response)
    if status == 401:
        hint = (
            f"check --token-file ({token_file}): it must hold the admin token of the server "
            f"at {server} (`gitward serve` writes it to STATE_DIR/admin-token)"
        )
    elif status == 403:
        hint = hint or "this token may only read; actions need a token with the admin role"
    elif status == 404:
        hint = hint or "see `gitward app list` for the applications this server manages"
    elif status >= 500:
        hint = hint or "the server failed; its log says why"
    return ServerError(f"{server} answered {status}: {message}", status=status, hint=hint)


class Client:
    """A synchronous API client: one connection pool, the token, error translation."""

    def __init__(self, server: str, token_file: Path | None) -> None:
        self.server = server.rstrip("/")
        if not self.server.startswith(("http://", "https://")):
            raise ConfigError(
                f"--server {server!r} is not an HTTP URL", hint=f"e.g. {DEFAULT_SERVER}"
            )
        self.token_file = token_file or default_token_file()
        self._http = httpx.Client(
            base_url=self.server,
            timeout=REQUEST_TIMEOUT,
            headers={"Authorization": f"Bearer {read_token(self.token_file)}"},
        )

    def close(self) -> None:
        self._http.close()

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, f"/api/v1{path}", **kwargs)
        except httpx.TimeoutException as e:
            raise ServerError(
                f"{self.server} did not answer within {REQUEST_TIMEOUT:g}s ({type(e).__name__})",
                hint="the server may be overloaded; try again, or check its log",
            ) from e
        except httpx.HTTPError as e:
            raise ServerError(
                f"cannot reach {self.server}: {e}",
                hint=f"is `gitward serve` running at {self.server}? "
                "Set --server or GITWARD_SERVER to where it listens",
            ) from e
        if response.status_code >= 400:
            raise http_error(response, self.server, self.token_file)
        return response.json()

    def app(self, name: str) -> dict[str, Any]:
        body: dict[str, Any] = self.request("GET", f"/applications/{name}")
        return body


def read_token(path: Path) -> str:
    try:
        token = path.read_text().strip()
    except FileNotFoundError as e:
        raise ConfigError(
            f"no API token file at {path}",
            hint="pass --token-file (or GITWARD_TOKEN_FILE); `gitward serve` writes its "
            "admin token to STATE_DIR/admin-token on first start",
        ) from e
    except OSError as e:
        raise ConfigError(f"cannot read the API token file {path}: {e.strerror}") from e
    if not token:
        raise ConfigError(f"the API token file {path} is empty", hint="pass --token-file")
    return token


@contextmanager
def connect(server: str, token_file: Path | None) -> Iterator[Client]:
    client = Client(server, token_file)
    try:
        yield client
    finally:
        client.close()
