"""Browser sessions: the same tokens in cookies, with a double-submit CSRF token.

The access and refresh cookies are HttpOnly (scripts cannot read them), ``SameSite=Lax`` and
``Secure`` in production; the refresh cookie is only sent to the auth endpoints. The CSRF
cookie is readable by the page's own script, which echoes it in ``X-CSRF-Token`` on unsafe
requests; another site can make the browser send the cookies but cannot read the value.
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request, Response

from dossier.auth.errors import CsrfFailed
from dossier.auth.runtime import AuthRuntime
from dossier.auth.schemas import TokenResponse
from dossier.auth.sessions import TokenPair
from dossier.core.clock import utcnow

ACCESS_COOKIE = "dossier_access"
REFRESH_COOKIE = "dossier_refresh"
CSRF_COOKIE = "dossier_csrf"
CSRF_HEADER = "X-CSRF-Token"
REFRESH_COOKIE_PATH = "/api/v1/auth"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# RFC 6749 §5.1: token responses must not be cached.
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def set_session_cookies(response: Response, pair: TokenPair, *, runtime: AuthRuntime) -> None:
    if not runtime.cookies_enabled:
        return
    refresh_max_age = max(0, int((pair.refresh_expires_at - utcnow()).total_seconds()))
    secure = runtime.cookie_secure
    response.set_cookie(
        ACCESS_COOKIE,
        pair.access_token,
        max_age=pair.expires_in,
        path="/",
        secure=secure,
        httponly=True,
        samesite="lax",
    )
    response.set_cookie(
        REFRESH_COOKIE,
        pair.refresh_token,
        max_age=refresh_max_age,
        path=REFRESH_COOKIE_PATH,
        secure=secure,
        httponly=True,
        samesite="lax",
    )
    response.set_cookie(
        CSRF_COOKIE,
        secrets.token_urlsafe(32),
        max_age=refresh_max_age,
        path="/",
        secure=secure,
        httponly=False,
        samesite="lax",
    )


def clear_session_cookies(response: Response, *, runtime: AuthRuntime) -> None:
    if not runtime.cookies_enabled:
        return
    secure = runtime.cookie_secure
    for name, path in (
        (ACCESS_COOKIE, "/"),
        (REFRESH_COOKIE, REFRESH_COOKIE_PATH),
        (CSRF_COOKIE, "/"),
    ):
        response.delete_cookie(name, path=path, secure=secure, httponly=True, samesite="lax")


def check_csrf(request: Request) -> None:
    """Double submit: the header must equal the CSRF cookie on every unsafe method."""
    if request.method in SAFE_METHODS:
        return
    cookie = request.cookies.get(CSRF_COOKIE)
    header = request.headers.get(CSRF_HEADER)
    if not cookie or not header or not hmac.compare_digest(cookie.encode(), header.encode()):
        raise CsrfFailed()


def token_response(response: Response, pair: TokenPair, *, runtime: AuthRuntime) -> TokenResponse:
    """The body every token-issuing route returns (and the cookies in cookie mode)."""
    response.headers.update(NO_STORE)
    set_session_cookies(response, pair, runtime=runtime)
    return TokenResponse(
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        token_type=pair.token_type,
        expires_in=pair.expires_in,
    )
