"""The storage layer on a real SQLite file: migrations, pragmas, transactions."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.storage.db import Database, _migrations
from bot.storage.users import UserStore


async def test_migrations_apply_once_from_empty(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "bot.sqlite3"
    database = await Database.open(path)
    try:
        expected = [number for number, _, _ in _migrations()]
        assert expected[0] == 1
        assert await database.schema_version() == expected[-1]
        assert await database.migrate() == []  # nothing left to apply
        journal = await database.fetch_one("PRAGMA journal_mode")
        foreign_keys = await database.fetch_one("PRAGMA foreign_keys")
        assert journal is not None
        assert journal[0] == "wal"
        assert foreign_keys is not None
        assert foreign_keys[0] == 1
    finally:
        await database.close()
    assert (path.stat().st_mode & 0o777) == 0o600
    reopened = await Database.open(path)
    try:
        assert await reopened.migrate() == []
    finally:
        await reopened.close()


async def test_failed_transaction_leaves_nothing(tmp_path: Path) -> None:
    database = await Database.open(tmp_path / "bot.sqlite3")
    users = UserStore(database)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    try:
        with pytest.raises(RuntimeError):
            async with database.transaction() as tx:
                await tx.execute(
                    "INSERT INTO users (user_id, consented_at, created_at) VALUES (?, ?, ?)",
                    (5, 1, 1),
                )
                raise RuntimeError("boom")
        assert await users.get(5) is None
        user = await users.record_consent(5, now)
        assert user.consented_at == int(now.timestamp())
        assert await users.count() == 1
    finally:
        await database.close()


async def test_hostile_text_is_stored_as_plain_text(tmp_path: Path) -> None:
    database = await Database.open(tmp_path / "bot.sqlite3")
    users = UserStore(database)
    try:
        await users.record_consent(9, datetime(2026, 1, 1, tzinfo=UTC))
        await users.set_region(9, "'); DROP TABLE users;--")
        user = await users.get(9)
        assert user is not None
        assert user.region == "'); DROP TABLE users;--"
        assert await users.count() == 1
    finally:
        await database.close()
