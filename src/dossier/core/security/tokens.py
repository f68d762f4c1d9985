"""Access tokens: short-lived JWTs (RFC 8725 practice: pinned algorithm, every claim checked)."""

from __future__ import annotations

import hashlib
import hmac
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


class InvalidToken(Exception):
    """The token is not acceptable; the message is safe to log, never the token."""


def derive_key(secret: str, label: str) -> bytes:
    """A purpose-bound key from the service secret, so one secret never signs two kinds of thing."""
    return hmac.new(secret.encode(), label.encode(), hashlib.sha256).digest()


def key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:12]


@dataclass(frozen=True)
class AccessClaims:
    subject: uuid.UUID
    role: str
    token_id: str
    expires_at: int


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

    def issue(self, *, subject: uuid.UUID, role: str) -> tuple[str, AccessClaims]:
        now = utcnow()
        expires = now + self.ttl
        claims = AccessClaims(
            subject=subject,
            role=role,
            token_id=uuid.uuid4().hex,
            expires_at=int(expires.timestamp()),
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
        }
        token = jwt.encode(
            payload, self._signing_key, algorithm=ALGORITHM, headers={"kid": self._signing_kid}
        )
        return token, claims

    def verify(self, token: str) -> AccessClaims:
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
                    "require": ["sub", "role", "iat", "nbf", "exp", "iss", "aud", "jti", "typ"]
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
        return AccessClaims(
            subject=subject,
            role=str(payload["role"]),
            token_id=str(payload["jti"]),
            expires_at=int(payload["exp"]),
        )
