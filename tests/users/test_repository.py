"""The email prefix filter: the same rows as `str.startswith`, from an index on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from dossier.db.engine import Database
from dossier.models.user import User
from dossier.users.repository import email_starts_with
from tests.factories import create_user
from tests.helpers import postgres_generic_plan

# Edge characters: LIKE wildcards and the escape, non-ASCII, the last code point before the
# surrogate block (its successor skips the block) and the last code point (no successor).
EMAILS = [
    "a@x.org",
    "ab@x.org",
    "a_b@x.org",
    "a%b@x.org",
    "a\\b@x.org",
    "aé@x.org",
    "b@x.org",
    "a\ud7ff@x.org",
    "a\ue000@x.org",
    "a\U0010ffff@x.org",
]


@pytest.mark.parametrize(
    "prefix",
    ["a", "ab", "a_", "a%", "a\\", "aé", "b", "z", "é", "ab@x.org", "a\ud7ff", "a\U0010ffff"],
)
async def test_prefix_matches_like_startswith(database: Database, prefix: str) -> None:
    for email in EMAILS:
        await create_user(database, email=email)
    async with database.reader_sessionmaker() as session:
        criterion = email_starts_with(prefix, database.dialect)
        found = set(await session.scalars(select(User.email).where(criterion)))
    assert found == {email for email in EMAILS if email.startswith(prefix)}


async def test_sqlite_reads_a_range_of_the_unique_index(database: Database) -> None:
    if database.dialect != "sqlite":
        pytest.skip("SQLite's plan")
    statement = select(User.id).where(email_starts_with("team", "sqlite"))
    sql = str(statement.compile(compile_kwargs={"literal_binds": True}))
    async with database.reader_sessionmaker() as session:
        plan = " ".join(
            str(row[-1]) for row in await session.execute(text(f"EXPLAIN QUERY PLAN {sql}"))
        )
    assert "USING" in plan, plan
    assert "INDEX" in plan, plan
    assert "email>? AND email<?" in plan, plan


@pytest.mark.postgres
async def test_postgresql_uses_the_pattern_index_in_a_generic_plan(database: Database) -> None:
    for number in range(20):
        await create_user(database, email=f"user{number}@example.com")
    statement = select(User.id).where(email_starts_with("user1", "postgresql"))
    async with database.writer_sessionmaker() as session:
        await session.execute(text("ANALYZE users"))
        plan = await postgres_generic_plan(session, statement)
    assert "ix_users_email_pattern" in plan, plan
    assert "$1" in plan, plan  # planned without the value
