"""Feeds the missed-dose rule (``bot.domain.missed``) and the dose-safety check
(``bot.domain.safety``) from the database and the plan.

Used by ``/missed``, the Missed buttons, the dispatcher's reminders and follow-ups, and the
replies that name the next dose, so none of them can disagree about what a patient should do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.missed import (
    SEVERAL_MISSED_LOOKBACK,
    MissedAdvice,
    PastDose,
    Record,
    missed_dose_advice,
    missed_in_a_row,
)
from bot.domain.safety import Check, check_ahead
from bot.domain.schedule import next_slot_after, planned_mg, slots_between
from bot.storage.doses import DoseEvent, DoseStore, Status, StoredPlan

# Enough past doses to see a run of missed ones and every intake of the last hours.
HISTORY_DOSES = 12
# Far enough back to find the plan's dose time before any dose (a day has at least one).
_DAY_AND_A_BIT = timedelta(days=1, hours=1)

_RECORDS = {
    Status.TAKEN: Record.TAKEN,
    Status.SKIPPED: Record.SKIPPED,
    Status.PAUSED: Record.NOT_REMINDED,
    Status.MISSED: Record.MISSED,
}


def past_dose(event: DoseEvent, stored: StoredPlan | None = None) -> PastDose:
    """What the rule needs of a dose row: when it was due, what was recorded, and (given the
    active plan) whether it is still a dose of that plan at that amount."""
    record = _RECORDS.get(event.status, Record.NONE)
    recorded_at = event.answered_at if record in (Record.TAKEN, Record.SKIPPED) else None
    current = stored is None or is_current(event, stored)
    return PastDose(event.event_id, event.due_at, record, recorded_at, current)


def is_current(event: DoseEvent, stored: StoredPlan) -> bool:
    """A row of the active plan whose amount is still what the plan sets for its time."""
    return (
        event.plan_id == stored.plan_id
        and planned_mg(stored.plan, event.local_date, event.local_time) == event.mg
    )


@dataclass(frozen=True)
class NextDose:
    """The next dose the dispatcher will remind, and what the check will say then."""

    event: DoseEvent
    check: Check
    after: DoseEvent | None = None  # when the check says "skip": the dose after it


class MissedDoses:
    def __init__(self, doses: DoseStore) -> None:
        self._doses = doses

    async def advice(self, user_id: int, zone: ZoneInfo, now: datetime) -> MissedAdvice | None:
        """The advice from the user's own schedule; None when they have no plan."""
        stored = await self._doses.active_plan(user_id)
        if stored is None:
            return None
        history = await self._doses.recent_doses(user_id, now, HISTORY_DOSES)
        following = next_slot_after(stored.plan, zone, now)
        planned = slots_between(stored.plan, zone, now - _DAY_AND_A_BIT, now)
        return missed_dose_advice(
            now,
            [past_dose(event, stored) for event in history],
            following.due_utc if following else None,
            [slot.due_utc for slot in planned],
        )

    async def next_dose(self, user_id: int, zone: ZoneInfo, now: datetime) -> NextDose | None:
        """The next dose that will actually be reminded (a row, not a computed slot: a zone
        change may leave a dose time with a row already answered), checked as the dispatcher
        will check it when it falls due, from the intakes recorded now."""
        stored = await self._doses.active_plan(user_id)
        if stored is None:
            return None
        coming = await self._doses.coming_doses(user_id, now, 2)
        if not coming:
            return None
        history = await self._doses.recent_doses(user_id, now, HISTORY_DOSES)
        intakes = [
            event.answered_at
            for event in history
            if event.status is Status.TAKEN and event.answered_at is not None
        ]
        first = coming[0]
        verdict = self._ahead(stored, zone, first, intakes)
        if verdict.offers:
            return NextDose(first, verdict)
        return NextDose(first, verdict, coming[1] if len(coming) > 1 else None)

    @staticmethod
    def _ahead(
        stored: StoredPlan, zone: ZoneInfo, event: DoseEvent, intakes: list[datetime]
    ) -> Check:
        before = slots_between(stored.plan, zone, event.due_at - _DAY_AND_A_BIT, event.due_at)
        following = next_slot_after(stored.plan, zone, event.due_at)
        return check_ahead(
            event.due_at,
            intakes,
            previous_due=before[-1].due_utc if before else None,
            next_due=following.due_utc if following else None,
        )

    async def in_a_row(self, user_id: int, now: datetime) -> int:
        """How many of the latest doses in a row have no Taken (capped a little above the
        warning threshold: only reaching it matters)."""
        history = await self._doses.recent_doses(user_id, now, SEVERAL_MISSED_LOOKBACK)
        return missed_in_a_row(past_dose(event) for event in history)
