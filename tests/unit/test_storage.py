"""The storage layer on a real SQLite file: migrations, pragmas, transactions."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.storage.db import Database, _migrations, _statements
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
        plan = Plan("custom", now.date(), (Step.same_at([time(10)], Decimal(10), 3),), False)
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


async def test_paused_doses_migration_keeps_every_row(tmp_path: Path) -> None:
    """0006 rebuilds dose_events: a database made by the schema before it keeps every row,
    and a paused user's doses that the old code cancelled are planned (paused) again."""
    path = tmp_path / "old.sqlite3"
    connection = _database_before(path, 6)
    connection.executescript(
        """
        INSERT INTO users (user_id, consented_at, created_at, reminders_paused)
            VALUES (1, 1, 1, 1), (2, 1, 1, 0);
        INSERT INTO plans (plan_id, user_id, kind, start_date, times, steps,
            ends_after_last_step, materialized_until, created_at)
            VALUES (10, 1, 'custom', '2026-01-11', '08:00', '10x5', 0, 9, 1),
                   (20, 2, 'custom', '2026-01-11', '08:00', '10x5', 0, 9, 1);
        INSERT INTO dose_events (event_id, user_id, plan_id, due_at, local_date, local_time, mg,
            step_number, step_count, day_number, is_step_start, is_maintenance,
            is_last_step_dose, status, answered_at)
            VALUES (1, 1, 10, 100, '2026-01-11', '08:00', '10', 1, 1, 1, 1, 0, 0, 'taken', 101),
                  (2, 1, 10, 200, '2026-01-12', '08:00', '10', 1, 1, 2, 0, 0, 0, 'cancelled',NULL),
                  (3, 2, 20, 200, '2026-01-12', '08:00', '10', 1, 1, 2, 0, 0, 0, 'cancelled',NULL);
        """
    )
    connection.commit()
    connection.close()
    database = await Database.open(path)
    try:
        rows = await database.fetch_all(
            "SELECT event_id, status, answered_at FROM dose_events ORDER BY event_id"
        )
        assert [tuple(row) for row in rows] == [
            (1, "taken", 101),
            (2, "paused", None),  # the paused user's planned dose
            (3, "cancelled", None),  # an unpaused user's cancelled dose stays cancelled
        ]
        indexes = await database.fetch_all(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'dose_events'"
            " AND name NOT LIKE 'sqlite_autoindex%'"
        )
        assert {row[0] for row in indexes} == {
            "dose_events_next_action",
            "dose_events_user_due",
            "dose_events_sent",
            "dose_events_claimed",
        }
    finally:
        await database.close()


async def test_plans_of_the_old_shape_migrate_to_doses_per_time(tmp_path: Path) -> None:
    """0008: a plan stored as dose times plus "<mg>x<days>" steps reads back as the same
    plan in the new shape, so it reminds exactly as before."""
    from datetime import date, time, timedelta
    from decimal import Decimal
    from zoneinfo import ZoneInfo

    from bot.domain.plans import Plan, Step
    from bot.domain.schedule import slots_between
    from bot.storage.doses import DoseStore

    path = tmp_path / "old.sqlite3"
    connection = _database_before(path, 8)
    connection.executescript(
        """
        INSERT INTO users (user_id, consented_at, created_at) VALUES (1, 1, 1), (2, 1, 1);
        INSERT INTO plans (user_id, kind, start_date, times, steps, ends_after_last_step,
            materialized_until, created_at)
            VALUES (1, 'standard', '2026-03-02', '08:00,14:00,20:00', '5x3,10x3,15x3,20x3',
                    0, 9, 1),
                   (2, 'taper', '2026-03-02', '22:00', '7.5x2,2.5x12', 1, 9, 1);
        """
    )
    connection.commit()
    connection.close()
    database = await Database.open(path)
    try:
        doses = DoseStore(database)
        standard = await doses.active_plan(1)
        taper = await doses.active_plan(2)
    finally:
        await database.close()
    assert standard is not None and taper is not None
    times = (time(8), time(14), time(20))
    start = date(2026, 3, 2)
    assert standard.plan == Plan(
        "standard",
        start,
        tuple(Step.same_at(times, Decimal(mg), 3) for mg in (5, 10, 15, 20)),
        False,
    )
    assert taper.plan == Plan(
        "taper",
        start,
        (Step.same_at([time(22)], Decimal("7.5"), 2), Step.same_at([time(22)], Decimal("2.5"), 12)),
        True,
    )
    # What they remind: every dose of the standard plan across the spring change in Berlin.
    zone = ZoneInfo("Europe/Berlin")
    begin = datetime(2026, 3, 1, tzinfo=UTC)
    slots = slots_between(standard.plan, zone, begin, begin + timedelta(days=14))
    assert [slot.mg for slot in slots[:12]] == [Decimal(5)] * 9 + [Decimal(10)] * 3
    assert len(slots) == 3 * 14 - 3  # 2 March to 14 March, three a day


def _database_before(path: Path, version: int) -> sqlite3.Connection:
    """A database made by the migrations before ``version``, as an older release left it."""
    connection = sqlite3.connect(path)
    connection.execute(
        "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
        " applied_at INTEGER NOT NULL)"
    )
    for number, name, sql in _migrations():
        if number >= version:
            break
        for statement in _statements(sql):
            connection.execute(statement)
        connection.execute("INSERT INTO schema_version VALUES (?, ?, 0)", (number, name))
    return connection


async def test_the_claim_reads_each_rows_history_as_the_per_row_reads_would(
    tmp_path: Path,
) -> None:
    """``claim_due(recent=N)`` gives each claimed row its patient's latest doses and its count of
    reminders given up unsent: the same as ``recent_doses`` and ``undelivered_count`` at the
    claim (the burst path reads them once per batch, not twice per reminder)."""
    from datetime import time, timedelta
    from decimal import Decimal
    from zoneinfo import ZoneInfo

    from bot.domain.plans import Plan, Step
    from bot.domain.schedule import slots_between
    from bot.storage.doses import DoseStore, Status

    database = await Database.open(tmp_path / "bot.sqlite3")
    users, doses = UserStore(database), DoseStore(database)
    start = datetime(2026, 1, 11, 6, tzinfo=UTC)
    try:
        for user_id, hours in ((1, (8, 12, 16, 20)), (2, (9, 21)), (3, (10,))):
            await users.record_consent(user_id, start)
            plan = Plan(
                "custom",
                start.date(),
                (Step.same_at([time(h) for h in hours], Decimal(5), 9),),
                False,
            )
            slots = slots_between(plan, ZoneInfo("UTC"), start, start + timedelta(days=3))
            await doses.replace_plan(
                user_id, plan, slots, now=start, materialized_until=start + timedelta(days=3),
                high_dose_confirmed=False,
            )  # fmt: skip
        # Two days of doses pass: some answered, user 1's noon ones given up unsent.
        passed = start + timedelta(days=2, hours=1)
        for due in await doses.claim_due(passed, 100):
            event = due.event
            if event.user_id == 1 and event.due_at.hour == 12:
                await doses.record_given_up(event.event_id, passed)
                continue
            await doses.record_reminder_sent(event.event_id, event.event_id, passed, None)
            if event.event_id % 3 == 0:
                await doses.answer(event.event_id, event.user_id, Status.TAKEN, passed)
        later = start + timedelta(days=2, hours=23)
        claimed = await doses.claim_due(later, 100, recent=5)
        assert {due.event.user_id for due in claimed} == {1, 2, 3}
        assert len(claimed) > 3  # users 1 and 2 have several rows in the batch
        for due in claimed:
            # What each reminder read for itself before, right after the claim.
            user_id = due.event.user_id
            by_this = await doses.recent_doses(user_id, due.event.due_at, 5)
            assert due.recent == tuple(by_this)
            assert due.undelivered == await doses.undelivered_count(user_id)
        assert {due.event.user_id: due.undelivered for due in claimed} == {1: 2, 2: 0, 3: 0}
        assert await doses.claim_due(later, 100, recent=5) == []
    finally:
        await database.close()
