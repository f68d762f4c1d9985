"""Fixtures for task tests: users of each role and a helper to create tasks over HTTP."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from dossier.db.engine import Database
from dossier.models.task import Task
from dossier.models.user import User
from tests.factories import auth_headers

CreateTask = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
def as_user(app: FastAPI) -> Callable[[User], dict[str, str]]:
    return lambda user: auth_headers(app, user)


@pytest.fixture
def create_task(client: httpx.AsyncClient, as_user: Callable[[User], dict[str, str]]) -> CreateTask:
    async def create(user: User, **fields: Any) -> dict[str, Any]:
        body = {"title": "A task", **fields}
        response = await client.post("/api/v1/tasks", json=body, headers=as_user(user))
        assert response.status_code == 201, response.text
        data: dict[str, Any] = response.json()
        return data

    return create


async def insert_task(database: Database, owner: User, **fields: Any) -> Task:
    """A task row written directly (fast setup for list tests); tags by name."""
    from dossier.models.task import Priority, Tag

    tags = fields.pop("tags", [])
    priority = Priority.from_label(fields.pop("priority", "normal")).value
    async with database.writer_sessionmaker() as session, session.begin():
        tag_rows = []
        for name in tags:
            tag = await session.scalar(select(Tag).where(Tag.name == name))
            if tag is None:
                tag = Tag(name=name)
                session.add(tag)
            tag_rows.append(tag)
        task = Task(owner_id=owner.id, priority=priority, tags=tag_rows, **fields)
        session.add(task)
    return task
