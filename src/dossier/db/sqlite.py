"""SQLite through aiosqlite with one hand-off to the connection's thread per statement.

aiosqlite runs every call on the connection's own thread; SQLAlchemy's aiosqlite adapter makes
four such calls for one ``SELECT`` (open a cursor, execute, fetch all rows, close the cursor)
and one for every ``COMMIT`` and ``ROLLBACK``, even when no transaction is open. Each hand-off
is a queue put, a thread wake-up, a GIL hand-over and a loop wake-up: about 40 µs of CPU on the
benchmark machine, so a read that opened a transaction spent more time handing work between
threads than SQLite spent on it.

This dialect is SQLAlchemy's aiosqlite dialect with two changes:

- a statement runs as **one** call on the connection's thread (cursor, execute, fetch all,
  close) — the same sqlite3 calls in the same order, only without a hand-off between each;
- ``COMMIT`` and ``ROLLBACK`` are sent only when sqlite3 says a transaction is open (sqlite3
  itself does nothing in that case; only the hand-off was paid).

It is registered as ``sqlite+dossier_aiosqlite`` and chosen by
:func:`dossier.db.engine.create_database` for ``sqlite+aiosqlite`` URLs; aiosqlite, its
thread and its error types are unchanged.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Sequence
from typing import Any

from sqlalchemy.connectors.asyncio import AsyncAdapt_dbapi_connection
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
    SQLiteDialect_aiosqlite,
)
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

DRIVER = "dossier_aiosqlite"

_Outcome = tuple[Any, list[Any], int, int | None]


def _run(connection: sqlite3.Connection, operation: str, parameters: Any, many: bool) -> _Outcome:
    """On the connection's thread: what SQLAlchemy's adapter does in four hand-offs."""
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description  # None for executemany: it returns no rows
        rows = cursor.fetchall() if description else []
        # After the fetch: with RETURNING, sqlite3 counts rows as they are fetched.
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class _Cursor(AsyncAdapt_aiosqlite_cursor):
    """A buffered cursor whose statement runs in one call on aiosqlite's thread."""

    __slots__ = ("_arraysize", "_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: AsyncAdapt_dbapi_connection) -> None:
        # No aiosqlite cursor is opened here (that was one hand-off): _run opens its own.
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None
        self._arraysize = 1

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> Any:
        return self._lastrowid

    @property
    def arraysize(self) -> int:
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value

    async def _async_soft_close(self) -> None:
        return None  # the sqlite3 cursor was closed on the thread already

    def close(self) -> None:
        self._rows.clear()

    def _apply(self, outcome: _Outcome) -> None:
        self._description, rows, self._rowcount, self._lastrowid = outcome
        self._rows = collections.deque(rows)

    # No ``_execute_mutex`` as in SQLAlchemy's adapter: the whole statement is one item on
    # aiosqlite's queue, which runs items one at a time in order.
    def execute(self, operation: Any, parameters: Any = None) -> Any:
        self._call(operation, parameters, many=False)

    def executemany(self, operation: Any, seq_of_parameters: Sequence[Any]) -> Any:
        self._call(operation, seq_of_parameters, many=True)

    def _call(self, operation: Any, parameters: Any, *, many: bool) -> None:
        connection = self._connection
        try:
            # ``_conn`` raises ValueError on a closed connection: inside the try, so it is
            # mapped like any driver error and the pool discards the connection.
            call = connection._execute(_run, connection._conn, operation, parameters, many)
            self._apply(await_(call))
        except Exception as error:
            self._adapt_connection._handle_exception(error)


class _Connection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = _Cursor

    def _in_transaction(self) -> bool:
        driver = self._connection
        return bool(driver._connection is not None and driver.in_transaction)

    def commit(self) -> None:
        if self._in_transaction():
            super().commit()

    def rollback(self) -> None:
        if self._in_transaction():
            super().rollback()


class _DBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> _Connection:
        adapted = super().connect(*arg, **kw)
        return _Connection(self, adapted._connection)


class SQLiteDialect(SQLiteDialect_aiosqlite):
    driver = DRIVER
    supports_statement_cache = True

    @classmethod
    def import_dbapi(cls) -> _DBAPI:
        return _DBAPI(__import__("aiosqlite"), __import__("sqlite3"))


registry.register(f"sqlite.{DRIVER}", __name__, "SQLiteDialect")
