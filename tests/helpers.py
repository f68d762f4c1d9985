"""Assertions shared by the tests."""

from __future__ import annotations

from typing import Any

import httpx


def assert_problem(
    response: httpx.Response, status: int, code: str | None = None
) -> dict[str, Any]:
    """Assert an RFC 9457 problem response and return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    for key in ("type", "title", "status", "detail", "instance", "code", "request_id"):
        assert key in body, f"problem body lacks {key}: {body}"
    assert body["status"] == status
    assert body["request_id"] == response.headers["x-request-id"]
    if code is not None:
        assert body["code"] == code, body
    return body


async def session_driver(session: Any) -> Any:
    """The driver connection (aiosqlite / asyncpg) under a session's current connection."""
    connection = await session.connection()
    return (await connection.get_raw_connection()).driver_connection


async def postgres_generic_plan(session: Any, statement: Any) -> str:
    """PostgreSQL's plan for ``statement`` as the app runs it: prepared with bound parameters
    (asyncpg) and planned without their values (a generic plan, which PostgreSQL may switch
    to after five runs). Sequential scans are disabled so the plan shows whether an index
    can serve the statement at all. Call inside a transaction (the settings are local)."""
    from sqlalchemy.dialects.postgresql.asyncpg import dialect

    compiled = statement.compile(dialect=dialect())  # type: ignore[no-untyped-call]
    names = compiled.positiontup or []
    values = ", ".join(_literal(compiled.params[name]) for name in names)
    connection = await session.connection()
    await connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    await connection.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")
    await connection.exec_driver_sql(f"PREPARE dossier_plan AS {compiled}")
    try:
        rows = await connection.exec_driver_sql(f"EXPLAIN EXECUTE dossier_plan({values})")
        return "\n".join(row[0] for row in rows)
    finally:
        await connection.exec_driver_sql("DEALLOCATE dossier_plan")


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"
