"""Revoked access tokens, by ``jti``, remembered until they would have expired anyway."""

from __future__ import annotations

import time

import structlog

from dossier.core.errors import ServiceUnavailable
from dossier.core.store import ExpiringStore

logger = structlog.get_logger("dossier.auth")

# A token is refused for a little longer than its `exp`, covering clock skew between replicas.
_SKEW_SECONDS = 60


class AccessTokenDenyList:
    def __init__(self, store: ExpiringStore) -> None:
        self._store = store

    @staticmethod
    def _key(token_id: str) -> str:
        return f"auth:denied-jti:{token_id}"

    async def deny(self, token_id: str, *, expires_at: int) -> None:
        ttl = expires_at - time.time() + _SKEW_SECONDS
        try:
            await self._store.set(self._key(token_id), b"1", ttl_seconds=ttl)
        except Exception as exc:
            raise self._unavailable(exc) from exc

    async def is_denied(self, token_id: str) -> bool:
        # Fail closed: when revocations cannot be checked, a logged-out token must not pass.
        # Clients get 503 with Retry-After (never a 500) until the store answers again.
        try:
            return await self._store.exists(self._key(token_id))
        except Exception as exc:
            raise self._unavailable(exc) from exc

    @staticmethod
    def _unavailable(exc: Exception) -> ServiceUnavailable:
        logger.error("denylist_unavailable", error_class=type(exc).__name__)
        return ServiceUnavailable(
            "Sign-in state cannot be checked right now; retry shortly.",
            headers={"Retry-After": "5"},
        )
