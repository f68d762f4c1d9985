"""Auth's periodic clean-up, run by the workers' housekeeping."""

from __future__ import annotations

import structlog

from dossier.auth.repository import delete_expired_tokens
from dossier.config import Settings
from dossier.core.clock import utcnow
from dossier.db.engine import Database
from dossier.jobs import housekeeping

logger = structlog.get_logger("dossier.auth")


@housekeeping("auth.expired_refresh_tokens")
async def purge_expired_refresh_tokens(database: Database, _settings: Settings) -> int:
    """Delete refresh tokens whose login session has passed its absolute lifetime (login
    also does it for the user logging in)."""
    async with database.writer_sessionmaker() as session, session.begin():
        count = await delete_expired_tokens(session, now=utcnow())
    if count:
        logger.info("refresh_tokens_purged", count=count)
    return count
