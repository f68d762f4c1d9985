"""ETags and conditional requests, as functions and through a probe resource."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import APIRouter, Request, Response

from dossier.app import create_app
from dossier.config import Settings
from dossier.core.conditional import (
    IfMatchHeader,
    IfNoneMatchHeader,
    check_if_match,
    etag_for,
    if_match_required,
    not_modified,
    not_modified_response,
    set_etag,
)
from dossier.core.errors import PreconditionFailed, PreconditionRequired
from tests.helpers import assert_problem

OBJECT_ID = uuid.UUID("12345678-1234-5678-1234-567812345678")


def test_etag_is_strong_and_changes_with_version() -> None:
    tag = etag_for(OBJECT_ID, 1)
    assert tag.startswith('"')
    assert tag.endswith('"')
    assert not tag.startswith("W/")
    assert tag != etag_for(OBJECT_ID, 2)
    assert tag != etag_for(uuid.uuid4(), 1)


def test_if_none_match_uses_weak_comparison() -> None:
    tag = etag_for(OBJECT_ID, 3)
    assert not_modified(tag, tag)
    assert not_modified(f'"other", W/{tag}', tag)
    assert not_modified("*", tag)
    assert not not_modified(etag_for(OBJECT_ID, 2), tag)
    assert not not_modified(None, tag)


def test_if_match_uses_strong_comparison() -> None:
    tag = etag_for(OBJECT_ID, 3)
    check_if_match(tag, tag)
    check_if_match(f'"x", {tag}', tag)
    check_if_match("*", tag)
    check_if_match(None, tag)
    with pytest.raises(PreconditionFailed):
        check_if_match(f"W/{tag}", tag)
    with pytest.raises(PreconditionFailed):
        check_if_match(etag_for(OBJECT_ID, 2), tag)
    with pytest.raises(PreconditionRequired):
        check_if_match(None, tag, required=True)
    with pytest.raises(PreconditionRequired):
        check_if_match("  ", tag, required=True)


def probe_router(state: dict[str, Any]) -> APIRouter:
    router = APIRouter()

    @router.get("/probe/thing")
    async def read(response: Response, if_none_match: IfNoneMatchHeader = None) -> Any:
        etag = etag_for(OBJECT_ID, state["version"])
        if not_modified(if_none_match, etag):
            return not_modified_response(etag)
        set_etag(response, etag)
        return {"version": state["version"]}

    @router.put("/probe/thing")
    async def write(request: Request, response: Response, if_match: IfMatchHeader = None) -> Any:
        check_if_match(
            if_match, etag_for(OBJECT_ID, state["version"]), required=if_match_required(request)
        )
        state["version"] += 1
        set_etag(response, etag_for(OBJECT_ID, state["version"]))
        return {"version": state["version"]}

    return router


async def _client(settings: Settings, state: dict[str, Any]) -> AsyncIterator[httpx.AsyncClient]:
    application = create_app(settings, configure_logs=False)
    application.include_router(probe_router(state))
    async with LifespanManager(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


async def test_get_304_and_put_412_over_http(settings: Settings) -> None:
    state = {"version": 1}
    async for client in _client(settings, state):
        first = await client.get("/probe/thing")
        etag = first.headers["etag"]
        assert first.headers["cache-control"] == "private, no-cache"
        cached = await client.get("/probe/thing", headers={"If-None-Match": etag})
        assert cached.status_code == 304
        assert cached.content == b""
        assert cached.headers["etag"] == etag
        written = await client.put("/probe/thing", headers={"If-Match": etag})
        assert written.status_code == 200
        assert written.headers["etag"] != etag
        stale = await client.put("/probe/thing", headers={"If-Match": etag})
        body = assert_problem(stale, 412, "precondition_failed")
        assert body["current_etag"] == written.headers["etag"]
        assert (
            await client.get("/probe/thing", headers={"If-None-Match": etag})
        ).status_code == 200
        assert (await client.put("/probe/thing")).status_code == 200  # optional by default


async def test_if_match_can_be_required(make_settings: Any) -> None:
    state = {"version": 1}
    async for client in _client(make_settings(require_if_match=True), state):
        assert_problem(await client.put("/probe/thing"), 428, "precondition_required")
        etag = (await client.get("/probe/thing")).headers["etag"]
        assert (await client.put("/probe/thing", headers={"If-Match": etag})).status_code == 200
