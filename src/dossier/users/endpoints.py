"""HTTP routes of users: the caller's own account and user administration."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Query, Request, Response, status

from dossier.auth.cookies import token_response
from dossier.auth.dependencies import (
    AdminPrincipal,
    AuthRuntimeDep,
    CurrentPrincipal,
    ModeratorPrincipal,
)
from dossier.auth.schemas import TokenResponse
from dossier.core.conditional import (
    IfMatchHeader,
    IfNoneMatchHeader,
    if_match_required,
    not_modified,
    not_modified_response,
    set_etag,
)
from dossier.core.openapi import problem_responses
from dossier.core.pagination import CursorCodecDep, Page, PageParamsDep, page_response
from dossier.core.routing import Router
from dossier.db.session import SessionDep
from dossier.models.user import Role, User
from dossier.users import service
from dossier.users.schemas import (
    EmailChange,
    PasswordChange,
    UserAdminUpdate,
    UserRead,
    UserSelfUpdate,
    UserSort,
)

router = Router(prefix="/api/v1/users", tags=["users"])


def _user_response(response: Response, user: User) -> UserRead:
    set_etag(response, service.user_etag(user))
    return UserRead.model_validate(user)


NOT_MODIFIED: dict[int | str, dict[str, Any]] = {304: {"description": "Not Modified"}}


@router.get(
    "/me",
    response_model=UserRead,
    responses={**NOT_MODIFIED, **problem_responses(401)},
    summary="Your account",
)
async def read_me(
    session: SessionDep,
    principal: CurrentPrincipal,
    response: Response,
    if_none_match: IfNoneMatchHeader = None,
) -> UserRead | Response:
    user = await service.get_user(session, principal, user_id=principal.user_id)
    etag = service.user_etag(user)
    if not_modified(if_none_match, etag):
        return not_modified_response(etag)
    return _user_response(response, user)


@router.patch(
    "/me",
    response_model=UserRead,
    responses=problem_responses(401, 403, 412, 428),
    summary="Change your display name",
)
async def update_me(
    request: Request,
    body: UserSelfUpdate,
    session: SessionDep,
    principal: CurrentPrincipal,
    response: Response,
    if_match: IfMatchHeader = None,
) -> UserRead:
    user = await service.update_me(
        session,
        principal,
        changes=body.model_dump(exclude_unset=True),
        if_match=if_match,
        if_match_required=if_match_required(request),
    )
    return _user_response(response, user)


@router.post(
    "/me/password",
    response_model=TokenResponse,
    responses=problem_responses(401, 403, 429),
    summary="Change your password (ends your other sessions; returns new tokens)",
)
async def change_password(
    body: PasswordChange,
    session: SessionDep,
    principal: CurrentPrincipal,
    runtime: AuthRuntimeDep,
    response: Response,
) -> TokenResponse:
    pair = await service.change_password(
        session,
        principal,
        runtime=runtime,
        current_password=body.current_password,
        new_password=body.new_password,
    )
    return token_response(response, pair, runtime=runtime)


@router.post(
    "/me/email",
    response_model=UserRead,
    responses=problem_responses(401, 403, 409, 429),
    summary="Change your email (confirmed by your current password)",
)
async def change_email(
    body: EmailChange,
    session: SessionDep,
    principal: CurrentPrincipal,
    runtime: AuthRuntimeDep,
    response: Response,
) -> UserRead:
    """You log in with the new email from now on; your sessions stay open. The address is
    not verified by mail (Dossier sends none): check it before you send it."""
    user = await service.change_email(
        session,
        principal,
        runtime=runtime,
        email=body.email,
        current_password=body.current_password,
    )
    return _user_response(response, user)


@router.get(
    "",
    response_model=Page[UserRead],
    responses=problem_responses(400, 401, 403),
    summary="List users (moderators and admins)",
)
async def list_users(
    request: Request,
    response: Response,
    session: SessionDep,
    principal: ModeratorPrincipal,
    params: PageParamsDep,
    codec: CursorCodecDep,
    sort: Annotated[
        UserSort | None, Query(description="`created_at` (default) or `email`; `-` reverses.")
    ] = None,
    role: Annotated[Role | None, Query(description="Only users with this role.")] = None,
    is_active: Annotated[bool | None, Query(description="Only active or inactive users.")] = None,
    email_prefix: Annotated[
        str | None, Query(max_length=320, description="Only emails starting with this.")
    ] = None,
) -> Page[UserRead]:
    result = await service.list_users(
        session,
        principal,
        role=role,
        is_active=is_active,
        email_prefix=email_prefix,
        params=params,
        sort=sort,
        codec=codec,
    )
    return page_response(
        request, response, result, [UserRead.model_validate(user) for user in result.items]
    )


@router.get(
    "/{user_id}",
    response_model=UserRead,
    responses={**NOT_MODIFIED, **problem_responses(401, 404)},
    summary="One user (yourself, or anyone for moderators and admins)",
)
async def read_user(
    user_id: uuid.UUID,
    session: SessionDep,
    principal: CurrentPrincipal,
    response: Response,
    if_none_match: IfNoneMatchHeader = None,
) -> UserRead | Response:
    user = await service.get_user(session, principal, user_id=user_id)
    etag = service.user_etag(user)
    if not_modified(if_none_match, etag):
        return not_modified_response(etag)
    return _user_response(response, user)


@router.patch(
    "/{user_id}",
    response_model=UserRead,
    responses=problem_responses(401, 403, 404, 409, 412, 428),
    summary="Change a user's name, role or active flag (admins)",
)
async def update_user(
    request: Request,
    user_id: uuid.UUID,
    body: UserAdminUpdate,
    session: SessionDep,
    principal: AdminPrincipal,
    response: Response,
    if_match: IfMatchHeader = None,
) -> UserRead:
    user = await service.update_user(
        session,
        principal,
        user_id=user_id,
        changes=body.model_dump(exclude_unset=True),
        if_match=if_match,
        if_match_required=if_match_required(request),
    )
    return _user_response(response, user)


@router.delete(
    "/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 404, 409, 412, 428),
    summary="Delete a user (admins)",
)
async def delete_user(
    request: Request,
    user_id: uuid.UUID,
    session: SessionDep,
    principal: AdminPrincipal,
    if_match: IfMatchHeader = None,
) -> None:
    await service.delete_user(
        session,
        principal,
        user_id=user_id,
        if_match=if_match,
        if_match_required=if_match_required(request),
    )
