"""Refuse repository URLs that point at link-local and cloud-metadata addresses (SSRF).

An Application names its repository, so whoever writes Applications chooses where the
controller connects. Cloud providers serve instance credentials on link-local addresses
(``169.254.169.254``, AWS's ``fd00:ec2::254``, Alibaba's ``100.100.100.200``); a
repository URL pointing there would make the controller fetch them, and Git's error
messages could echo the answer. :class:`AddressPolicy` is checked before every fetch:
the host is resolved and each address it resolves to is compared with the denied
networks, so spellings such as ``2852039166`` or ``[::ffff:169.254.169.254]`` do not slip
through. Loopback and private networks stay allowed by default: self-hosted Git servers
live there, and so do the test servers on 127.0.0.1.

Before this module: :mod:`.urls` parses the URL. After it: :mod:`.mirror` fetches.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from gitward.errors import SourceError
from gitward.source.urls import RepoURL, Transport

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolve = Callable[[str], list[str]]

DENIED_BY_DEFAULT = (
    "169.254.0.0/16",  # IPv4 link-local: AWS, GCP, Azure, OpenStack metadata at .169.254
    "fe80::/10",  # IPv6 link-local
    "fd00:ec2::254/128",  # AWS instance metadata over IPv6
    "100.100.100.200/32",  # Alibaba Cloud metadata
    "0.0.0.0/32",  # "this host" on some systems
)


def resolve_host(host: str) -> list[str]:
    """Every address ``host`` resolves to; empty when it does not resolve (the fetch
    then fails on its own, with a clearer message)."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return []
    return sorted({str(info[4][0]) for info in infos})


def _networks(texts: Iterable[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(text, strict=False) for text in texts)


@dataclass(frozen=True)
class AddressPolicy:
    """Which addresses Git may connect to. ``allow`` makes exceptions inside ``deny``."""

    deny: tuple[str, ...] = DENIED_BY_DEFAULT
    allow: tuple[str, ...] = ()

    def check(self, repo: RepoURL, resolve: Resolve = resolve_host) -> None:
        """Raise :class:`SourceError` if ``repo``'s host is, or resolves to, a denied address."""
        if repo.transport is Transport.LOCAL or not repo.host:
            return
        denied, allowed = _networks(self.deny), _networks(self.allow)
        for text in _addresses(repo.host, resolve):
            address = _plain(ipaddress.ip_address(text))
            if any(address in net for net in denied) and not any(address in net for net in allowed):
                raise SourceError(
                    f"the repository {repo.safe} is on a refused address ({address}): "
                    "link-local and cloud metadata addresses are never fetched from",
                    hint="use the Git server's real address; an operator can allow a network "
                    "with the repository address policy if this is intended",
                    transient=False,
                )


def _addresses(host: str, resolve: Resolve) -> list[str]:
    bare = host.strip("[]").split("%")[0]  # an IPv6 literal, maybe with a zone
    try:
        return [str(ipaddress.ip_address(bare))]
    except ValueError:
        return resolve(host)


def _plain(address: Address) -> Address:
    """IPv4-mapped and IPv4-compatible IPv6 addresses as the IPv4 address they carry."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address
