"""What routes ask for: the authenticated principal, with a required role."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from dossier.auth.principal import Principal
from dossier.auth.service import authenticate_access_token
from dossier.core.errors import Forbidden, NotAuthenticated
from dossier.db.session import SessionDep
from dossier.models.user import Role

# tokenUrl makes the Authorize button in /docs work (OAuth2 password flow).
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/login", auto_error=False)


async def get_principal(
    request: Request,
    session: SessionDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> Principal:
    if not token:
        raise NotAuthenticated("Send a bearer access token.")
    return await authenticate_access_token(session, request.app.state.token_codec, token)


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def require_role(role: Role) -> Callable[[Principal], Awaitable[Principal]]:
    async def check(principal: CurrentPrincipal) -> Principal:
        if not principal.has_role(role):
            raise Forbidden(f"This needs the {role.value} role.")
        return principal

    return check


ModeratorPrincipal = Annotated[Principal, Depends(require_role(Role.MODERATOR))]
AdminPrincipal = Annotated[Principal, Depends(require_role(Role.ADMIN))]
