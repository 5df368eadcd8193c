"""Data written straight to a database file before ``python -m bot`` starts (tests, benchmarks)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.domain.audience import Segment
from bot.domain.checkins import Severity, SideEffect
from bot.domain.plans import Plan, Step
from bot.domain.schedule import DoseSlot, slots_between
from bot.storage.broadcasts import BroadcastStore
from bot.storage.checkins import CheckInStore
from bot.storage.db import Database
from bot.storage.doses import DoseStore, Status
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


def _first_day_slot(due_utc: datetime, local_date: date, local_time: time) -> DoseSlot:
    """A 10 mg dose on the first day of a one-step plan."""
    return DoseSlot(
        due_utc=due_utc,
        local_date=local_date,
        local_time=local_time,
        mg=Decimal(10),
        step_number=1,
        step_count=1,
        day_number=1,
        step_day=1,
        is_step_start=True,
        is_maintenance=False,
        is_last_step_dose=False,
    )


async def _patient(
    database: Database,
    user_id: int,
    zone: str,
    plan: Plan,
    slots: Sequence[DoseSlot],
    *,
    made: datetime,
    now: datetime,
) -> int:
    """A patient who consented at ``now``, in ``zone``, with ``plan`` saved at ``made`` and
    ``slots``, its doses written out to 48 hours past ``now`` (as the dispatcher keeps them),
    below the high-dose line. Returns the plan's id."""
    users = UserStore(database)
    await users.record_consent(user_id, now)
    await users.set_timezone(user_id, zone)
    return await DoseStore(database).replace_plan(
        user_id,
        plan,
        slots,
        now=made,
        materialized_until=now + timedelta(hours=48),
        high_dose_confirmed=False,
    )


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
        for user_id in users:
            plan = Plan("custom", now.date(), (Step.same_at([time(0, 0)], Decimal(10), 30),), False)
            slots = [
                # A distinct label per dose (part of the key).
                _first_day_slot(now - age, now.date(), time(index, 0))
                for index, age in enumerate(ages)
            ]
            await _patient(database, user_id, "UTC", plan, slots, made=now, now=now)
    finally:
        await database.close()
    return now


async def seed_repeats_due(
    path: Path,
    users: Iterable[int],
    now: datetime | None = None,
    *,
    every_minutes: int = 10,
    sent_ago: timedelta = timedelta(minutes=10),
) -> datetime:
    """Each user repeats reminders every ``every_minutes`` and has a 10 mg dose (once a day, at
    the time it fell due) reminded ``sent_ago`` before ``now`` and not answered: its next
    repeat is due at ``now``. Its reminder's message id (999999) is not in the stand-in's chat,
    so the repeat cannot delete it and falls back to removing its buttons. Returns ``now``."""
    now = now or datetime.now(UTC).replace(microsecond=0)
    due = (now - sent_ago).replace(second=0)
    slot = _first_day_slot(due, due.date(), due.time())
    # Once a day at the dose's own time: the next dose is a day away, far from the skip window.
    plan = Plan("custom", due.date(), (Step.same_at([due.time()], Decimal(10), 30),), False)
    users = list(users)
    database = await Database.open(path)
    try:
        made = due - timedelta(minutes=1)
        for user_id in users:
            await _patient(database, user_id, "UTC", plan, [slot], made=made, now=now)
            await UserStore(database).set_repeat_minutes(user_id, every_minutes)
        await database.execute(
            "UPDATE dose_events SET status = 'sent', message_id = 999999, attempts = 1,"  # noqa: S608
            " sent_at = ?, next_action_at = ? WHERE status = 'scheduled'"
            f" AND user_id IN ({','.join('?' * len(users))})",
            (int((now - sent_ago).timestamp()), int(now.timestamp()), *users),
        )
    finally:
        await database.close()
    return now


# A slow titration that fills three months: 5 mg to 25 mg three times a day, 10 days a step.
THREE_MONTH_STEPS = tuple(
    Step.same_at([time(8), time(14), time(20)], Decimal(mg), 10)
    for mg in ("5", "7.5", "10", "12.5", "15", "17.5", "20", "22.5", "25")
)


async def seed_report_history(
    path: Path, users: Iterable[int], now: datetime, zone: str = "Europe/Berlin"
) -> None:
    """Each user has followed the three-month plan up to ``now``: every past dose answered
    (about one in ten skipped, so nothing is left for the dispatcher to send) and a check-in
    at the end of each step."""
    local = ZoneInfo(zone)
    start = now.astimezone(local).date() - timedelta(days=89)
    plan = Plan("custom", start, THREE_MONTH_STEPS, False)
    begin = datetime.combine(start, time(), tzinfo=local)
    database = await Database.open(path)
    try:
        doses, checkins = DoseStore(database), CheckInStore(database)
        for user_id in users:
            slots = slots_between(plan, local, begin, now + timedelta(hours=48))
            plan_id = await _patient(database, user_id, zone, plan, slots, made=begin, now=now)
            events = await doses.events_between(user_id, begin, now)
            for index, event in enumerate(events):
                status = Status.SKIPPED if index % 10 == 3 else Status.TAKEN
                await doses.answer(event.event_id, user_id, status, now)
            for number in range(1, len(THREE_MONTH_STEPS)):
                asked = datetime.combine(plan.step_start(number + 1), time(), tzinfo=local)
                if asked > now:
                    break
                checkin = await checkins.start(
                    user_id, plan_id, number, before_increase=True, now=asked
                )
                await checkins.answer_stiffness(checkin.checkin_id, user_id, max(0, 8 - number))
                for effect in SideEffect:
                    await checkins.answer_side_effect(
                        checkin.checkin_id, user_id, effect, Severity(number % 3)
                    )
                await checkins.finish(checkin.checkin_id, user_id, None, asked)
    finally:
        await database.close()
