"""The client address behind trusted proxies, and forged headers from anyone else."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable

import httpx
import pytest
from asgi_lifespan import LifespanManager

from dossier.app import create_app
from dossier.config import Settings
from dossier.core.logging import configure_logging
from dossier.middleware.proxy import parse_networks, resolve_client

TRUSTED = parse_networks(["10.0.0.0/8", "192.168.1.5"])


@pytest.mark.parametrize(
    ("peer", "header", "expected"),
    [
        ("203.0.113.9", "1.2.3.4", "203.0.113.9"),  # untrusted peer: header ignored
        ("10.0.0.2", "1.2.3.4", "1.2.3.4"),
        ("10.0.0.2", "6.6.6.6, 1.2.3.4", "1.2.3.4"),  # left-most entries are the client's word
        ("10.0.0.2", "1.2.3.4, 192.168.1.5", "1.2.3.4"),  # skip trusted hops from the right
        ("10.0.0.2", "10.1.1.1, 10.2.2.2", "10.1.1.1"),  # all trusted: the left-most
        ("10.0.0.2", "not-an-ip", "10.0.0.2"),
        ("10.0.0.2", None, "10.0.0.2"),
        ("10.0.0.2", "2001:db8::1", "2001:db8::1"),
    ],
)
def test_resolve_client(peer: str, header: str | None, expected: str) -> None:
    assert resolve_client(peer, header, TRUSTED) == expected


async def _logged_client(settings: Settings, peer: str, forwarded: str) -> str:
    buffer = io.StringIO()
    configure_logging("DEBUG", "json", stream=buffer)
    try:
        app = create_app(settings, configure_logs=False)
        async with LifespanManager(app):
            transport = httpx.ASGITransport(app=app, client=(peer, 4000))
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                await http.get("/nothing", headers={"X-Forwarded-For": forwarded})
    finally:
        logging.getLogger().handlers.clear()
    records = [json.loads(line) for line in buffer.getvalue().splitlines()]
    return str(next(r for r in records if r.get("event") == "request")["client"])


async def test_forged_header_from_untrusted_peer_changes_nothing(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(trusted_proxies=["10.0.0.0/8"])
    assert await _logged_client(settings, "203.0.113.50", "1.1.1.1") == "203.0.113.50"


async def test_trusted_proxy_passes_the_real_client(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(trusted_proxies=["10.0.0.0/8"])
    assert await _logged_client(settings, "10.0.0.7", "9.9.9.9, 198.51.100.4") == "198.51.100.4"


async def test_without_trusted_proxies_the_header_is_ignored(
    make_settings: Callable[..., Settings],
) -> None:
    assert await _logged_client(make_settings(), "10.0.0.7", "9.9.9.9") == "10.0.0.7"
