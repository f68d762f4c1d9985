"""What routes ask for: the authenticated principal, with a required role."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Form, Request
from fastapi.security import OAuth2PasswordBearer

from dossier.auth.cookies import ACCESS_COOKIE, check_csrf
from dossier.auth.principal import Principal
from dossier.auth.runtime import AuthRuntime
from dossier.auth.service import authenticate_access_token
from dossier.core.errors import Forbidden, NotAuthenticated
from dossier.core.security.tokens import VERIFIED_TOKEN_STATE
from dossier.db.session import SessionDep
from dossier.models.user import Role

# tokenUrl makes the Authorize button in /docs work (OAuth2 password flow).
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/login", auto_error=False)


async def get_auth_runtime(request: Request) -> AuthRuntime:
    runtime: AuthRuntime = request.app.state.auth
    return runtime


AuthRuntimeDep = Annotated[AuthRuntime, Depends(get_auth_runtime)]


async def client_address(request: Request) -> str:
    # The peer address; resolving X-Forwarded-For from trusted proxies belongs to the
    # proxy-headers middleware, which rewrites the scope's client before this runs.
    return request.client.host if request.client else "unknown"


ClientAddress = Annotated[str, Depends(client_address)]


async def _authenticate(
    request: Request, session: SessionDep, runtime: AuthRuntime, bearer: str | None
) -> Principal | None:
    token = bearer
    if not token and runtime.cookies_enabled:
        token = request.cookies.get(ACCESS_COOKIE)
        if token:
            # A browser sends cookies on cross-site requests too: prove the page is ours.
            check_csrf(request)
    if not token:
        return None
    verified = request.scope.get("state", {}).get(VERIFIED_TOKEN_STATE)
    claims = verified[1] if verified is not None and verified[0] == token else None
    return await authenticate_access_token(session, runtime, token, verified=claims)


async def get_principal(
    request: Request,
    session: SessionDep,
    runtime: AuthRuntimeDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> Principal:
    principal = await _authenticate(request, session, runtime, token)
    if principal is None:
        # RFC 6750 §3.1: a request without credentials gets a bare challenge, no error code.
        raise NotAuthenticated("Send a bearer access token.")
    return principal


async def get_optional_principal(
    request: Request, session: SessionDep, runtime: AuthRuntimeDep
) -> Principal | None:
    """For logout: the access token is optional, but a presented one must be valid.
    Not declared in OpenAPI as security, because the operation works without it."""
    authorization = request.headers.get("Authorization")
    bearer: str | None = None
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            bearer = value.strip()
    return await _authenticate(request, session, runtime, bearer)


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]
OptionalPrincipal = Annotated[Principal | None, Depends(get_optional_principal)]


def require_role(role: Role) -> Callable[[Principal], Awaitable[Principal]]:
    async def check(principal: CurrentPrincipal) -> Principal:
        if not principal.has_role(role):
            raise Forbidden(f"This needs the {role.value} role.")
        return principal

    return check


ModeratorPrincipal = Annotated[Principal, Depends(require_role(Role.MODERATOR))]
AdminPrincipal = Annotated[Principal, Depends(require_role(Role.ADMIN))]


class LoginForm:
    """The OAuth2 password form (what the Authorize button in /docs sends), with limits that
    the OpenAPI document publishes: an empty username or password is a 422, not a lookup."""

    def __init__(
        self,
        username: Annotated[str, Form(min_length=1, max_length=320, description="Your email.")],
        password: Annotated[str, Form(min_length=1, max_length=128)],
        grant_type: Annotated[str | None, Form(pattern="^password$")] = None,
        scope: Annotated[str, Form(max_length=1000)] = "",
        client_id: Annotated[str | None, Form(max_length=200)] = None,
        client_secret: Annotated[str | None, Form(max_length=200)] = None,
    ) -> None:
        self.username = username
        self.password = password
        self.grant_type = grant_type
        self.scopes = scope.split()
        self.client_id = client_id
        self.client_secret = client_secret
