"""Step check-ins and holds: asking, recording, and staying at a dose longer.

A hold never raises a dose: it keeps the current one for more days (only as the prescriber
allows, which the patient confirms by choosing it), and every later step moves with it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.domain.checkins import HOLD_DAYS, Severity, SideEffect
from bot.domain.schedule import step_on
from bot.storage.checkins import CheckIn, CheckInStore, Hold
from bot.storage.doses import DoseStore, StoredPlan

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StepProgress:
    number: int
    start: date
    counts: dict[str, int]
    checkins: list[CheckIn]
    holds: list[Hold]


class CheckInService:
    def __init__(self, store: CheckInStore, doses: DoseStore, clock: Clock) -> None:
        self._store = store
        self._doses = doses
        self._clock = clock

    async def start(
        self, user_id: int, zone: ZoneInfo, *, step_number: int | None = None, before_increase: bool
    ) -> tuple[CheckIn, StoredPlan] | None:
        """A new check-in for ``step_number`` (default: today's step); None without a plan."""
        stored = await self._doses.active_plan(user_id)
        if stored is None:
            return None
        if step_number is None:
            today = self._clock.now().astimezone(zone).date()
            found = step_on(stored.plan, max(today, stored.plan.start))
            step_number = found[0] if found else len(stored.plan.steps)
        checkin = await self._store.start(
            user_id,
            stored.plan_id,
            step_number,
            before_increase=before_increase,
            now=self._clock.now(),
        )
        log.info("checkin_started checkin=%d user=%d", checkin.checkin_id, user_id)
        return checkin, stored

    async def get(self, checkin_id: int, user_id: int) -> CheckIn | None:
        return await self._store.get(checkin_id, user_id)

    async def answer_stiffness(self, checkin_id: int, user_id: int, value: int) -> CheckIn | None:
        return await self._store.answer_stiffness(checkin_id, user_id, value)

    async def answer_side_effect(
        self, checkin_id: int, user_id: int, effect: SideEffect, severity: Severity
    ) -> CheckIn | None:
        return await self._store.answer_side_effect(checkin_id, user_id, effect, severity)

    async def finish(self, checkin_id: int, user_id: int, note: str | None) -> CheckIn | None:
        """Done; ``note`` is stored only when the patient typed one."""
        done = await self._store.finish(checkin_id, user_id, note, self._clock.now())
        if done is not None:
            log.info(
                "checkin_done checkin=%d user=%d note=%d", checkin_id, user_id, int(bool(note))
            )
        return done

    async def hold(self, checkin: CheckIn, extra_days: int, chosen_by: int) -> StoredPlan | None:
        """Stay ``extra_days`` longer at the check-in's step; the new plan, or None if the
        check-in's plan is no longer the active one. The caller regenerates the doses."""
        if extra_days not in HOLD_DAYS or await self._store.has_hold(checkin.checkin_id):
            return None  # one hold per check-in: a second press changes nothing
        stored = await self._doses.active_plan(checkin.user_id)
        if stored is None or stored.plan_id != checkin.plan_id:
            return None
        held = stored.plan.held(checkin.step_number, extra_days)
        done = await self._doses.hold_step(
            stored,
            held,
            step_number=checkin.step_number,
            extra_days=extra_days,
            checkin_id=checkin.checkin_id,
            chosen_by=chosen_by,
            now=self._clock.now(),
        )
        if not done:
            return None
        log.info(
            "step_held user=%d step=%d days=%d", checkin.user_id, checkin.step_number, extra_days
        )
        return await self._doses.active_plan(checkin.user_id)

    async def progress(
        self, user_id: int, zone: ZoneInfo
    ) -> tuple[StoredPlan, list[StepProgress]] | None:
        """Each step begun so far, with its dose counts, check-ins and holds."""
        stored = await self._doses.active_plan(user_id)
        if stored is None:
            return None
        now = self._clock.now()
        today = now.astimezone(zone).date()
        counts = await self._doses.step_counts(user_id, stored.plan_id, now)
        checkins = await self._store.for_plan(user_id, stored.plan_id)
        holds = await self._store.holds_for_plan(user_id, stored.plan_id)
        steps = []
        for number in range(1, len(stored.plan.steps) + 1):
            start = stored.plan.step_start(number)
            if start > today and number > 1:
                break
            steps.append(
                StepProgress(
                    number,
                    start,
                    dict(counts.get(number, {})),
                    [item for item in checkins if item.step_number == number],
                    [item for item in holds if item.step_number == number],
                )
            )
        return stored, steps
