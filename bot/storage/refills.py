"""Pump mode and the refill schedule (issue 21): the users' pump columns and
``refill_reminders`` (the database is the schedule; the dispatcher sends what is due)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from bot.delivery.queue import Outcome, Settled
from bot.domain.refills import Planned
from bot.storage.db import Row, Store
from bot.storage.rows import from_unix, record, to_unix


class RefillStatus(StrEnum):
    """A ``refill_reminders`` row's status (its life: docs/architecture.md, the engine)."""

    PENDING = "pending"  # waiting for its due instant
    SENDING = "sending"  # claimed by the courier
    SENT = "sent"
    CANCELLED = "cancelled"  # pump mode off, a new date, the refill done, or unreachable
    FAILED = "failed"  # refused (403, 400) or given up


# The courier's outcome -> the status a settled row ends in (RETRY, RELEASED: pending again).
_ENDS_AS = {
    Outcome.SENT: RefillStatus.SENT,
    Outcome.UNREACHABLE: RefillStatus.FAILED,
    Outcome.REJECTED: RefillStatus.FAILED,
    Outcome.UNKNOWN: RefillStatus.FAILED,
    Outcome.GAVE_UP: RefillStatus.FAILED,
}


@dataclass(frozen=True)
class Pump:
    on: bool
    refill_on: date | None
    alarm_on: date | None
    clinic_phone: str | None


@dataclass(frozen=True)
class DueRefill:
    reminder_id: int
    user_id: int
    kind: str
    refill_on: date | None
    attempts: int
    timezone: str | None
    region: str | None
    unreachable: bool


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _pump(row: Row | None) -> Pump:
    if row is None:
        return Pump(False, None, None, None)
    return Pump(
        on=bool(row["pump_mode"]),
        refill_on=_date(row["pump_refill_on"]),
        alarm_on=_date(row["pump_alarm_on"]),
        clinic_phone=row["pump_clinic_phone"],
    )


_CANCEL_OPEN = (
    f"UPDATE refill_reminders SET status = '{RefillStatus.CANCELLED}'"  # noqa: S608
    f" WHERE user_id = ? AND status IN ('{RefillStatus.PENDING}', '{RefillStatus.SENDING}')"
    " AND kind != 'cg_alarm'"
)


class RefillStore(Store):
    async def pump(self, user_id: int) -> Pump:
        row = await self._db.fetch_one(
            "SELECT pump_mode, pump_refill_on, pump_alarm_on, pump_clinic_phone"
            " FROM users WHERE user_id = ?",
            (user_id,),
        )
        return _pump(row)

    async def set_mode(self, user_id: int, on: bool) -> bool:
        """Pump mode on or off; off cancels the patient's waiting refill reminders."""
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE users SET pump_mode = ? WHERE user_id = ?", (int(on), user_id)
            )
            if not on:
                await tx.execute(_CANCEL_OPEN, (user_id,))
        return changed > 0

    async def set_refill(self, user_id: int, refill_on: date, planned: Sequence[Planned]) -> None:
        """The next refill date and its reminders, together: the old ones are cancelled in the
        same transaction (never half a schedule)."""
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE users SET pump_mode = 1, pump_refill_on = ? WHERE user_id = ?",
                (refill_on.isoformat(), user_id),
            )
            await tx.execute(_CANCEL_OPEN, (user_id,))
            await tx.executemany(
                "INSERT INTO refill_reminders (user_id, kind, refill_on, due_at, status)"
                " VALUES (?, ?, ?, ?, ?)",
                [
                    (
                        user_id,
                        item.kind,
                        refill_on.isoformat(),
                        to_unix(item.due_at),
                        RefillStatus.PENDING.value,
                    )
                    for item in planned
                ],
            )

    async def refill_done(self, user_id: int, refill_on: date) -> bool:
        """The refill of ``refill_on`` is done: its waiting reminders (and the caregivers'
        check) are cancelled and the date cleared until the next one is typed. False when it
        is not the stored date (an old button)."""
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE users SET pump_refill_on = NULL, pump_alarm_on = NULL"
                " WHERE user_id = ? AND pump_refill_on = ?",
                (user_id, refill_on.isoformat()),
            )
            if changed:
                await tx.execute(_CANCEL_OPEN, (user_id,))
        return changed > 0

    async def set_alarm_date(self, user_id: int, alarm_on: date | None) -> None:
        await self._db.execute(
            "UPDATE users SET pump_alarm_on = ? WHERE user_id = ?",
            (alarm_on.isoformat() if alarm_on else None, user_id),
        )

    async def set_clinic_phone(self, user_id: int, phone: str | None) -> None:
        await self._db.execute(
            "UPDATE users SET pump_clinic_phone = ? WHERE user_id = ?", (phone, user_id)
        )

    async def add_alarm_alert(self, user_id: int, now: datetime) -> None:
        """The patient wrote about a pump alarm: the caregivers are told, now."""
        await self._db.execute(
            "INSERT INTO refill_reminders (user_id, kind, due_at, status)"
            " VALUES (?, 'cg_alarm', ?, ?)",
            (user_id, to_unix(now), RefillStatus.PENDING.value),
        )

    # ------------------------------------------------ the queue (bot.delivery.queue.Queue)

    async def next_due_at(self) -> datetime | None:
        row = await self._db.fetch_one(
            "SELECT MIN(due_at) FROM refill_reminders WHERE status = ?",
            (RefillStatus.PENDING.value,),
        )
        if row is None or row[0] is None:
            return None
        return from_unix(row[0])

    async def claim(self, now: datetime, limit: int) -> list[DueRefill]:
        async with self._db.transaction() as tx:
            rows = await tx.fetch_all(
                "SELECT r.reminder_id, r.user_id, r.kind, r.refill_on, r.attempts,"
                " u.timezone, u.region, u.unreachable_at"
                " FROM refill_reminders r JOIN users u ON u.user_id = r.user_id"
                " WHERE r.status = ? AND r.due_at <= ? ORDER BY r.due_at LIMIT ?",
                (RefillStatus.PENDING.value, to_unix(now), limit),
            )
            await tx.executemany(
                "UPDATE refill_reminders SET status = ? WHERE reminder_id = ?",
                [(RefillStatus.SENDING.value, row["reminder_id"]) for row in rows],
            )
        return [
            record(DueRefill, row, unreachable=row["unreachable_at"] is not None) for row in rows
        ]

    async def mark_in_flight(self, items: Sequence[DueRefill], now: datetime) -> None:
        """Nothing to record: a claimed refill reminder is sent again after a crash whether or
        not its request left (:meth:`recover`)."""

    async def settle(self, item: DueRefill, settled: Settled) -> bool:
        if settled.outcome in (Outcome.RETRY, Outcome.RELEASED):
            # Pending again; the attempt counts either way (as it always did here).
            await self._db.execute(
                "UPDATE refill_reminders SET status = ?, due_at = ?, attempts = attempts + 1"
                " WHERE reminder_id = ?",
                (
                    RefillStatus.PENDING.value,
                    to_unix(settled.retry_at or settled.at),
                    item.reminder_id,
                ),
            )
            return True
        status = (
            RefillStatus(settled.reason)
            if settled.outcome is Outcome.DROPPED and settled.reason
            else _ENDS_AS.get(settled.outcome, RefillStatus.FAILED)
        )
        await self._db.execute(
            "UPDATE refill_reminders SET status = ?, sent_at = ? WHERE reminder_id = ?",
            (
                status.value,
                to_unix(settled.at) if status is RefillStatus.SENT else None,
                item.reminder_id,
            ),
        )
        return True

    async def recover(self, now: datetime) -> int:
        """At start: a row left 'sending' by a crash is sent again (a refill reminder twice
        is better than none)."""
        return await self._db.execute(
            "UPDATE refill_reminders SET status = ? WHERE status = ?",
            (RefillStatus.PENDING.value, RefillStatus.SENDING.value),
        )

    async def reminders_of(self, user_id: int) -> list[tuple[str, datetime, str]]:
        """(kind, due, status) of a user's rows, in due order (tests and /mydata)."""
        rows = await self._db.fetch_all(
            "SELECT kind, due_at, status FROM refill_reminders WHERE user_id = ?"
            " ORDER BY due_at, reminder_id",
            (user_id,),
        )
        return [(row["kind"], from_unix(row["due_at"]), row["status"]) for row in rows]
