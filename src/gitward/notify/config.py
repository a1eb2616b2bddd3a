"""The notifications file: receivers, which apps and events each one gets, delivery.

::

    receivers:
      - name: ops
        type: webhook            # webhook | slack | github | gitlab | gitea
        url: https://hooks.example.com/gitward
        secretFile: /etc/gitward/hook-secret   # HMAC key (webhook)
        apps: ["payments-*"]     # app name globs; default every app
        events: [failed, degraded, drift]      # default: every event
      - name: status
        type: gitea
        url: https://gitea.example.com         # the forge's base URL
        tokenFile: /etc/gitward/gitea-token
    delivery: {timeout: 5, attempts: 5, backoff: 1, maxBackoff: 60, queueSize: 1000}

Secrets (tokens, HMAC keys, Slack webhook URLs via ``urlFile``) are read from files,
never written in the document itself, and never logged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitward.errors import ConfigError
from gitward.loading import load_one
from gitward.model.events import EventKind
from gitward.render.globs import Glob, compile_glob

KINDS = ("webhook", "slack", "github", "gitlab", "gitea")
_FORGES = ("github", "gitlab", "gitea")


@dataclass(frozen=True)
class Delivery:
    """How hard to try: per-request timeout, attempts, backoff doubling up to a cap."""

    timeout: float = 5.0
    attempts: int = 5
    backoff: float = 1.0
    max_backoff: float = 60.0
    queue_size: int = 1000


@dataclass(frozen=True)
class Receiver:
    name: str
    kind: str
    url: str = field(repr=False)  # a Slack URL is a secret
    secret: str = field(default="", repr=False)  # HMAC key or API token
    apps: tuple[Glob, ...] = ()
    events: frozenset[EventKind] = frozenset(EventKind)

    @property
    def forge(self) -> bool:
        return self.kind in _FORGES

    def wants(self, app: str, kind: EventKind) -> bool:
        if kind not in self.events:
            return False
        return not self.apps or any(g.matches(app) for g in self.apps)


@dataclass(frozen=True)
class NotifyConfig:
    receivers: tuple[Receiver, ...] = ()
    delivery: Delivery = Delivery()


def load_config(path: Path) -> NotifyConfig:
    """Read and check a notifications file; a :class:`ConfigError` names what is wrong."""
    try:
        doc = load_one(path.read_text())
    except OSError as e:
        raise ConfigError(f"cannot read the notifications file {path}: {e.strerror}") from e
    if not isinstance(doc, Mapping):
        raise ConfigError(f"{path}: must be a mapping with 'receivers'")
    items = doc.get("receivers") or []
    if not isinstance(items, list):
        raise ConfigError(f"{path}: receivers must be a list")
    receivers = tuple(_receiver(item, f"{path}: receivers[{i}]") for i, item in enumerate(items))
    names = [r.name for r in receivers]
    if len(set(names)) != len(names):
        raise ConfigError(f"{path}: receiver names must be unique")
    return NotifyConfig(receivers, _delivery(doc.get("delivery") or {}, f"{path}: delivery"))


def _receiver(item: Any, where: str) -> Receiver:
    if not isinstance(item, Mapping):
        raise ConfigError(f"{where}: must be a mapping")
    name, kind = str(item.get("name") or ""), str(item.get("type") or "")
    if not name or kind not in KINDS:
        raise ConfigError(f"{where}: needs a name and a type ({', '.join(KINDS)})")
    url = str(item.get("url") or "") or _secret_file(item, "urlFile", where)
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"{where} ({name}): needs an http(s) url or urlFile")
    secret = _secret_file(item, "tokenFile" if kind in _FORGES else "secretFile", where)
    if kind in _FORGES and not secret:
        raise ConfigError(f"{where} ({name}): a {kind} status needs tokenFile")
    events = item.get("events")
    try:
        chosen = frozenset(EventKind(str(e)) for e in events) if events else frozenset(EventKind)
    except ValueError as e:
        known = ", ".join(k.value for k in EventKind)
        raise ConfigError(f"{where} ({name}): unknown event; known: {known}") from e
    apps = tuple(compile_glob(str(g)) for g in _strings(item.get("apps"), where))
    return Receiver(name, kind, url.rstrip("/"), secret, apps, chosen)


def _secret_file(item: Mapping[str, Any], key: str, where: str) -> str:
    name = item.get(key)
    if not name:
        return ""
    try:
        return Path(str(name)).read_text().strip()
    except OSError as e:
        raise ConfigError(f"{where}: cannot read {key} {name}: {e.strerror}") from e


def _strings(value: Any, where: str) -> Sequence[str]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ConfigError(f"{where}: apps must be a list of globs")
    return [str(v) for v in value]


def _delivery(doc: Any, where: str) -> Delivery:
    if not isinstance(doc, Mapping):
        raise ConfigError(f"{where}: must be a mapping")
    try:
        delivery = Delivery(
            timeout=float(doc.get("timeout", 5.0)),
            attempts=int(doc.get("attempts", 5)),
            backoff=float(doc.get("backoff", 1.0)),
            max_backoff=float(doc.get("maxBackoff", 60.0)),
            queue_size=int(doc.get("queueSize", 1000)),
        )
    except (TypeError, ValueError) as e:
        raise ConfigError(f"{where}: numbers expected ({e})") from e
    if delivery.timeout <= 0 or delivery.attempts < 1 or delivery.queue_size < 1:
        raise ConfigError(f"{where}: timeout > 0, attempts >= 1 and queueSize >= 1 required")
    return delivery
