"""Feeds the missed-dose rule (``bot.domain.missed``) from the database and the plan.

Used by ``/missed``, the Missed buttons and the dispatcher's late reminders, so the three can
never disagree about what a patient should do.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.domain.missed import (
    SEVERAL_MISSED,
    MissedAdvice,
    PastDose,
    Record,
    missed_dose_advice,
    missed_in_a_row,
)
from bot.domain.schedule import next_slot_after
from bot.storage.doses import DoseEvent, DoseStore, Status

# Enough past doses to see a run of missed ones and every intake of the last hours.
HISTORY_DOSES = 12

_RECORDS = {
    Status.TAKEN: Record.TAKEN,
    Status.SKIPPED: Record.SKIPPED,
    Status.PAUSED: Record.NOT_REMINDED,
}


def past_dose(event: DoseEvent) -> PastDose:
    """What the rule needs of a dose row: when it was due and what was recorded."""
    record = _RECORDS.get(event.status, Record.NONE)
    recorded_at = event.answered_at if record in (Record.TAKEN, Record.SKIPPED) else None
    return PastDose(event.event_id, event.due_at, record, recorded_at)


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
        return missed_dose_advice(
            now, [past_dose(event) for event in history], following.due_utc if following else None
        )

    async def in_a_row(self, user_id: int, now: datetime) -> int:
        """How many of the latest doses in a row have no Taken (capped a little above the
        warning threshold: only reaching it matters)."""
        history = await self._doses.recent_doses(user_id, now, SEVERAL_MISSED + 2)
        return missed_in_a_row(past_dose(event) for event in history)
