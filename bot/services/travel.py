"""A trip across time zones: what the patient chooses (home times, local times at once or
gradually), the preview of the next doses, and saving it (``bot.domain.travel`` is the rule).

The chosen dose clock is stored as the user's zone (``users.timezone`` holds its spec), so the
dose rows, the dispatcher, the missed-dose rule and the dose-safety check all follow it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.domain.safety import Check, check_ahead
from bot.domain.schedule import DoseSlot, slots_between
from bot.domain.travel import Choice, TravelZone, following, spec, travel_zone
from bot.services.plans import PlanService
from bot.services.zones import Zones
from bot.storage.doses import DoseStore, Status
from bot.storage.users import User, UserStore

log = logging.getLogger(__name__)

PREVIEW_DOSES = 3
_PREVIEW_AHEAD = timedelta(days=8)
_HISTORY = 12


@dataclass(frozen=True)
class Preview:
    """The next doses under the chosen clock, with the check's word on the first one."""

    zone: ZoneInfo  # the clock the doses would follow (not yet saved)
    doses: tuple[DoseSlot, ...]
    first: Check | None  # the dose-safety check, ahead of time, for doses[0]


class TravelService:
    def __init__(
        self, doses: DoseStore, users: UserStore, zones: Zones, plans: PlanService, clock: Clock
    ) -> None:
        self._doses = doses
        self._users = users
        self._zones = zones
        self._plans = plans
        self._clock = clock

    async def asks(self, user: User, local: ZoneInfo) -> bool:
        """Does moving to ``local`` need the patient's choice (a plan whose doses would move)?"""
        if await self._doses.active_plan(user.user_id) is None:
            return False
        current = self._zones.zone_for(user.timezone)
        shown = current.local if isinstance(current, TravelZone) else current
        return shown.key != local.key or isinstance(current, TravelZone)

    def home(self, user: User) -> ZoneInfo:
        """The zone the doses follow now, to name it in the question."""
        return following(self._zones.zone_for(user.timezone), self._clock.now())

    async def preview(self, user: User, local: ZoneInfo, choice: Choice) -> Preview | None:
        """The next doses if the patient chose ``choice`` now; None without a plan."""
        stored = await self._doses.active_plan(user.user_id)
        if stored is None:
            return None
        now = self._clock.now()
        zone = travel_zone(stored.plan, self._zones.zone_for(user.timezone), local, now, choice)
        history = await self._doses.recent_doses(user.user_id, now, _HISTORY)
        # A dose time that already has a row (answered or reminded) gets no new one.
        known = {
            (event.local_date, event.local_time)
            for event in history
            if event.plan_id == stored.plan_id
        }
        slots = slots_between(stored.plan, zone, now, now + _PREVIEW_AHEAD)
        coming = tuple(slot for slot in slots if (slot.local_date, slot.local_time) not in known)
        doses = coming[:PREVIEW_DOSES]
        if not doses:
            return Preview(zone, (), None)
        intakes = [
            event.answered_at
            for event in history
            if event.status is Status.TAKEN and event.answered_at is not None
        ]
        before = slots_between(
            stored.plan, zone, doses[0].due_utc - timedelta(days=1, hours=1), doses[0].due_utc
        )
        first = check_ahead(
            doses[0].due_utc,
            intakes,
            previous_due=before[-1].due_utc if before else None,
            next_due=doses[1].due_utc if len(doses) > 1 else None,
        )
        return Preview(zone, doses, first)

    async def replan(self, user_id: int) -> None:
        """A new plan saved during a gradual change: the change goes on from where it has
        moved the doses, its moves placed in the new plan's gaps (then the rows follow)."""
        user = await self._users.get(user_id)
        stored = await self._doses.active_plan(user_id)
        if user is None or stored is None:
            return
        current = self._zones.zone_for(user.timezone)
        now = self._clock.now()
        if not isinstance(current, TravelZone) or current.choice is not Choice.GRADUAL:
            return
        if current.ends is not None and current.ends <= now:
            return
        zone = travel_zone(stored.plan, current, current.local, now, Choice.GRADUAL)
        await self._users.set_timezone(user_id, spec(zone))
        await self._plans.regenerate(user_id)
        log.info("travel_replanned user=%d", user_id)

    async def save(self, user: User, local: ZoneInfo, choice: Choice) -> ZoneInfo:
        """Make the chosen clock the patient's from now: the coming dose rows follow it."""
        stored = await self._doses.active_plan(user.user_id)
        now = self._clock.now()
        plan = stored.plan if stored is not None else None
        zone = travel_zone(plan, self._zones.zone_for(user.timezone), local, now, choice)
        await self._users.set_timezone(user.user_id, spec(zone))
        await self._plans.regenerate(user.user_id)
        log.info("travel_saved user=%d choice=%s", user.user_id, choice.value)
        return zone
