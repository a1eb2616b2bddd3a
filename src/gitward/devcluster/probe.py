"""A tiny HTTPS client for bootstrapping the dev cluster: readiness probes, one POST.

This is deliberately not gitward's Kubernetes adapter (that is ``gitward.kube``): it
exists so that starting a control plane needs nothing but the standard library, and it
always verifies TLS against the dev cluster's own CA.
"""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from typing import Any


class ProbeError(Exception):
    """A probe failed; ``status`` is the HTTP status, or None if nothing answered."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class Endpoint:
    """One base URL, with the CA to trust and an optional bearer token."""

    def __init__(
        self,
        base: str,
        *,
        ca_file: str | None = None,
        token: str | None = None,
        timeout: float = 5.0,
    ) -> None:
        if not base.startswith(("http://127.0.0.1", "https://127.0.0.1")):
            raise ValueError(f"the dev cluster probe only talks to 127.0.0.1, not {base}")
        self.base = base.rstrip("/")
        self.token = token
        self.timeout = timeout
        self._ssl = ssl.create_default_context(cafile=ca_file) if ca_file else None

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> bytes:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method)  # noqa: S310
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(  # noqa: S310 - 127.0.0.1 only, checked above
                request, timeout=self.timeout, context=self._ssl
            ) as response:
                return bytes(response.read())
        except urllib.error.HTTPError as e:
            detail = e.read().decode(errors="replace")[:300]
            raise ProbeError(f"{method} {path}: HTTP {e.code} {detail}", e.code) from e
        except (urllib.error.URLError, OSError) as e:
            raise ProbeError(f"{method} {path}: {e}") from e

    def get(self, path: str) -> dict[str, Any]:
        return _json_object("GET", path, self._request("GET", path))

    def get_text(self, path: str) -> str:
        return self._request("GET", path).decode(errors="replace").strip()

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return _json_object("POST", path, self._request("POST", path, body))


def _json_object(method: str, path: str, body: bytes) -> dict[str, Any]:
    try:
        result = json.loads(body)
    except ValueError as e:
        raise ProbeError(f"{method} {path}: the answer is not JSON: {body[:100]!r}") from e
    if not isinstance(result, dict):
        raise ProbeError(f"{method} {path}: expected a JSON object, got {body[:100]!r}")
    return result
