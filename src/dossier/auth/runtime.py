"""What authentication needs at run time, built once per application from the settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from redis.asyncio import Redis

from dossier.auth.denylist import AccessTokenDenyList
from dossier.auth.principals import PrincipalLookup
from dossier.config import Settings
from dossier.core.cache import AppCache
from dossier.core.ratelimit import RateLimiter, RateLimitPolicy
from dossier.core.security.tokens import AccessTokenCodec
from dossier.core.store import create_store


@dataclass(frozen=True)
class AuthPolicies:
    login_account: RateLimitPolicy
    login_address: RateLimitPolicy
    refresh_account: RateLimitPolicy
    refresh_address: RateLimitPolicy

    @classmethod
    def from_settings(cls, settings: Settings) -> AuthPolicies:
        return cls(
            login_account=RateLimitPolicy.parse("login-account", settings.rate_limit_login_account),
            login_address=RateLimitPolicy.parse("login-address", settings.rate_limit_login_address),
            refresh_account=RateLimitPolicy.parse(
                "refresh-account", settings.rate_limit_refresh_account
            ),
            refresh_address=RateLimitPolicy.parse(
                "refresh-address", settings.rate_limit_refresh_address
            ),
        )


@dataclass(frozen=True)
class AuthRuntime:
    codec: AccessTokenCodec
    denylist: AccessTokenDenyList
    principals: PrincipalLookup
    limiter: RateLimiter
    policies: AuthPolicies
    refresh_ttl: timedelta
    registration_enabled: bool
    email_change_enabled: bool
    cookies_enabled: bool
    cookie_secure: bool


def create_token_codec(settings: Settings) -> AccessTokenCodec:
    return AccessTokenCodec.from_secrets(
        settings.signing_secret,
        [key.get_secret_value() for key in settings.previous_secret_keys],
        ttl=timedelta(seconds=settings.access_token_ttl_seconds),
    )


def create_auth_runtime(
    settings: Settings,
    *,
    codec: AccessTokenCodec,
    redis: Redis | None,
    limiter: RateLimiter,
    cache: AppCache | None = None,
) -> AuthRuntime:
    store = create_store(redis, prefix=settings.redis_key_prefix)
    return AuthRuntime(
        codec=codec,
        denylist=AccessTokenDenyList(store),
        principals=PrincipalLookup(cache, settings.principal_cache_seconds),
        limiter=limiter,
        policies=AuthPolicies.from_settings(settings),
        refresh_ttl=timedelta(seconds=settings.refresh_token_ttl_seconds),
        registration_enabled=settings.registration_enabled,
        email_change_enabled=settings.email_change_enabled,
        cookies_enabled=settings.auth_cookies_enabled,
        cookie_secure=settings.is_production,
    )
