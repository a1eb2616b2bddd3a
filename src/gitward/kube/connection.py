"""The authenticated HTTP client for one cluster, from a kubeconfig file or mapping.

lightkube reads the kubeconfig (certificates, tokens, exec plugins) and gives the httpx
settings; :class:`~gitward.kube.client.KubeClient` then speaks REST over the client
made here. Errors leave as :class:`~gitward.errors.ConfigError` naming the file, never
quoting credentials.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx2 as httpx
from lightkube.config.client_adapter import ConnectionParams
from lightkube.config.kubeconfig import KubeConfig
from lightkube.core.exceptions import ConfigError as LightkubeConfigError

from gitward.errors import ConfigError

# Seconds to open a connection to an API server. A cluster that does not answer is
# known within this, not a whole request timeout: one dead cluster holds no worker long.
CONNECT_TIMEOUT = 5.0


def from_kubeconfig(
    path: str | Path | None,
    context: str | None,
    *,
    max_in_flight: int,
    timeout: float,
    untrusted: tuple[Path, ...],
) -> tuple[httpx.AsyncClient, str]:
    """The client and the context's name for ``path`` (else $KUBECONFIG, else
    ~/.kube/config); a kubeconfig inside an ``untrusted`` directory is refused."""
    source = str(path) if path else os.environ.get("KUBECONFIG", "~/.kube/config")
    _refuse_untrusted(Path(source.split(os.pathsep)[0]).expanduser(), untrusted)
    try:
        config = KubeConfig.from_file(Path(source.split(os.pathsep)[0]).expanduser())
        single = config.get(context_name=context)
    except (LightkubeConfigError, OSError, ValueError, KeyError) as e:
        raise ConfigError(
            f"cannot use kubeconfig {source}"
            + (f" context {context!r}" if context else "")
            + f": {e}",
            hint="pass --kubeconfig FILE and --context NAME, or set KUBECONFIG",
        ) from e
    if single is None or single.user is None:
        raise ConfigError(
            f"kubeconfig {source} has no current context or user", hint="pass --context NAME"
        )
    return _http(single, max_in_flight, timeout), context or single.context_name


def from_config(
    config: Mapping[str, Any], *, max_in_flight: int, timeout: float
) -> tuple[httpx.AsyncClient, str]:
    """The client for an in-memory kubeconfig; errors name the failure, not the data."""
    try:
        single = KubeConfig.from_dict(dict(config)).get()
    except (LightkubeConfigError, ValueError, KeyError, TypeError) as e:
        raise ConfigError(f"cannot use the cluster's connection settings ({e})") from e
    if single is None or single.user is None:
        raise ConfigError("the cluster's connection settings name no user")
    return _http(single, max_in_flight, timeout), single.context_name


def _http(single: Any, max_in_flight: int, timeout: float) -> httpx.AsyncClient:
    limit = httpx.Timeout(timeout, connect=min(timeout, CONNECT_TIMEOUT))
    params = ConnectionParams(timeout=limit).httpx_params(single)
    limits = httpx.Limits(max_connections=max_in_flight, max_keepalive_connections=max_in_flight)
    return httpx.AsyncClient(**params, limits=limits)


def _refuse_untrusted(kubeconfig: Path, untrusted: tuple[Path, ...]) -> None:
    real = kubeconfig.resolve()
    for directory in untrusted:
        base = directory.resolve()
        if real == base or base in real.parents:
            raise ConfigError(
                f"the kubeconfig {kubeconfig} lies in {directory}, where gitward keeps "
                "files from repositories: it is refused (a kubeconfig can run commands)",
                hint="point the Cluster at a kubeconfig the operator placed outside the cache",
            )


def describe(error: Exception, read_timeout: float | None) -> str:
    """A transport error in words: httpx's timeouts carry no message of their own."""
    detail = str(error) or "no detail"
    if isinstance(error, httpx.ReadTimeout) and read_timeout is not None:
        detail = f"no answer within {read_timeout:g}s (the API server or its etcd may hang)"
    return f"{type(error).__name__}: {detail}"
