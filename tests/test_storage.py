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


async def test_a_dose_answered_while_in_flight_is_not_sent_again(tmp_path: Path) -> None:
    """Taken pressed while the follow-up was in flight, then the follow-up failed."""
    from datetime import time, timedelta
    from decimal import Decimal

    from bot.domain.plans import Plan, Step
    from bot.domain.schedule import slots_between
    from bot.storage.doses import DoseStore, Status

    database = await Database.open(tmp_path / "bot.sqlite3")
    users, doses = UserStore(database), DoseStore(database)
    now = datetime(2026, 1, 11, 9, tzinfo=UTC)
    try:
        await users.record_consent(1, now)
        plan = Plan("custom", now.date(), (time(10),), (Step(Decimal(10), 3),), False)
        from zoneinfo import ZoneInfo

        slots = slots_between(plan, ZoneInfo("UTC"), now, now + timedelta(days=1))
        await doses.replace_plan(
            1, plan, slots, now=now, materialized_until=now + timedelta(days=1),
            high_dose_confirmed=False,
        )  # fmt: skip
        due = now + timedelta(hours=1)
        [reminder] = await doses.claim_due(due, 10)
        await doses.record_reminder_sent(
            reminder.event.event_id, 77, due, due + timedelta(minutes=30)
        )
        [follow_up] = await doses.claim_due(due + timedelta(minutes=30), 10)
        assert follow_up.event.status is Status.SENT
        taken = await doses.answer(reminder.event.event_id, 1, Status.TAKEN, due)
        assert taken is not None
        await doses.release_claim(
            reminder.event.event_id, due + timedelta(minutes=31), outcome_unknown=True
        )
        assert await doses.claim_due(due + timedelta(hours=2), 10) == []
        event = await doses.get_event(reminder.event.event_id, 1)
        assert event is not None
        assert event.status is Status.TAKEN
    finally:
        await database.close()
