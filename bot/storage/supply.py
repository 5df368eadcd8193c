"""The supply on hand and the refill reminders sent (tables of migration 0017)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from bot.domain.supply import DEFAULT_LEAD_DAYS, Product
from bot.storage.db import Row, Store
from bot.storage.rows import record, to_unix


@dataclass(frozen=True)
class Supply:
    user_id: int
    product: Product
    on_hand: int  # units: half-tablets, or hundredths of a mL
    lead_days: int
    counted_at: datetime
    refill_ordered_at: datetime | None
    updated_at: datetime


def _supply(row: Row) -> Supply:
    return record(Supply, row, product=record(Product, row))


class SupplyStore(Store):
    async def get(self, user_id: int) -> Supply | None:
        row = await self._db.fetch_one("SELECT * FROM supplies WHERE user_id = ?", (user_id,))
        return _supply(row) if row else None

    async def save(
        self, user_id: int, product: Product, on_hand: int, now: datetime, lead_days: int | None
    ) -> None:
        """The product and a fresh count, in one statement (nothing half-written)."""
        await self._db.execute(
            "INSERT INTO supplies (user_id, form, strength_mg, scored, mg_per_ml, on_hand,"
            " lead_days, counted_at, refill_ordered_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)"
            " ON CONFLICT (user_id) DO UPDATE SET form = excluded.form,"
            " strength_mg = excluded.strength_mg, scored = excluded.scored,"
            " mg_per_ml = excluded.mg_per_ml, on_hand = excluded.on_hand,"
            " lead_days = excluded.lead_days, counted_at = excluded.counted_at,"
            " refill_ordered_at = NULL, updated_at = excluded.updated_at",
            (
                user_id,
                product.form,
                None if product.strength_mg is None else str(product.strength_mg),
                int(product.scored),
                None if product.mg_per_ml is None else str(product.mg_per_ml),
                on_hand,
                DEFAULT_LEAD_DAYS if lead_days is None else lead_days,
                to_unix(now),
                to_unix(now),
            ),
        )

    async def recount(self, user_id: int, on_hand: int, now: datetime) -> bool:
        """A new count from now on; False if the patient has no supply yet."""
        changed = await self._db.execute(
            "UPDATE supplies SET on_hand = ?, counted_at = ?, updated_at = ? WHERE user_id = ?",
            (on_hand, to_unix(now), to_unix(now), user_id),
        )
        return changed > 0

    async def refill(self, user_id: int, left_now: int, added: int, now: datetime) -> bool:
        """A refill: the count left now plus the units added; ends the "I ordered" snooze."""
        changed = await self._db.execute(
            "UPDATE supplies SET on_hand = ?, counted_at = ?, refill_ordered_at = NULL,"
            " updated_at = ? WHERE user_id = ?",
            (left_now + added, to_unix(now), to_unix(now), user_id),
        )
        return changed > 0

    async def set_lead(self, user_id: int, lead_days: int, now: datetime) -> bool:
        """How many days before running out to order; False if the patient has no supply."""
        changed = await self._db.execute(
            "UPDATE supplies SET lead_days = ?, updated_at = ? WHERE user_id = ?",
            (lead_days, to_unix(now), user_id),
        )
        return changed > 0

    async def mark_ordered(self, user_id: int, now: datetime) -> bool:
        changed = await self._db.execute(
            "UPDATE supplies SET refill_ordered_at = ?, updated_at = ? WHERE user_id = ?",
            (to_unix(now), to_unix(now), user_id),
        )
        return changed > 0

    async def users(self) -> list[int]:
        rows = await self._db.fetch_all("SELECT user_id FROM supplies ORDER BY user_id")
        return [row["user_id"] for row in rows]

    async def record_reminder(self, user_id: int, kind: str, run_out: date, now: datetime) -> bool:
        """Record a refill reminder as sent; False if it was sent already (send it once)."""
        changed = await self._db.execute(
            "INSERT OR IGNORE INTO supply_reminders (user_id, kind, run_out_date, sent_at)"
            " VALUES (?, ?, ?, ?)",
            (user_id, kind, run_out.isoformat(), to_unix(now)),
        )
        return changed > 0

    async def forget_reminder(self, user_id: int, kind: str, run_out: date) -> None:
        """A reminder recorded but not delivered: due again at the next pass."""
        await self._db.execute(
            "DELETE FROM supply_reminders WHERE user_id = ? AND kind = ? AND run_out_date = ?",
            (user_id, kind, run_out.isoformat()),
        )
