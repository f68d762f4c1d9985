"""The access-token codec keeps verified tokens per process, never past their expiry."""

from __future__ import annotations

import time
import uuid

import pytest

from dossier.core.security.tokens import AccessTokenCodec, InvalidToken, derive_key


def _codec() -> AccessTokenCodec:
    return AccessTokenCodec(derive_key("a-test-secret-that-is-long-enough-0123456789", "t"))


def test_a_cached_token_still_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    codec = _codec()
    token, issued = codec.issue(subject=uuid.uuid4(), role="user")
    assert codec.verify(token) == issued
    assert codec.verify(token) == issued  # from the cache now
    later = issued.expires_at + 1.0
    monkeypatch.setattr("dossier.core.security.tokens.time.time", lambda: later)
    with pytest.raises(InvalidToken, match="Expired"):
        codec.verify(token)


def test_failures_are_not_cached_and_a_forgery_never_hits_the_cache() -> None:
    codec = _codec()
    token, _ = codec.issue(subject=uuid.uuid4(), role="user")
    codec.verify(token)
    header, payload, signature = token.split(".")
    forged = f"{header}.{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    for _ in range(2):
        with pytest.raises(InvalidToken):
            codec.verify(forged)
    other = AccessTokenCodec(derive_key("another-secret-that-is-long-enough-0123456789", "t"))
    with pytest.raises(InvalidToken):
        other.verify(token)  # the cache is per codec, so per key set
    assert time.time() < codec.verify(token).expires_at
