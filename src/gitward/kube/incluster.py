"""Connecting from inside a pod: the service account's token, CA and namespace.

Kubernetes mounts them at :data:`SERVICE_ACCOUNT_DIR` and sets
``KUBERNETES_SERVICE_HOST``/``PORT``. The token is a *projected* token: the kubelet
replaces the file before it expires (by default within an hour), so it must not be read
once at start. :class:`RotatingToken` re-reads it when the file changes (one ``stat`` per
request, cheap next to the request itself) and at least every minute, as client-go does,
so a rotated token is used from the next request on and a process that runs for weeks
never sends an expired one.
"""

from __future__ import annotations

import os
import ssl
import time
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx2 as httpx

from gitward.errors import ConfigError

SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
_REREAD_SECONDS = 60.0


@dataclass(frozen=True)
class InClusterConfig:
    """Where the API server is and the files that authenticate to it."""

    server: str
    token_file: Path
    ca_file: Path
    namespace: str

    @classmethod
    def detect(
        cls, environ: Mapping[str, str] | None = None, directory: Path = SERVICE_ACCOUNT_DIR
    ) -> InClusterConfig | None:
        """The pod's configuration, or None when this process does not run in a pod."""
        env = os.environ if environ is None else environ
        host, port = env.get("KUBERNETES_SERVICE_HOST"), env.get("KUBERNETES_SERVICE_PORT")
        if not host or not port:
            return None
        token, ca = directory / "token", directory / "ca.crt"
        for path in (token, ca):
            if not path.is_file():
                raise ConfigError(
                    f"KUBERNETES_SERVICE_HOST is set but {path} is missing",
                    hint="mount the service account token (automountServiceAccountToken: "
                    "true) or pass --kubeconfig",
                )
        namespace_file = directory / "namespace"
        namespace = (
            namespace_file.read_text().strip()
            if namespace_file.is_file()
            else env.get("POD_NAMESPACE", "default")
        )
        address = f"[{host}]" if ":" in host else host  # an IPv6 service address
        return cls(f"https://{address}:{port}", token, ca, namespace)

    def http_client(self, *, max_in_flight: int, timeout: float) -> httpx.AsyncClient:
        """An HTTP client for the API server: its CA, the rotating token, no proxies."""
        try:
            tls = ssl.create_default_context(cafile=str(self.ca_file))
        except (OSError, ssl.SSLError) as e:
            raise ConfigError(f"cannot use the cluster CA {self.ca_file}: {e}") from e
        return httpx.AsyncClient(
            base_url=self.server,
            verify=tls,
            auth=RotatingToken(self.token_file),
            timeout=httpx.Timeout(timeout),
            limits=httpx.Limits(
                max_connections=max_in_flight, max_keepalive_connections=max_in_flight
            ),
            trust_env=False,
        )


class RotatingToken(httpx.Auth):
    """Bearer authentication with the token file as it is now, not as it was at start."""

    def __init__(self, path: Path, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._path = path
        self._monotonic = monotonic
        self._token = ""
        self._stamp: tuple[int, int] | None = None
        self._read_at = float("-inf")

    def current(self) -> str:
        try:
            info = self._path.stat()
        except OSError as e:
            raise ConfigError(f"cannot read the service account token {self._path}: {e}") from e
        stamp = (info.st_ino, info.st_mtime_ns)
        now = self._monotonic()
        if stamp != self._stamp or now - self._read_at >= _REREAD_SECONDS:
            token = self._path.read_text().strip()
            if not token:
                raise ConfigError(f"the service account token {self._path} is empty")
            self._token, self._stamp, self._read_at = token, stamp, now
        return self._token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self.current()}"
        yield request
