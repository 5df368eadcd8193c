"""Check-ins and holds (tables of migration 0009). A check-in row is created when it is asked
and filled in as the patient answers; ``completed_at`` is set when it is done."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.calendar import HeldStep
from bot.domain.checkins import Severity, SideEffect
from bot.storage.db import Row, Store
from bot.storage.rows import record, to_unix


@dataclass(frozen=True)
class CheckIn:
    checkin_id: int
    user_id: int
    plan_id: int
    step_number: int
    before_increase: bool
    created_at: datetime
    stiffness: int | None
    side_effects: dict[SideEffect, Severity]
    note: str | None
    completed_at: datetime | None

    def unanswered(self) -> SideEffect | None:
        return next((effect for effect in SideEffect if effect not in self.side_effects), None)


# A ``holds`` row is the domain's step made longer, as it is (the calendar reads them).
Hold = HeldStep


def _checkin(row: Row) -> CheckIn:
    effects = {
        effect: Severity(row[effect.value])
        for effect in SideEffect
        if row[effect.value] is not None
    }
    return record(CheckIn, row, side_effects=effects)


class CheckInStore(Store):
    async def start(
        self, user_id: int, plan_id: int, step_number: int, *, before_increase: bool, now: datetime
    ) -> CheckIn:
        async with self._db.transaction() as tx:
            checkin_id = await tx.insert(
                "INSERT INTO checkins (user_id, plan_id, step_number, before_increase, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (user_id, plan_id, step_number, int(before_increase), to_unix(now)),
            )
            row = await tx.fetch_one("SELECT * FROM checkins WHERE checkin_id = ?", (checkin_id,))
        assert row is not None
        return _checkin(row)

    async def get(self, checkin_id: int, user_id: int) -> CheckIn | None:
        row = await self._db.fetch_one(
            "SELECT * FROM checkins WHERE checkin_id = ? AND user_id = ?", (checkin_id, user_id)
        )
        return _checkin(row) if row else None

    async def answer_stiffness(self, checkin_id: int, user_id: int, value: int) -> CheckIn | None:
        return await self._set(checkin_id, user_id, "stiffness", value)

    async def answer_side_effect(
        self, checkin_id: int, user_id: int, effect: SideEffect, severity: Severity
    ) -> CheckIn | None:
        return await self._set(checkin_id, user_id, effect.value, int(severity))

    async def finish(
        self, checkin_id: int, user_id: int, note: str | None, now: datetime
    ) -> CheckIn | None:
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE checkins SET note = ?, completed_at = ?"
                " WHERE checkin_id = ? AND user_id = ? AND completed_at IS NULL",
                (note, to_unix(now), checkin_id, user_id),
            )
            row = await tx.fetch_one("SELECT * FROM checkins WHERE checkin_id = ?", (checkin_id,))
        return _checkin(row) if row and changed else None

    async def for_plan(self, user_id: int, plan_id: int) -> list[CheckIn]:
        rows = await self._db.fetch_all(
            "SELECT * FROM checkins WHERE user_id = ? AND plan_id = ? AND completed_at IS NOT NULL"
            " ORDER BY created_at, checkin_id",
            (user_id, plan_id),
        )
        return [_checkin(row) for row in rows]

    async def has_hold(self, checkin_id: int) -> bool:
        row = await self._db.fetch_one("SELECT 1 FROM holds WHERE checkin_id = ?", (checkin_id,))
        return row is not None

    async def holds_for_plan(self, user_id: int, plan_id: int) -> list[Hold]:
        rows = await self._db.fetch_all(
            "SELECT step_number, extra_days, chosen_at FROM holds"
            " WHERE user_id = ? AND plan_id = ? ORDER BY chosen_at, hold_id",
            (user_id, plan_id),
        )
        return [record(Hold, row) for row in rows]

    async def _set(self, checkin_id: int, user_id: int, column: str, value: int) -> CheckIn | None:
        # ``column`` is one of a fixed set (stiffness or a SideEffect value), never user text.
        assert column in {"stiffness", *(effect.value for effect in SideEffect)}
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                f"UPDATE checkins SET {column} = ?"  # noqa: S608
                " WHERE checkin_id = ? AND user_id = ? AND completed_at IS NULL",
                (value, checkin_id, user_id),
            )
            row = await tx.fetch_one("SELECT * FROM checkins WHERE checkin_id = ?", (checkin_id,))
        return _checkin(row) if row and changed else None
