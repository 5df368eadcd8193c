"""Report data and the worker that renders files, away from the event loop.

Rendering a PDF with its chart takes about half a second of CPU, all of it Python holding the
GIL; in a thread of this process it would slow the event loop that sends reminders. So files
are made in a separate worker process (``spawn``: a fresh interpreter, no copy of this one's
threads, sockets or database connections), created on first use and stopped with the bot.
One worker by default: the other core stays free for the bot itself, and requests queue.
It takes about 100 MB while it lives. ``spawn`` re-imports the main module in the worker, so
the bot must be started through a guarded entry point (``python -m bot`` is).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.domain.calendar import HeldStep, PastVersion, dropped_doses, past_versions
from bot.domain.report import (
    CheckInRecord,
    DoseRecord,
    HoldRecord,
    Period,
    PlanRecord,
    Report,
    UndoneRecord,
    build_report,
    period_bounds,
)
from bot.domain.schedule import DoseSlot, local_to_utc, slots_between
from bot.reports import work
from bot.storage.checkins import CheckIn, CheckInStore
from bot.storage.doses import DoseEvent, DoseStore, StoredPlan, UndoneAnswer

log = logging.getLogger(__name__)

Spec = TypeVar("Spec")

CALENDAR_DAYS = 90  # the calendar holds the coming doses of this many days
REPORT_WORKERS = 1
WORKER_TASKS = 100  # files a worker makes before it is replaced


@dataclass(frozen=True)
class CalendarDoses:
    coming: list[DoseSlot]  # the active plan's doses in the window
    dropped: list[DoseSlot]  # earlier versions' dose times in the window that are gone now


class ReportService:
    def __init__(
        self,
        doses: DoseStore,
        checkins: CheckInStore,
        clock: Clock,
        *,
        workers: int = REPORT_WORKERS,
        executor: Callable[[], Executor] | None = None,
    ) -> None:
        self._doses = doses
        self._checkins = checkins
        self._clock = clock
        self._workers = workers
        self._make_executor = executor or self._process_pool
        self._executor: Executor | None = None

    def _process_pool(self) -> Executor:
        return ProcessPoolExecutor(
            max_workers=self._workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=work.warm_up,
            # A fresh worker now and then: whatever matplotlib or fpdf2 keep cached is let go.
            max_tasks_per_child=WORKER_TASKS,
        )

    async def render(self, renderer: Callable[[Spec], bytes], spec: Spec) -> bytes:
        """``renderer(spec)`` in the worker; a worker that died is replaced for the next call."""
        if self._executor is None:
            self._executor = self._make_executor()
        executor = self._executor
        try:
            return await asyncio.get_running_loop().run_in_executor(executor, renderer, spec)
        except BrokenProcessPool:
            log.error("report_worker_lost")
            if self._executor is executor:
                self._executor = None
            executor.shutdown(wait=False, cancel_futures=True)
            raise

    async def close(self) -> None:
        executor, self._executor = self._executor, None
        if executor is not None:
            await asyncio.to_thread(executor.shutdown, wait=True, cancel_futures=True)

    async def has_plans(self, user_id: int) -> bool:
        return bool(await self._doses.plan_history(user_id))

    async def report(self, user_id: int, zone: ZoneInfo, period: Period) -> Report:
        now = self._clock.now()
        today = now.astimezone(zone).date()
        plans = await self._plans(user_id, zone)
        first_day, _ = period_bounds(period, plans, today)
        # A day early: the first local day may begin before midnight UTC.
        since = datetime.combine(first_day - timedelta(days=1), time(), tzinfo=zone)
        until = now + timedelta(seconds=1)
        events = await self._doses.events_between(user_id, since, until)
        doses = [_dose_record(item) for item in events]
        answers = await self._doses.undone_answers(user_id, since, until)
        undone = [_undone_record(item, zone) for item in answers]
        checkins: list[CheckInRecord] = []
        holds: list[HoldRecord] = []
        for record in plans:
            for checkin in await self._checkins.for_plan(user_id, record.plan_id):
                checkins.append(_checkin_record(checkin, zone))
            for hold in await self._checkins.holds_for_plan(user_id, record.plan_id):
                holds.append(
                    HoldRecord(
                        record.plan_id,
                        hold.step_number,
                        hold.extra_days,
                        hold.chosen_at.astimezone(zone).date(),
                    )
                )
        active = [record for record in plans if record.ended_on is None]
        # "This plan" is the active one; with none (never the case today) the latest one.
        ordered = [record for record in plans if record.ended_on is not None] + active
        return build_report(
            period, ordered, doses, checkins, holds, today=today, now=now, undone=undone
        )

    async def _plans(self, user_id: int, zone: ZoneInfo) -> list[PlanRecord]:
        """Every plan the user had, each with the local date it was replaced (None: active)."""
        return [
            PlanRecord(
                stored.plan_id,
                stored.plan,
                superseded.astimezone(zone).date() if superseded is not None else None,
            )
            for stored, superseded in await self._doses.plan_history(user_id)
        ]

    async def calendar_doses(self, stored: StoredPlan, zone: ZoneInfo) -> CalendarDoses:
        """The planned doses from now for ``CALENDAR_DAYS`` days (fewer if a taper ends), and
        the dose times in the same window that an earlier version of the user's plans had and
        this one no longer has (to be cancelled in a calendar that imported an older file).
        Earlier versions are read in today's zone: event ids follow the local date and time."""
        now = self._clock.now()
        end = now + timedelta(days=CALENDAR_DAYS)
        coming = slots_between(stored.plan, zone, now, end)
        waiting = await self._doses.waiting_plan(stored.user_id)
        if waiting is not None:
            # A plan saved to start later takes over at its first local midnight: the
            # current plan's doses up to then, the new plan's after (the current plan is one
            # of the versions below, so its later times come as cancelled).
            switch = local_to_utc(waiting.plan.start, time(0), zone)
            coming = [slot for slot in coming if slot.due_utc < switch] + slots_between(
                waiting.plan, zone, max(now, switch), end
            )
        past: list[PastVersion] = []
        for old, superseded in await self._doses.plan_history(stored.user_id):
            if superseded is not None and superseded + timedelta(days=CALENDAR_DAYS) <= now:
                continue  # no file of it can hold a dose from now on
            holds = [
                HeldStep(hold.step_number, hold.extra_days, hold.chosen_at)
                for hold in await self._checkins.holds_for_plan(stored.user_id, old.plan_id)
            ]
            # The active plan is a past version too when a waiting plan replaces it later.
            replaced = now if waiting is not None and superseded is None else superseded
            past += past_versions(old.plan, holds, replaced)
        dropped = dropped_doses(coming, past, zone, now, end, file_days=CALENDAR_DAYS)
        return CalendarDoses(coming=coming, dropped=dropped)


def _dose_record(item: DoseEvent) -> DoseRecord:
    return DoseRecord(
        plan_id=item.plan_id,
        step_number=item.step_number,
        is_maintenance=item.is_maintenance,
        local_date=item.local_date,
        local_time=item.local_time,
        mg=item.mg,
        status=item.status.value,
        due_utc=item.due_at,
    )


def _undone_record(item: UndoneAnswer, zone: ZoneInfo) -> UndoneRecord:
    return UndoneRecord(
        plan_id=item.plan_id,
        step_number=item.step_number,
        local_date=item.local_date,
        due_local=item.local_time,
        mg=item.mg,
        status=item.status.value,
        answered_local=item.answered_at.astimezone(zone),
        undone_local=item.undone_at.astimezone(zone),
        is_maintenance=item.is_maintenance,
    )


def _checkin_record(checkin: CheckIn, zone: ZoneInfo) -> CheckInRecord:
    return CheckInRecord(
        plan_id=checkin.plan_id,
        step_number=checkin.step_number,
        local_date=checkin.created_at.astimezone(zone).date(),
        stiffness=checkin.stiffness,
        side_effects={
            effect.value: int(severity) for effect, severity in checkin.side_effects.items()
        },
        note=checkin.note,
    )
