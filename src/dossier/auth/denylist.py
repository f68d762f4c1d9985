"""Revoked access tokens, by ``jti``, remembered until they would have expired anyway."""

from __future__ import annotations

import time

from dossier.core.store import ExpiringStore

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
        await self._store.set(self._key(token_id), b"1", ttl_seconds=ttl)

    async def is_denied(self, token_id: str) -> bool:
        return await self._store.exists(self._key(token_id))
