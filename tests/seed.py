"""Data written straight to a database file before ``python -m bot`` starts (tests, benchmarks)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

from bot.domain.audience import Segment
from bot.domain.plans import Plan, Step
from bot.domain.schedule import DoseSlot
from bot.storage.broadcasts import BroadcastStore
from bot.storage.db import Database
from bot.storage.doses import DoseStore
from bot.storage.users import UserStore


async def seed_broadcast(path: Path, recipients: Sequence[int], admin_id: int, body: str) -> int:
    """Consented recipients and a broadcast to them, as if an admin had just pressed Confirm."""
    now = datetime.now(UTC)
    database = await Database.open(path)
    try:
        users = UserStore(database)
        for user_id in recipients:
            await users.record_consent(user_id, now)
        store = BroadcastStore(database)
        draft = await store.create_draft(admin_id, Segment.ALL, {"en": body}, "en", now)
        started = await store.confirm(draft.broadcast_id, recipients, now)
        assert started is not None
        return started.broadcast_id
    finally:
        await database.close()


async def seed_due_doses(
    path: Path, users: Iterable[int], ages: Sequence[timedelta], now: datetime | None = None
) -> datetime:
    """Each user gets a 10 mg plan with doses that fell due ``ages`` before ``now`` (a negative
    age: due in the future); returns ``now``. Real time by default: a bot process runs on the
    system clock.
    """
    now = now or datetime.now(UTC).replace(microsecond=0)
    database = await Database.open(path)
    try:
        user_store, doses = UserStore(database), DoseStore(database)
        for user_id in users:
            await user_store.record_consent(user_id, now)
            await user_store.set_timezone(user_id, "UTC")
            plan = Plan("custom", now.date(), (Step.same_at([time(0, 0)], Decimal(10), 30),), False)
            slots = [
                DoseSlot(
                    due_utc=now - age,
                    local_date=now.date(),
                    local_time=time(index, 0),  # a distinct label per dose (part of the key)
                    mg=Decimal(10),
                    step_number=1,
                    step_count=1,
                    day_number=1,
                    step_day=1,
                    is_step_start=True,
                    is_maintenance=False,
                    is_last_step_dose=False,
                )
                for index, age in enumerate(ages)
            ]
            await doses.replace_plan(
                user_id,
                plan,
                slots,
                now=now,
                materialized_until=now + timedelta(hours=48),
                high_dose_confirmed=False,
            )
    finally:
        await database.close()
    return now
