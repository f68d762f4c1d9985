"""Access tokens: short-lived JWTs (RFC 8725 practice: pinned algorithm, every claim checked)."""

from __future__ import annotations

import functools
import hashlib
import hmac
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import jwt

from dossier.core.clock import utcnow

ALGORITHM = "HS256"  # pinned: a token naming any other algorithm is rejected
ACCESS_TOKEN_TYPE = "access"  # noqa: S105  (a claim value, not a secret)
ISSUER = "dossier"
AUDIENCE = "dossier-api"
DEFAULT_ACCESS_TTL = timedelta(minutes=15)
ACCESS_KEY_LABEL = "jwt-access"


class InvalidToken(Exception):
    """The token is not acceptable; the message is safe to log, never the token."""


def derive_key(secret: str, label: str) -> bytes:
    """A purpose-bound key from the service secret, so one secret never signs two kinds of thing."""
    return hmac.new(secret.encode(), label.encode(), hashlib.sha256).digest()


def key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:12]


# The rate-limit layer verifies the bearer token before routing; it leaves ``(token, claims)``
# in the request state under this name so authentication does not verify the same token twice.
VERIFIED_TOKEN_STATE = "verified_access_token"  # noqa: S105 (a state key, not a secret)


VERIFIED_CACHE_SIZE = 4096


@dataclass(frozen=True)
class AccessClaims:
    subject: uuid.UUID
    role: str
    token_id: str
    expires_at: int
    # The user's session version when the token was issued: changing the password,
    # deactivation and "log out everywhere" bump it, which ends every older token at once.
    version: int = 0


class AccessTokenCodec:
    """Signs with the current key; verifies with any configured key chosen by ``kid``."""

    def __init__(
        self,
        signing_key: bytes,
        *,
        ttl: timedelta = DEFAULT_ACCESS_TTL,
        verification_keys: list[bytes] | None = None,
    ) -> None:
        self.ttl = ttl
        self._signing_kid = key_id(signing_key)
        self._signing_key = signing_key
        self._keys = {key_id(key): key for key in [signing_key, *(verification_keys or [])]}
        # A token is the same bytes on every request of a session: verifying its signature and
        # claims once per process is enough (PyJWT takes ~130 µs per token). Only successes are
        # kept (an exception is never cached), at most VERIFIED_CACHE_SIZE of them, and expiry
        # is checked again on every use. Revocation is not a property of the token: the
        # deny-list and the session version are checked by the caller on every request.
        self._verify_once = functools.lru_cache(maxsize=VERIFIED_CACHE_SIZE)(self._verify)

    @classmethod
    def from_secrets(
        cls, current: str, previous: list[str] | None = None, *, ttl: timedelta = DEFAULT_ACCESS_TTL
    ) -> AccessTokenCodec:
        """Sign with a key derived from ``current``; keys derived from ``previous`` secrets
        still verify (key rotation: keep an old secret until its tokens have expired)."""
        return cls(
            derive_key(current, ACCESS_KEY_LABEL),
            ttl=ttl,
            verification_keys=[derive_key(secret, ACCESS_KEY_LABEL) for secret in previous or []],
        )

    @property
    def key_ids(self) -> list[str]:
        return list(self._keys)

    def issue(self, *, subject: uuid.UUID, role: str, version: int = 0) -> tuple[str, AccessClaims]:
        now = utcnow()
        expires = now + self.ttl
        claims = AccessClaims(
            subject=subject,
            role=role,
            token_id=uuid.uuid4().hex,
            expires_at=int(expires.timestamp()),
            version=version,
        )
        payload: dict[str, Any] = {
            "sub": str(subject),
            "role": role,
            "iat": int(now.timestamp()),
            "nbf": int(now.timestamp()),
            "exp": claims.expires_at,
            "iss": ISSUER,
            "aud": AUDIENCE,
            "jti": claims.token_id,
            "typ": ACCESS_TOKEN_TYPE,
            "ver": version,
        }
        token = jwt.encode(
            payload, self._signing_key, algorithm=ALGORITHM, headers={"kid": self._signing_kid}
        )
        return token, claims

    def verify(self, token: str) -> AccessClaims:
        claims = self._verify_once(token)
        if claims.expires_at <= time.time():  # as PyJWT decides it, with no leeway
            raise InvalidToken("ExpiredSignatureError")
        return claims

    def _verify(self, token: str) -> AccessClaims:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidToken("malformed token") from exc
        if header.get("alg") != ALGORITHM:
            raise InvalidToken("unexpected algorithm")
        key = self._keys.get(str(header.get("kid")))
        if key is None:
            raise InvalidToken("unknown key id")
        try:
            payload = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=ISSUER,
                options={
                    "require": [
                        "sub",
                        "role",
                        "iat",
                        "nbf",
                        "exp",
                        "iss",
                        "aud",
                        "jti",
                        "typ",
                        "ver",
                    ]
                },
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(type(exc).__name__) from exc
        if payload.get("typ") != ACCESS_TOKEN_TYPE:
            raise InvalidToken("not an access token")
        try:
            subject = uuid.UUID(str(payload["sub"]))
        except ValueError as exc:
            raise InvalidToken("bad subject") from exc
        version = payload["ver"]
        if not isinstance(version, int) or isinstance(version, bool):
            raise InvalidToken("bad version")
        return AccessClaims(
            subject=subject,
            role=str(payload["role"]),
            token_id=str(payload["jti"]),
            expires_at=int(payload["exp"]),
            version=version,
        )
