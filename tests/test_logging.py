"""Access log lines carry the request context; secrets never reach any log line."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import httpx
import pytest
import structlog

from dossier.core.logging import REDACTED, configure_logging

SECRETS = {
    "authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJlc2VjcmV0",
    "cookie": "session=cookie-secret-value-123",
    "password": "hunter2-password-value",
    "refresh": "refresh-token-secret-abcdef",
}


@pytest.fixture
def log_buffer() -> Iterator[io.StringIO]:
    buffer = io.StringIO()
    configure_logging("DEBUG", "json", stream=buffer)
    try:
        yield buffer
    finally:
        logging.getLogger().handlers.clear()


def lines(buffer: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


async def test_access_log_line_has_request_context(
    client: httpx.AsyncClient, log_buffer: io.StringIO
) -> None:
    await client.get("/health/live", headers={"X-Request-ID": "log-test-1"})
    await client.get("/nothing/here/123", headers={"X-Request-ID": "log-test-2"})
    records = [r for r in lines(log_buffer) if r.get("event") == "request"]
    assert len(records) == 2
    live, missing = records
    assert live["request_id"] == "log-test-1"
    assert live["method"] == "GET"
    assert live["route"] == "/health/live"
    assert live["status"] == 200
    assert live["client"] == "203.0.113.7"
    assert isinstance(live["duration_ms"], float)
    assert live["level"] == "debug"  # health checks are quiet
    assert missing["status"] == 404
    assert missing["route"] == "<unmatched>"  # never the raw path
    assert missing["level"] == "info"


async def test_secrets_in_requests_never_reach_the_log(
    client: httpx.AsyncClient, log_buffer: io.StringIO
) -> None:
    await client.post(
        "/health/live",
        headers={"Authorization": SECRETS["authorization"], "Cookie": SECRETS["cookie"]},
        json={"password": SECRETS["password"], "refresh_token": SECRETS["refresh"]},
    )
    await client.get(
        "/health/ready",
        headers={"Authorization": SECRETS["authorization"], "Cookie": SECRETS["cookie"]},
    )
    output = log_buffer.getvalue()
    assert output.count('"event": "request"') == 2
    for secret in SECRETS.values():
        assert secret not in output
        assert secret.split()[-1] not in output


def test_structured_secret_fields_and_embedded_tokens_are_redacted(
    log_buffer: io.StringIO,
) -> None:
    log = structlog.get_logger("test")
    log.info(
        "login attempt with Bearer abc.def.ghi",
        password=SECRETS["password"],
        access_token="access-token-secret",
        headers={"Authorization": SECRETS["authorization"], "Accept": "application/json"},
        note=f"got {SECRETS['authorization'].split()[1]}",
        basic="sent BASIC dXNlcjpzZWNyZXQtYmFzaWMtcGFzcw== and bEaReR mixed-case-token-value",
        user="someone@example.com",
    )
    logging.getLogger("stdlib").warning("stdlib says %s", SECRETS["authorization"])
    output = log_buffer.getvalue()
    for secret in (
        *SECRETS.values(),
        "access-token-secret",
        "abc.def.ghi",
        "dXNlcjpzZWNyZXQtYmFzaWMtcGFzcw==",
        "mixed-case-token-value",
    ):
        assert secret not in output
        assert secret.split()[-1] not in output
    # Other threads (database drivers at DEBUG) may log meanwhile: pick this test's line.
    [record] = [r for r in lines(log_buffer) if str(r.get("event", "")).startswith("login")]
    assert record["password"] == REDACTED
    assert record["access_token"] == REDACTED
    assert record["headers"] == {"Authorization": REDACTED, "Accept": "application/json"}
    assert record["user"] == "someone@example.com"  # ordinary fields survive


def test_exception_tracebacks_are_scrubbed_of_tokens(log_buffer: io.StringIO) -> None:
    token = SECRETS["authorization"].split()[1]
    try:
        raise ValueError(f"bad token {token}")
    except ValueError:
        structlog.get_logger("test").exception("failed")
    output = log_buffer.getvalue()
    assert "Traceback" in output
    assert token not in output
