"""HTTP routes of authentication: register, login, refresh, logout."""

from __future__ import annotations

from typing import Annotated

from fastapi import Body, Depends, Request, Response, status

from dossier.auth import service
from dossier.auth.cookies import REFRESH_COOKIE, check_csrf, clear_session_cookies, token_response
from dossier.auth.dependencies import (
    AuthRuntimeDep,
    ClientAddress,
    CurrentPrincipal,
    LoginForm,
    OptionalPrincipal,
)
from dossier.auth.errors import InvalidRefreshToken
from dossier.auth.runtime import AuthRuntime
from dossier.auth.schemas import RefreshRequest, TokenResponse
from dossier.core.openapi import problem_responses
from dossier.core.routing import Router
from dossier.db.session import SessionDep
from dossier.users.schemas import UserCreate, UserRead

router = Router(prefix="/api/v1/auth", tags=["auth"])


def _presented_refresh_token(
    request: Request, body: RefreshRequest | None, runtime: AuthRuntime
) -> str | None:
    if body is not None and body.refresh_token:
        return body.refresh_token
    cookie = request.cookies.get(REFRESH_COOKIE)
    if cookie and runtime.cookies_enabled:
        check_csrf(request)
        return cookie
    return None


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    response_model=UserRead,
    responses=problem_responses(403, 409),
    summary="Create an account",
)
async def register(
    body: UserCreate, session: SessionDep, runtime: AuthRuntimeDep, response: Response
) -> UserRead:
    user = await service.register(
        session,
        runtime=runtime,
        email=str(body.email),
        password=body.password,
        display_name=body.display_name,
    )
    response.headers["Location"] = f"/api/v1/users/{user.id}"
    return UserRead.model_validate(user)


@router.post(
    "/login",
    response_model=TokenResponse,
    responses=problem_responses(401, 429),
    summary="Log in with email (`username`) and password (OAuth2 password form)",
)
async def login(
    form: Annotated[LoginForm, Depends()],
    session: SessionDep,
    runtime: AuthRuntimeDep,
    address: ClientAddress,
    response: Response,
) -> TokenResponse:
    pair = await service.login(
        session,
        runtime=runtime,
        email=form.username,
        password=form.password,
        client_address=address,
    )
    return token_response(response, pair, runtime=runtime)


@router.post(
    "/refresh",
    response_model=TokenResponse,
    responses=problem_responses(401, 403, 429),
    summary="Exchange a refresh token for new tokens (the old one is used up)",
)
async def refresh(
    request: Request,
    session: SessionDep,
    runtime: AuthRuntimeDep,
    address: ClientAddress,
    response: Response,
    body: Annotated[RefreshRequest | None, Body()] = None,
) -> TokenResponse:
    token = _presented_refresh_token(request, body, runtime)
    if token is None:
        raise InvalidRefreshToken("Send the refresh token.")
    pair = await service.refresh(
        session, runtime=runtime, refresh_token=token, client_address=address
    )
    return token_response(response, pair, runtime=runtime)


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403),
    summary="End this session: revoke the refresh token's family and the access token",
)
async def logout(
    request: Request,
    session: SessionDep,
    runtime: AuthRuntimeDep,
    principal: OptionalPrincipal,
    response: Response,
    body: Annotated[RefreshRequest | None, Body()] = None,
) -> None:
    token = _presented_refresh_token(request, body, runtime)
    await service.logout(session, principal, runtime=runtime, refresh_token=token)
    clear_session_cookies(response, runtime=runtime)


@router.post(
    "/logout-all",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403),
    summary="End every session of the current user",
)
async def logout_all(
    session: SessionDep,
    runtime: AuthRuntimeDep,
    principal: CurrentPrincipal,
    response: Response,
) -> None:
    await service.logout_all(session, principal, runtime=runtime)
    clear_session_cookies(response, runtime=runtime)
