"""Plans and answers: saving a plan, keeping its dose rows planned ahead, regenerating them
(time zone, hold, resume), pausing, and recording Taken / Skip / Snooze.

The dispatcher (``bot.services.reminders``) sends what these rows make due; it subscribes to
be woken when a change here makes something due sooner.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.domain.plans import Plan
from bot.domain.safety import ON_TIME
from bot.domain.schedule import DoseSlot, local_to_utc, slots_between, step_on
from bot.domain.undo import undo_since
from bot.services.zones import Zones
from bot.storage.doses import DoseEvent, DoseStore, Status, StoredPlan, Undo, UndoOutcome
from bot.storage.users import UserStore

log = logging.getLogger(__name__)

HORIZON = timedelta(hours=48)  # dose rows exist this far ahead
EXTEND_BELOW = timedelta(hours=36)  # top up plans whose rows end sooner than this
EXTEND_BATCH = 500
SNOOZE_FOR = timedelta(minutes=15)
LATE_AFTER = ON_TIME  # past this, the missed-dose rule decides what to send
PASSED_HISTORY = timedelta(days=1)  # how far back a long downtime is filled in

Wake = Callable[[datetime | None], None]  # None: look now


class Saved(StrEnum):
    """What saving a plan did."""

    NOW = "now"  # the plan is in force from now
    WAITS = "waits"  # it starts on a later day; the current plan goes on until then


def doses_before(plan: Plan, today: date) -> bool:
    """Has ``plan`` a dose today (it would go silent if a later plan replaced it now)?"""
    return step_on(plan, today) is not None


class PlanService:
    def __init__(self, doses: DoseStore, users: UserStore, zones: Zones, clock: Clock) -> None:
        self._doses = doses
        self._users = users
        self._zones = zones
        self._clock = clock
        self._subscribers: list[Wake] = []

    def subscribe(self, wake: Wake) -> None:
        """``wake(instant)`` is called when a change makes a dose due at ``instant`` (or now)."""
        self._subscribers.append(wake)

    def _changed(self, instant: datetime | None = None) -> None:
        for wake in self._subscribers:
            wake(instant)

    async def save(self, user_id: int, plan: Plan, *, high_dose_confirmed: bool) -> Saved:
        """Make ``plan`` the user's plan: from now on, or, if it starts on a later day while
        the current plan still has doses before then, from that day (the current reminders go
        on until it begins: a plan that waits must never silence today's doses)."""
        now = self._clock.now()
        user = await self._users.get(user_id)
        zone = self._zones.zone_for(user.timezone if user else None)
        today = now.astimezone(zone).date()
        current = await self._doses.active_plan(user_id)
        if plan.start > today and current is not None and doses_before(current.plan, today):
            await self._doses.save_waiting(
                user_id, plan, high_dose_confirmed=high_dose_confirmed, now=now
            )
            log.info("plan_saved_waiting user=%d kind=%s", user_id, plan.kind)
            return Saved.WAITS
        await self._replace(user_id, plan, zone, now, high_dose_confirmed=high_dose_confirmed)
        log.info("plan_saved user=%d kind=%s", user_id, plan.kind)
        self._changed()
        return Saved.NOW

    async def _replace(
        self,
        user_id: int,
        plan: Plan,
        zone: ZoneInfo,
        now: datetime,
        *,
        high_dose_confirmed: bool,
        since: datetime | None = None,
    ) -> None:
        """Replace the plan; ``since`` is when it took over (a waiting plan's first midnight),
        else now. Its dose times from the start of today (or ``since``) up to now get rows
        without a reminder, so the missed-dose rule knows that they passed."""
        until = now + HORIZON
        local_midnight = local_to_utc(now.astimezone(zone).date(), time(0), zone)
        start = since if since is not None else min(now, local_midnight)
        if since is not None:
            # Doses of the new plan due while the bot was not running are due rows like any
            # other: the missed-dose rule decides what to send.
            passed: list[DoseSlot] = []
            slots = slots_between(plan, zone, since, until)
        else:
            passed = slots_between(plan, zone, start, now)
            slots = slots_between(plan, zone, now, until)
        await self._doses.replace_plan(
            user_id,
            plan,
            slots,
            now=now,
            materialized_until=until,
            high_dose_confirmed=high_dose_confirmed,
            unreminded=passed,
            cancel_from=since,
        )

    async def start_waiting(self) -> None:
        """Switch each plan saved to start later whose first day has begun in its patient's
        zone (run by each dispatch pass, before the due scan, so an old dose of that day is
        never reminded)."""
        now = self._clock.now()
        for waiting in await self._doses.waiting_to_start(now.date() + timedelta(days=1)):
            user = await self._users.get(waiting.user_id)
            zone = self._zones.zone_for(user.timezone if user else None)
            if now.astimezone(zone).date() < waiting.plan.start:
                continue
            since = local_to_utc(waiting.plan.start, time(0), zone)
            await self._replace(
                waiting.user_id,
                waiting.plan,
                zone,
                now,
                high_dose_confirmed=waiting.high_dose_confirmed,
                since=since,
            )
            log.info("plan_started_waiting user=%d kind=%s", waiting.user_id, waiting.plan.kind)
            self._changed()

    async def next_start_at(self) -> datetime | None:
        """The first local midnight at which a plan waiting to start begins (None: none
        waits); :meth:`start_waiting` switches it in the first pass from then on."""
        starts: list[datetime] = []
        for waiting in await self._doses.waiting_to_start(date.max):
            user = await self._users.get(waiting.user_id)
            zone = self._zones.zone_for(user.timezone if user else None)
            starts.append(local_to_utc(waiting.plan.start, time(0), zone))
        return min(starts, default=None)

    async def regenerate(self, user_id: int) -> datetime | None:
        """Rebuild the coming doses of the active plan (time zone changed, a hold, resumed);
        the first reminder's instant, or None if there is none (or reminders are paused)."""
        stored = await self._doses.active_plan(user_id)
        user = await self._users.get(user_id)
        if stored is None or user is None:
            return None
        now = self._clock.now()
        until = now + HORIZON
        slots = slots_between(stored.plan, self._zones.zone_for(user.timezone), now, until)
        # A paused user's doses are planned again too (as not reminded): the zone may change.
        await self._doses.regenerate(stored, slots, now=now, materialized_until=until)
        log.info("plan_regenerated user=%d", user_id)
        self._changed()
        if user.reminders_paused:
            return None
        return slots[0].due_utc if slots else None

    async def extend_due(self) -> None:
        """Keep HORIZON of dose rows planned for every active plan (run by each dispatch pass)."""
        await self.start_waiting()
        now = self._clock.now()
        while stale := await self._doses.plans_to_extend(now + EXTEND_BELOW, EXTEND_BATCH):
            for stored in stale:
                await self._extend(stored, now)
            if len(stale) < EXTEND_BATCH:
                break

    async def _extend(self, stored: StoredPlan, now: datetime) -> None:
        user = await self._users.get(stored.user_id)
        zone = self._zones.zone_for(user.timezone if user else None)
        until = now + HORIZON
        # After a downtime longer than the rows reached, the dose times in between get rows
        # too (up to a day back): the dispatcher then treats them as it treats any dose that
        # fell due while it was down (the missed-dose rule: the latest one is answered, the
        # earlier ones are missed, none is made up).
        start = min(now - LATE_AFTER, max(stored.materialized_until, now - PASSED_HISTORY))
        await self._doses.extend_plan(stored, slots_between(stored.plan, zone, start, until), until)

    async def pause(self, user_id: int) -> None:
        await self._doses.set_paused(user_id, True, self._clock.now())
        log.info("reminders_paused user=%d", user_id)

    async def resume(self, user_id: int) -> tuple[datetime | None, int]:
        """Reminders on again: the first reminder's instant, and how many dose times passed
        unreminded during the pause (nothing is known about those)."""
        now = self._clock.now()
        await self._doses.set_paused(user_id, False, now)
        log.info("reminders_resumed user=%d", user_id)
        unreminded = await self._doses.not_reminded_since_pause(user_id, now)
        return await self.regenerate(user_id), unreminded

    async def undo(self, user_id: int, event_id: int, answer_id: int) -> Undo:
        """Take back a mis-tapped Taken or Skip within the Undo window (``bot.domain.undo``):
        the dose row is as it was before the press, and the dispatcher is woken for what it
        has due again (its reminder, snooze or follow-up, through the dose-safety check)."""
        now = self._clock.now()
        undo = await self._doses.undo_answer(
            answer_id, event_id, user_id, now, since=undo_since(now)
        )
        log.info("dose_answer_undo event=%d user=%d outcome=%s", event_id, user_id, undo.outcome)
        if undo.outcome is UndoOutcome.UNDONE:
            assert undo.event is not None
            self._changed(undo.event.next_action_at or now)
        return undo

    async def answer(self, user_id: int, event_id: int, answer: str) -> DoseEvent | None:
        """Record Taken / Skip / Snooze on the user's own open dose; None if not allowed."""
        now = self._clock.now()
        if answer == "taken":
            return await self._doses.answer(event_id, user_id, Status.TAKEN, now)
        if answer == "skip":
            return await self._doses.answer(event_id, user_id, Status.SKIPPED, now)
        if answer == "snooze":
            event = await self._doses.answer(
                event_id, user_id, Status.SNOOZED, now, snooze_until=now + SNOOZE_FOR
            )
            if event is not None:
                self._changed(now + SNOOZE_FOR)
            return event
        return None
