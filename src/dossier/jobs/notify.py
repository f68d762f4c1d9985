"""PostgreSQL LISTEN on a dedicated asyncpg connection; reconnects, never required.

When the connection is down, workers still find work by polling every
``DOSSIER_JOB_POLL_INTERVAL`` seconds, so NOTIFY only makes pickup faster.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import asyncpg
import structlog
from sqlalchemy.engine import URL

from dossier.jobs.enqueue import NOTIFY_CHANNEL

logger = structlog.get_logger("dossier.jobs.notify")


def asyncpg_dsn(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


async def listen_forever(url: URL, on_notify: Callable[[], None]) -> None:
    """Keep a LISTEN connection open until cancelled; wake ``on_notify`` for each NOTIFY."""
    delay = 0.5

    def _callback(*_args: Any) -> None:
        on_notify()

    while True:
        connection: asyncpg.Connection | None = None
        try:
            connection = await asyncpg.connect(asyncpg_dsn(url))
            lost = asyncio.Event()
            connection.add_termination_listener(lambda _conn, lost=lost: lost.set())
            await connection.add_listener(NOTIFY_CHANNEL, _callback)
            delay = 0.5
            on_notify()  # anything enqueued while we were not listening
            await lost.wait()
            logger.warning("job_listener_lost")
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            logger.warning("job_listener_failed", error=type(exc).__name__, retry_in=delay)
        finally:
            if connection is not None and not connection.is_closed():
                await connection.close(timeout=2)
        await asyncio.sleep(delay)
        delay = min(delay * 2, 30.0)
