"""Bounded HTTP(S) downloads for Helm repositories and OCI registries.

Used by :mod:`.helmrepo` (index.yaml and chart archives) and :mod:`.oci` (manifests,
blobs, tags). Whatever a server answers is untrusted, so every download:

* has a **deadline** for the whole body (a server that drips one byte a second is
  cut off), and a socket timeout for each read;
* is **bounded in size**: refused by its declared ``Content-Length`` before the body
  is read, and by counting the bytes as they arrive (a server may lie or send none);
* goes only to allowed addresses (:mod:`.addresses`), redirects included, so a
  registry cannot point gitward at a cloud metadata endpoint;
* authenticates as registries expect: HTTP basic, or Docker's token flow (a 401 with
  ``WWW-Authenticate: Bearer realm=...,service=...,scope=...`` is answered by asking
  the realm for a token, with the basic credentials if any). Credentials are never
  sent to a redirect target (a blob store's signed URL) and never appear in errors.

TLS uses the system's trust store plus ``RepoCredentials.ca_file`` if set. Errors are
:class:`~gitward.errors.SourceError`; network failures and 5xx answers are transient.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import re
import socket
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.client import HTTPException, HTTPResponse
from typing import IO
from urllib.parse import urlencode, urlsplit

from gitward.errors import SourceError
from gitward.model import RepoCredentials
from gitward.source.addresses import AddressPolicy
from gitward.source.urls import parse_repo_url, scrub_text

DEFAULT_TIMEOUT = 60.0
_CHUNK = 64 * 1024
_TOKEN_MAX = 1024 * 1024
_CHALLENGE = re.compile(r'(\w+)="([^"]*)"')


class NotFoundError(SourceError):
    """The server answered 404: the tag, chart or blob does not exist there."""


@dataclass(frozen=True)
class Limits:
    """How much one download may take: bytes and seconds."""

    max_bytes: int
    timeout: float = DEFAULT_TIMEOUT


@dataclass(frozen=True)
class Response:
    url: str
    headers: Mapping[str, str]
    body: bytes
    sha256: str  # "sha256:<hex>" of the body, computed while it arrived


@dataclass
class _Auth:
    """What a host asked for, remembered so later requests authenticate at once."""

    basic: bool = False
    tokens: dict[str, str] = field(default_factory=dict)  # scope -> bearer token


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB" if size >= 1024 * 1024 else f"{size} bytes"


class _CheckedRedirect(urllib.request.HTTPRedirectHandler):
    """Follows redirects only to allowed addresses (Authorization is not carried over)."""

    def __init__(self, addresses: AddressPolicy) -> None:
        self._addresses = addresses

    def redirect_request(  # type: ignore[override]  # noqa: PLR0917 (urllib's signature)
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: Mapping[str, str],
        newurl: str,
    ) -> urllib.request.Request | None:
        check_address(newurl, self._addresses)
        return super().redirect_request(req, fp, code, msg, headers, newurl)  # type: ignore[arg-type]


def check_address(url: str, addresses: AddressPolicy) -> None:
    if not url.startswith(("http://", "https://")):
        raise SourceError(f"{scrub_text(url)}: only http and https are fetched")
    addresses.check(parse_repo_url(url))


class Downloader:
    """An HTTP(S) client for one repository or registry, with its credentials."""

    def __init__(
        self,
        credentials: RepoCredentials | None = None,
        *,
        addresses: AddressPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._creds = credentials or RepoCredentials()
        self._addresses = addresses or AddressPolicy()
        self._clock = clock
        self._auth: dict[str, _Auth] = {}
        self._openers: dict[bool, urllib.request.OpenerDirector] = {}

    def _open(self, request: urllib.request.Request, timeout: float) -> HTTPResponse:
        """Send ``request``. The TLS context is built on the first https request only:
        loading the system's trust store takes a noticeable fraction of a second."""
        tls = request.full_url.startswith("https://")
        opener = self._openers.get(tls)
        if opener is None:
            handlers: list[urllib.request.BaseHandler] = [_CheckedRedirect(self._addresses)]
            if tls:
                handlers.append(urllib.request.HTTPSHandler(context=self._tls()))
            opener = self._openers[tls] = urllib.request.build_opener(*handlers)
        return opener.open(request, timeout=timeout)  # type: ignore[no-any-return]

    def _tls(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if self._creds.ca_file or self._creds.ca_data:
            where = self._creds.ca_file or "ca.crt"
            try:
                context.load_verify_locations(
                    cafile=self._creds.ca_file, cadata=self._creds.ca_data
                )
            except (OSError, ssl.SSLError, ValueError) as e:
                raise SourceError(
                    f"cannot read the CA certificates in {where}: {e}",
                    hint="give PEM text with the certificate of the CA that signed the server's",
                    transient=False,
                ) from e
        return context

    def get(self, url: str, limits: Limits, *, what: str, accept: tuple[str, ...] = ()) -> Response:
        """The body of ``url``; ``what`` names it in errors ("index.yaml of <repo>")."""
        check_address(url, self._addresses)
        deadline = self._clock() + limits.timeout
        headers = {"Accept": ", ".join(accept)} if accept else {}
        host = urlsplit(url).netloc
        auth = self._auth.setdefault(host, _Auth())
        for _attempt in range(3):
            response = self._send(
                url,
                headers=headers,
                auth=auth,
                deadline=deadline,
                what=what,
                timeout=limits.timeout,
            )
            if response.status != 401:
                with response:
                    return self._read(response, url, limits, deadline, what)
            challenge = response.headers.get("WWW-Authenticate", "")
            response.close()
            if not self._learn(challenge, auth, deadline, what, limits.timeout):
                break
        refused = "the given credentials" if self._has_creds() else "access without credentials"
        raise SourceError(
            f"{what}: the server refused {refused} (HTTP 401)",
            hint="give a username and password (--username, --password-file, or the source's "
            "secretRef) that may read this repository",
            transient=False,
        )

    def _has_creds(self) -> bool:
        return bool(self._creds.username or self._creds.password)

    def _basic(self) -> str:
        pair = f"{self._creds.username or ''}:{self._creds.password or ''}"
        return "Basic " + base64.b64encode(pair.encode()).decode()

    def _send(
        self,
        url: str,
        *,
        headers: dict[str, str],
        auth: _Auth,
        deadline: float,
        what: str,
        timeout: float,
    ) -> HTTPResponse:
        request = urllib.request.Request(url, headers=headers)  # noqa: S310 (http(s) checked)
        header = self._auth_header(url, auth)
        if header:
            request.add_unredirected_header("Authorization", header)
        remaining = deadline - self._clock()
        if remaining <= 0:
            raise _timeout(what, timeout)
        try:
            return self._open(request, remaining)
        except urllib.error.HTTPError as e:
            if e.code == 401:
                return e  # type: ignore[return-value]  # an HTTPError is a response
            raise _status_error(e, what) from e
        except (urllib.error.URLError, OSError, HTTPException) as e:
            raise _network_error(e, what, timeout) from e

    def _auth_header(self, url: str, auth: _Auth) -> str | None:
        scope = _scope_of(url)
        if scope in auth.tokens:
            return f"Bearer {auth.tokens[scope]}"
        if auth.tokens and "" in auth.tokens:
            return f"Bearer {auth.tokens['']}"
        if auth.basic and self._has_creds():
            return self._basic()
        return None

    def _learn(
        self, challenge: str, auth: _Auth, deadline: float, what: str, timeout: float
    ) -> bool:
        """Act on a 401's challenge; False when trying again cannot help."""
        scheme = challenge.split(" ", 1)[0].lower()
        params = dict(_CHALLENGE.findall(challenge))
        if scheme == "basic":
            if auth.basic or not self._has_creds():
                return False
            auth.basic = True
            return True
        if scheme == "bearer" and "realm" in params:
            scope = params.get("scope", "")
            if scope in auth.tokens:
                return False  # the token we had was refused
            auth.tokens[scope] = self._token(params, deadline, what, timeout)
            return True
        return False

    def _token(self, params: dict[str, str], deadline: float, what: str, timeout: float) -> str:
        """A bearer token from the realm of a Docker token challenge."""
        query = {k: params[k] for k in ("service", "scope") if params.get(k)}
        url = params["realm"] + ("?" + urlencode(query) if query else "")
        check_address(url, self._addresses)
        request = urllib.request.Request(url)  # noqa: S310 (http(s) checked above)
        if self._has_creds():
            request.add_unredirected_header("Authorization", self._basic())
        try:
            with self._open(request, max(0.1, deadline - self._clock())) as r:
                body = r.read(_TOKEN_MAX)
        except urllib.error.HTTPError as e:
            raise SourceError(
                f"{what}: the token service {scrub_text(params['realm'])} refused the "
                f"credentials (HTTP {e.code})",
                hint="check the username and password for this registry",
                transient=e.code >= 500,
            ) from e
        except (urllib.error.URLError, OSError, HTTPException) as e:
            raise _network_error(e, what, timeout) from e
        try:
            data = json.loads(body)
            return str(data.get("token") or data["access_token"])
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            raise SourceError(f"{what}: the token service answered no token") from e

    def _read(
        self, response: HTTPResponse, url: str, limits: Limits, deadline: float, what: str
    ) -> Response:
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > limits.max_bytes:
            raise _too_large(what, int(declared), limits.max_bytes, declared=True)
        digest = hashlib.sha256()
        chunks: list[bytes] = []
        size = 0
        try:
            while chunk := response.read(_CHUNK):
                size += len(chunk)
                if size > limits.max_bytes:
                    raise _too_large(what, size, limits.max_bytes, declared=False)
                if self._clock() > deadline:
                    raise _timeout(what, limits.timeout)
                digest.update(chunk)
                chunks.append(chunk)
        except (OSError, HTTPException) as e:
            raise _network_error(e, what, limits.timeout) from e
        headers = {k.lower(): v for k, v in response.headers.items()}
        return Response(
            response.geturl() or url, headers, b"".join(chunks), "sha256:" + digest.hexdigest()
        )


def _scope_of(url: str) -> str:
    """The token scope an OCI URL needs ("repository:<name>:pull"), or "" for others."""
    path = urlsplit(url).path
    match = re.match(r"^/v2/(.+?)/(manifests|blobs|tags)/", path)
    return f"repository:{match.group(1)}:pull" if match else ""


def _too_large(what: str, size: int, limit: int, *, declared: bool) -> SourceError:
    if declared:
        told = f"the server declares {_mib(size)}, more than the limit of {_mib(limit)}"
    else:
        told = f"the server sent more than the limit of {_mib(limit)} (or the size it declared)"
    return SourceError(
        f"{what}: {told}; the download was stopped",
        hint="charts and manifest artifacts are small; check that the reference names the "
        "right artifact",
        transient=False,
    )


def _timeout(what: str, timeout: float) -> SourceError:
    return SourceError(
        f"{what}: the download did not finish within {timeout:g} s and was stopped",
        hint="the server is slow or unreachable; gitward tries again later",
        transient=True,
    )


def _status_error(e: urllib.error.HTTPError, what: str) -> SourceError:
    with contextlib.suppress(Exception):
        e.close()
    if e.code == 404:
        return NotFoundError(
            f"{what}: not found (HTTP 404)", hint="check the URL and the name", transient=False
        )
    if e.code == 403:
        return SourceError(
            f"{what}: access denied (HTTP 403)",
            hint="the credentials may read other repositories but not this one",
            transient=False,
        )
    return SourceError(
        f"{what}: the server answered HTTP {e.code} {e.reason}",
        hint="gitward tries again later" if e.code >= 500 else None,
        transient=e.code >= 500 or e.code == 429,
    )


def _network_error(e: BaseException, what: str, timeout: float) -> SourceError:
    reason = getattr(e, "reason", e)
    if isinstance(reason, socket.timeout | TimeoutError):
        return _timeout(what, timeout)
    if isinstance(reason, ssl.SSLCertVerificationError):
        return SourceError(
            f"{what}: the server's TLS certificate is not trusted ({reason.verify_message})",
            hint="if the server uses a private CA, give its certificate as ca.crt in the "
            "Secret the source's secretRef names",
            transient=False,
        )
    return SourceError(
        f"{what}: cannot connect: {scrub_text(str(reason))}",
        hint="check the URL; gitward tries again later",
        transient=True,
    )
