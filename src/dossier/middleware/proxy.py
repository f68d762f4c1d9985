"""The client address: the socket peer, unless that peer is a trusted proxy.

Behind trusted proxies the client is the right-most ``X-Forwarded-For`` hop that is not itself
a trusted proxy (hops further left were written by the client and prove nothing). A forged
header from an untrusted peer changes nothing. ``scope["client"]`` is rewritten, so logs, rate
limits and handlers all see the same address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: Iterable[str]) -> list[Network]:
    return [ipaddress.ip_network(value.strip(), strict=False) for value in values if value.strip()]


def _is_trusted(address: str, networks: list[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def resolve_client(peer: str, forwarded_for: str | None, networks: list[Network]) -> str:
    if not networks or not forwarded_for or not _is_trusted(peer, networks):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, networks):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # garbage in the chain: do not believe any of it
    return hops[0] if hops else peer


class ProxyHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, trusted: list[Network]) -> None:
        self.app = app
        self.trusted = trusted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.trusted and scope.get("client"):
            forwarded = b",".join(
                value for name, value in scope["headers"] if name == b"x-forwarded-for"
            )
            if forwarded:
                host = scope["client"][0]
                client = resolve_client(host, forwarded.decode("latin-1"), self.trusted)
                if client != host:
                    scope["client"] = (client, 0)
                    for name, value in scope["headers"]:
                        if name == b"x-forwarded-proto" and value in (b"http", b"https"):
                            scope["scheme"] = value.decode()
        await self.app(scope, receive, send)
