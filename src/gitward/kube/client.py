"""An async Kubernetes client for any kind, built on lightkube's kubeconfig handling.

lightkube reads kubeconfigs (certificates, tokens, exec plugins) and builds the
authenticated HTTP client; gitward then speaks REST directly, because it handles objects
of any kind — custom resources included — as plain JSON, addresses them through
discovery, and wants control over concurrency. Every failure leaves this module as a
:class:`gitward.errors.KubeError`; the HTTP library's own errors never leak.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from collections.abc import AsyncGenerator, Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx2 as httpx
import orjson

from gitward.errors import ConfigError, KubeError, UnreachableError
from gitward.kube import connection
from gitward.kube.discovery import Discovery
from gitward.kube.errors import translate_status
from gitward.kube.incluster import InClusterConfig
from gitward.model import ApiResource, JsonObject, ResourceKey, split_api_version

APPLY_CONTENT_TYPE = "application/apply-patch+yaml"  # JSON is YAML; the server accepts it


class KubeClient:
    """One cluster. Use as ``async with KubeClient.from_kubeconfig(...) as kube: ...``."""

    def __init__(self, http: httpx.AsyncClient, name: str, *, max_in_flight: int = 64) -> None:
        self._http = http
        self._name = name
        self._slots = asyncio.Semaphore(max_in_flight)
        self._discovery = Discovery(self._get_json)
        # Requests sent, by kind of request ("GET", "LIST", "APPLY", "APPLY dry-run", ...).
        self.requests: Counter[str] = Counter()
        # Told of every request: (kind of request, seconds, HTTP status or 0), for metrics.
        self.observer: Callable[[str, float, int], None] | None = None
        self._version: tuple[float, str] | None = None
        # Asked before each request: a reason not to send it (the cluster is known down),
        # or None. Set by the cluster's health monitor (gitward.fleet.monitor).
        self.gate: Callable[[], str | None] | None = None
        # Told why a request got no answer, so the cluster's health can say it.
        self.on_unreachable: Callable[[str], None] | None = None

    @classmethod
    def from_kubeconfig(
        cls,
        path: str | Path | None = None,
        context: str | None = None,
        *,
        max_in_flight: int = 64,
        timeout: float = 30.0,
        untrusted_dirs: tuple[Path, ...] = (),
    ) -> KubeClient:
        """Connect as the kubeconfig says: ``path`` (else $KUBECONFIG, else ~/.kube/config).

        A kubeconfig can run any command (``exec`` users), so one read from a directory
        whose content comes from repositories (``untrusted_dirs``: gitward's checkout
        cache, at predictable paths) is refused: a commit must not choose what runs.
        """
        if not path and not os.environ.get("KUBECONFIG"):
            default = Path("~/.kube/config").expanduser()
            pod = None if default.exists() else InClusterConfig.detect()
            if pod is not None:  # client-go's order: kubeconfig first, then the pod's
                return cls.in_cluster(pod, max_in_flight=max_in_flight, timeout=timeout)
        http, name = connection.from_kubeconfig(
            path, context, max_in_flight=max_in_flight, timeout=timeout, untrusted=untrusted_dirs
        )
        return cls(http, name, max_in_flight=max_in_flight)

    @classmethod
    def from_config(
        cls, config: Mapping[str, Any], *, max_in_flight: int = 64, timeout: float = 30.0
    ) -> KubeClient:
        """Connect as an in-memory kubeconfig says (one built from an Argo CD cluster
        Secret); errors never quote it, since it holds the credentials."""
        http, name = connection.from_config(config, max_in_flight=max_in_flight, timeout=timeout)
        return cls(http, name, max_in_flight=max_in_flight)

    @classmethod
    def unusable(cls, name: str, reason: str) -> KubeClient:
        """A client that sends nothing: every request fails with ``reason``. For a
        declared cluster whose settings do not load, so its apps say why, not serve."""
        client = cls(httpx.AsyncClient(), name)
        client.gate = lambda: reason
        return client

    @classmethod
    def in_cluster(
        cls,
        pod: InClusterConfig | None = None,
        *,
        max_in_flight: int = 64,
        timeout: float = 30.0,
    ) -> KubeClient:
        """Connect as the pod's service account (token re-read when it rotates)."""
        pod = pod or InClusterConfig.detect()
        if pod is None:
            raise ConfigError(
                "not running in a pod: KUBERNETES_SERVICE_HOST/PORT are not set",
                hint="pass --kubeconfig, or set inCluster only for the cluster gitward runs in",
            )
        http = pod.http_client(max_in_flight=max_in_flight, timeout=timeout)
        return cls(http, "in-cluster", max_in_flight=max_in_flight)

    async def __aenter__(self) -> KubeClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    @property
    def name(self) -> str:
        return self._name

    # ------------------------------------------------------------------ requests

    async def _send(
        self,
        label: str,
        method: str,
        path: str,
        *,
        subject: str | None = None,
        params: dict[str, str] | None = None,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        gated: bool = True,
    ) -> httpx.Response:
        if gated:
            self._check_gate(subject)
        self.requests[label] += 1
        started = time.monotonic()
        async with self._slots:
            try:
                response = await self._http.request(
                    method, path, params=params, content=body, headers=headers
                )
            except httpx.TransportError as e:
                if self.observer is not None:
                    self.observer(label, time.monotonic() - started, 0)
                described = connection.describe(e, self._http.timeout.read)
                failed = f"{method} {path} failed: {described}"
                if self.on_unreachable is not None:
                    self.on_unreachable(failed)
                raise UnreachableError(
                    failed,
                    subject=subject,
                    hint=f"is the cluster {self._name!r} running and reachable? "
                    "check --kubeconfig and --context",
                ) from e
        if self.observer is not None:
            self.observer(label, time.monotonic() - started, response.status_code)
        return response

    async def stream_lines(
        self,
        label: str,
        path: str,
        params: Mapping[str, str],
        *,
        read_timeout: float | None = None,
    ) -> AsyncGenerator[bytes, None]:
        """The body of a GET, yielded line by line as it arrives (newlines removed).

        A watch answers with one JSON event per line and holds its connection for minutes,
        so this takes no in-flight slot and waits up to ``read_timeout`` seconds (None:
        forever) for each chunk. A JSON document is its lines joined (JSON escapes the
        newlines inside strings). Close the iterator (``contextlib.aclosing``) to release
        the connection early. Errors leave as :class:`KubeError`; non-200 answers are
        translated from their ``Status`` before any line is yielded.
        """
        self._check_gate(None)
        self.requests[label] += 1
        base = self._http.timeout
        timeout = httpx.Timeout(
            connect=base.connect, read=read_timeout, write=base.write, pool=base.pool
        )
        try:
            async with self._http.stream(
                "GET", path, params=dict(params), timeout=timeout
            ) as response:
                if response.status_code != 200:
                    await response.aread()
                    raise translate_status(response.status_code, _status(response), label, path)
                parts: list[bytes] = []  # a line split over chunks, joined once complete
                async for chunk in response.aiter_bytes():
                    start = 0
                    while (end := chunk.find(b"\n", start)) >= 0:
                        line = b"".join((*parts, chunk[start:end]))
                        parts.clear()
                        start = end + 1
                        if line.strip():
                            yield line
                    parts.append(chunk[start:])
                if rest := b"".join(parts).strip():
                    yield rest
        except (httpx.TransportError, httpx.DecodingError) as e:
            failed = f"{label} {path} failed: {connection.describe(e, read_timeout)}"
            if self.on_unreachable is not None and isinstance(e, httpx.TransportError):
                self.on_unreachable(failed)
            raise UnreachableError(
                failed,
                hint=f"is the cluster {self._name!r} running and reachable?",
            ) from e

    def _check_gate(self, subject: str | None) -> None:
        if self.gate is not None and (reason := self.gate()):
            hint = "gitward retries by itself; `gitward cluster list` shows each cluster's health"
            raise UnreachableError(reason, subject=subject, hint=hint)

    async def _get_json(
        self, path: str, accept: str | None = None, *, gated: bool = True
    ) -> JsonObject:
        headers = {"Accept": accept} if accept else None
        response = await self._send("GET", "GET", path, headers=headers, gated=gated)
        if response.status_code != 200:
            raise translate_status(response.status_code, _status(response), "GET", None)
        return _json(response)

    # ------------------------------------------------------------------ the Cluster port

    async def server_version(self) -> str:
        """The cluster's version, asked at most every five minutes (it changes on upgrades)."""
        now = time.monotonic()
        if self._version is None or now - self._version[0] > 300:
            version = str((await self._get_json("/version")).get("gitVersion", ""))
            self._version = (now, version)
        return self._version[1]

    async def probe_version(self) -> str:
        """Ask ``/version`` now, past the gate: how a down cluster is found back."""
        version = str((await self._get_json("/version", gated=False)).get("gitVersion", ""))
        self._version = (time.monotonic(), version)
        return version

    async def resource_for(self, group: str, kind: str, *, refresh: bool = False) -> ApiResource:
        return await self._discovery.resource_for(group, kind, refresh=refresh)

    async def api_versions(self) -> list[str]:
        """Every served group/version and group/version/Kind, for Helm's .Capabilities."""
        return await self._discovery.api_versions()

    async def _path_for(
        self, body_or_key: JsonObject | ResourceKey, api_version: str | None = None
    ) -> tuple[str, ApiResource, str]:
        key = body_or_key if isinstance(body_or_key, ResourceKey) else ResourceKey.of(body_or_key)
        resource = await self.resource_for(key.group, key.kind)
        version = split_api_version(api_version)[1] if api_version else resource.version
        addressed = ApiResource(
            resource.group,
            version,
            resource.kind,
            resource.plural,
            resource.namespaced,
            resource.verbs,
        )
        namespace = key.namespace if resource.namespaced else None
        return addressed.object_path(key.name, namespace), resource, str(key)

    async def get(self, key: ResourceKey) -> JsonObject | None:
        path, _, subject = await self._path_for(key)
        response = await self._send("GET", "GET", path, subject=subject)
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise translate_status(response.status_code, _status(response), "GET", subject)
        return _json(response)

    async def list(
        self, group: str, kind: str, *, namespace: str | None = None, labels: str | None = None
    ) -> list[JsonObject]:
        resource = await self.resource_for(group, kind)
        path = resource.collection_path(namespace)
        items: list[JsonObject] = []
        params: dict[str, str] = {"limit": "500"}
        if labels:
            params["labelSelector"] = labels
        while True:
            response = await self._send("LIST", "GET", path, params=params, subject=str(kind))
            if response.status_code != 200:
                raise translate_status(response.status_code, _status(response), "LIST", kind)
            page = _json(response)
            for item in page.get("items") or []:
                # List items omit apiVersion and kind; restore them so they are whole objects.
                item.setdefault("apiVersion", resource.api_version)
                item.setdefault("kind", resource.kind)
                items.append(item)
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return items
            params["continue"] = token

    async def apply(
        self, body: JsonObject, *, field_manager: str, force: bool = False, dry_run: bool = False
    ) -> JsonObject:
        path, _, subject = await self._path_for(body, str(body.get("apiVersion", "")))
        params = {"fieldManager": field_manager}
        if force:
            params["force"] = "true"
        if dry_run:
            params["dryRun"] = "All"
        response = await self._send(
            "APPLY dry-run" if dry_run else "APPLY",
            "PATCH",
            path,
            subject=subject,
            params=params,
            body=orjson.dumps(body),
            headers={"Content-Type": APPLY_CONTENT_TYPE},
        )
        if response.status_code not in (200, 201):
            raise translate_status(response.status_code, _status(response), "apply", subject)
        return _json(response)

    async def create(self, body: JsonObject, *, field_manager: str) -> JsonObject:
        """POST ``body`` to its collection: a new object, named by the server when the
        body gives ``metadata.generateName`` instead of a name (hooks run once per sync).
        """
        key = ResourceKey.of(body)
        resource = await self.resource_for(key.group, key.kind)
        version = split_api_version(str(body.get("apiVersion", "")))[1] or resource.version
        addressed = ApiResource(
            resource.group,
            version,
            resource.kind,
            resource.plural,
            resource.namespaced,
            resource.verbs,
        )
        path = addressed.collection_path(key.namespace if resource.namespaced else None)
        response = await self._send(
            "CREATE",
            "POST",
            path,
            subject=str(key),
            params={"fieldManager": field_manager},
            body=orjson.dumps(body),
            headers={"Content-Type": "application/json"},
        )
        if response.status_code not in (200, 201, 202):
            raise translate_status(response.status_code, _status(response), "create", str(key))
        return _json(response)

    async def delete(self, key: ResourceKey, *, propagation: str = "Background") -> bool:
        path, _, subject = await self._path_for(key)
        body = orjson.dumps(
            {"apiVersion": "v1", "kind": "DeleteOptions", "propagationPolicy": propagation}
        )
        response = await self._send(
            "DELETE",
            "DELETE",
            path,
            subject=subject,
            body=body,
            headers={"Content-Type": "application/json"},
        )
        if response.status_code == 404:
            return False
        if response.status_code not in (200, 202):
            raise translate_status(response.status_code, _status(response), "delete", subject)
        return True


def _json(response: httpx.Response) -> JsonObject:
    try:
        data = orjson.loads(response.content)
    except orjson.JSONDecodeError as e:
        raise KubeError(f"the API server answered with invalid JSON: {e}") from e
    if not isinstance(data, dict):
        raise KubeError("the API server answered with JSON that is not an object")
    return data


def _status(response: httpx.Response) -> dict[str, Any]:
    try:
        data = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return {"message": response.text[:500]}
    return data if isinstance(data, dict) else {"message": str(data)[:500]}
