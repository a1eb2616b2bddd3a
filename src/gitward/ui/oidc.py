"""Single sign-on: OpenID Connect authorization code flow with PKCE.

Before: a person clicks "Sign in with SSO" on the login page. After: the UI creates a
session for the user the provider vouched for, with the groups its ID token lists
(which the role policy, :mod:`gitward.api.roles`, maps to grants).

The flow, in order: discovery (``/.well-known/openid-configuration``) and the provider's
signing keys (JWKS); a redirect to the authorization endpoint with ``state``, ``nonce``
and a PKCE ``code_challenge`` (S256); the callback exchanges the code and the
``code_verifier`` at the token endpoint; the ID token is verified with PyJWT (signature
against the JWKS, issuer, audience, expiry, nonce). ``state`` is single use and expires:
a replayed or forged callback is refused. The client secret and tokens are never logged.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx2 as httpx
import jwt

from gitward.errors import ConfigError, GitwardError

PENDING_SECONDS = 600.0


class SsoError(GitwardError):
    """The single sign-on did not complete; the message says which step failed."""


@dataclass(frozen=True)
class OidcSettings:
    issuer: str
    client_id: str
    client_secret: str
    redirect_url: str  # this UI's /auth/callback as the browser reaches it
    scopes: tuple[str, ...] = ("openid", "email", "profile", "groups")
    groups_claim: str = "groups"
    user_claim: str = "email"
    ca_file: str | None = None


@dataclass(frozen=True)
class Identity:
    user: str
    groups: tuple[str, ...]


@dataclass(frozen=True)
class _Pending:
    nonce: str
    verifier: str
    next: str
    expires: float


class Oidc:
    def __init__(self, settings: OidcSettings, clock: Callable[[], float]) -> None:
        self.settings = settings
        self._clock = clock
        self._pending: dict[str, _Pending] = {}
        self._config: dict[str, Any] | None = None
        self._keys: jwt.PyJWKSet | None = None

    def _client(self) -> httpx.AsyncClient:
        verify: ssl.SSLContext | bool = True
        if self.settings.ca_file:
            verify = ssl.create_default_context(cafile=self.settings.ca_file)
        return httpx.AsyncClient(timeout=10, verify=verify)

    async def _discover(self) -> dict[str, Any]:
        if self._config is None:
            url = self.settings.issuer.rstrip("/") + "/.well-known/openid-configuration"
            async with self._client() as client:
                config = await _get_json(client, url, "discovery")
                self._keys = jwt.PyJWKSet.from_dict(
                    await _get_json(client, str(config["jwks_uri"]), "signing keys")
                )
            self._config = config
        return self._config

    async def begin(self, next_url: str) -> str:
        """The provider URL to send the browser to; remembers state, nonce and verifier."""
        config = await self._discover()
        now = self._clock()
        self._pending = {k: p for k, p in self._pending.items() if p.expires > now}
        state, nonce, verifier = (secrets.token_urlsafe(32) for _ in range(3))
        self._pending[state] = _Pending(nonce, verifier, next_url, now + PENDING_SECONDS)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        query = {
            "response_type": "code",
            "client_id": self.settings.client_id,
            "redirect_uri": self.settings.redirect_url,
            "scope": " ".join(self.settings.scopes),
            "state": state,
            "nonce": nonce,
            "code_challenge": challenge.rstrip(b"=").decode(),
            "code_challenge_method": "S256",
        }
        return f"{config['authorization_endpoint']}?{urlencode(query)}"

    async def finish(self, code: str, state: str, error: str | None = None) -> tuple[Identity, str]:
        """The signed-in identity and where to go next; SsoError when anything is off."""
        pending = self._pending.pop(state, None)
        if error:
            raise SsoError(f"the provider refused the sign-in: {error}")
        if pending is None or pending.expires <= self._clock():
            raise SsoError(
                "the sign-in attempt is unknown or expired", hint="start again from the login page"
            )
        config = await self._discover()
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.settings.redirect_url,
            "code_verifier": pending.verifier,
        }
        auth = (self.settings.client_id, self.settings.client_secret)
        async with self._client() as client:
            try:
                response = await client.post(str(config["token_endpoint"]), data=form, auth=auth)
            except httpx.HTTPError as e:
                raise SsoError(f"the token endpoint did not answer: {e}") from e
        if response.status_code != 200:
            raise SsoError(f"the provider refused the code ({response.status_code})")
        token = response.json().get("id_token")
        if not isinstance(token, str):
            raise SsoError("the provider's answer has no ID token")
        claims = self._verify(token, pending.nonce)
        return self._identity(claims), pending.next

    def _verify(self, token: str, nonce: str) -> dict[str, Any]:
        if self._keys is None:
            raise SsoError("the provider's signing keys are not loaded")
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            key = next((k for k in self._keys.keys if k.key_id == kid), None)
            if key is None:
                raise SsoError("the ID token is signed by a key the provider does not publish")
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=["RS256", "ES256", "PS256", "EdDSA"],
                audience=self.settings.client_id,
                issuer=self.settings.issuer,
                options={"require": ["exp", "iat", "sub"]},
            )
        except jwt.PyJWTError as e:
            raise SsoError(f"the ID token is not valid: {e}") from e
        if not secrets.compare_digest(str(claims.get("nonce", "")), nonce):
            raise SsoError("the ID token's nonce does not match this sign-in")
        return claims

    def _identity(self, claims: dict[str, Any]) -> Identity:
        user = claims.get(self.settings.user_claim) or claims["sub"]
        groups = claims.get(self.settings.groups_claim) or []
        if not isinstance(groups, list):
            groups = [groups]
        return Identity(str(user), tuple(str(g) for g in groups))


async def _get_json(client: httpx.AsyncClient, url: str, what: str) -> dict[str, Any]:
    try:
        response = await client.get(url)
        response.raise_for_status()
        body = response.json()
    except (httpx.HTTPError, ValueError) as e:
        raise ConfigError(
            f"single sign-on {what} at {url} failed: {e}",
            hint="check --oidc-issuer and that the provider is reachable",
        ) from e
    if not isinstance(body, dict):
        raise ConfigError(f"single sign-on {what} at {url}: not a JSON object")
    return body
