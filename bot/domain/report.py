"""The prescriber report as data: one row per step with what happened at it, and the points of
its chart. Pure: no Telegram, no database, no clock; the caller passes ``today`` and ``now``.

The rows count what /progress counts (doses already due, cancelled ones left out), but only
inside the chosen period, and they cover every plan the period touches, not only the active one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from bot.domain.plans import Dose, Plan

# A dose that fell due and was never answered counts as missed, as in /progress.
MISSED_STATUSES = frozenset({"missed", "sent", "snoozed", "sending", "scheduled"})
NOT_REMINDED_STATUSES = frozenset({"paused"})
RECENT_DAYS = 28  # "last 4 weeks": today and the 27 days before it


class Period(StrEnum):
    PLAN = "plan"  # the active plan, from its start to today
    RECENT = "4w"  # the last 4 weeks, across plans
    ALL = "all"  # everything kept, across plans


@dataclass(frozen=True)
class PlanRecord:
    plan_id: int
    plan: Plan
    ended_on: date | None  # local date it was replaced; None for the active plan


@dataclass(frozen=True)
class DoseRecord:
    plan_id: int
    step_number: int
    is_maintenance: bool
    local_date: date
    local_time: time
    mg: Decimal
    status: str  # bot.storage.doses.Status value
    due_utc: datetime


@dataclass(frozen=True)
class CheckInRecord:
    plan_id: int
    step_number: int
    local_date: date
    stiffness: int | None
    side_effects: Mapping[str, int]  # SideEffect value -> Severity value
    note: str | None


@dataclass(frozen=True)
class UndoneRecord:
    """A Taken or Skip the patient undid (a mis-tap): kept so the report shows it happened.
    The dose itself counts as whatever is recorded now."""

    plan_id: int
    step_number: int
    local_date: date  # the dose's local date
    due_local: time  # the dose's local time, as the patient saw it
    mg: Decimal
    status: str  # "taken" or "skipped": what was recorded and then undone
    answered_local: datetime  # local, aware
    undone_local: datetime  # local, aware
    is_maintenance: bool = False


@dataclass(frozen=True)
class HoldRecord:
    plan_id: int
    step_number: int
    extra_days: int
    local_date: date


@dataclass(frozen=True)
class ReportRow:
    plan_id: int
    step_number: int
    step_count: int
    maintenance: bool  # the doses after the last step, at the last step's dose
    first_day: date  # inside the period
    last_day: date
    doses: tuple[Dose, ...]  # mg at each time, as prescribed
    daily_mg: Decimal
    taken: int
    skipped: int
    missed: int  # missed, or due and never answered
    not_reminded: int  # due while reminders were paused, not answered
    checkins: tuple[CheckInRecord, ...]
    holds: tuple[HoldRecord, ...]
    undone: tuple[UndoneRecord, ...] = ()  # answers undone at this step, oldest first

    @property
    def due(self) -> int:
        return self.taken + self.skipped + self.missed + self.not_reminded


@dataclass(frozen=True)
class DayPoint:
    day: date
    planned_mg: Decimal  # the prescribed total for the day
    taken_mg: Decimal  # the sum of the doses marked taken that day


@dataclass(frozen=True)
class Report:
    period: Period
    first_day: date
    last_day: date
    plans: tuple[PlanRecord, ...]  # the plans with a row, oldest first
    rows: tuple[ReportRow, ...]
    days: tuple[DayPoint, ...]
    stiffness: tuple[tuple[date, int], ...]  # check-in scores by date, for the chart


def period_bounds(period: Period, plans: Sequence[PlanRecord], today: date) -> tuple[date, date]:
    """First and last local day the report covers. ``plans`` oldest first, the active one last
    (there may be none if the plan was cleared)."""
    if period is Period.RECENT:
        return today - timedelta(days=RECENT_DAYS - 1), today
    if not plans:
        return today, today
    if period is Period.PLAN:
        start = plans[-1].plan.start
    else:
        start = min(record.plan.start for record in plans)
    return min(start, today), today


def _spans(record: PlanRecord, today: date) -> list[tuple[int, bool, date, date]]:
    """(step number, maintenance, first day, last day) of each step begun by ``today``."""
    plan = record.plan
    end = min(today, record.ended_on) if record.ended_on is not None else today
    spans: list[tuple[int, bool, date, date]] = []
    for number, step in enumerate(plan.steps, start=1):
        first = plan.step_start(number)
        if first > end:
            break
        spans.append((number, False, first, min(first + timedelta(days=step.days - 1), end)))
    after = plan.last_step_day() + timedelta(days=1)
    if not plan.ends_after_last_step and after <= end:
        spans.append((len(plan.steps), True, after, end))
    return spans


def build_report(
    period: Period,
    plans: Sequence[PlanRecord],
    doses: Iterable[DoseRecord],
    checkins: Iterable[CheckInRecord],
    holds: Iterable[HoldRecord],
    *,
    today: date,
    now: datetime,
    undone: Iterable[UndoneRecord] = (),
) -> Report:
    """The rows of ``period``: one per step (and one for maintenance) that overlaps it."""
    corrections = list(undone)
    first_day, last_day = period_bounds(period, plans, today)
    chosen = [plans[-1]] if period is Period.PLAN and plans else list(plans)
    due = [dose for dose in doses if dose.due_utc <= now and dose.status != "cancelled"]
    notes = list(checkins)
    chosen_holds = list(holds)
    rows: list[ReportRow] = []
    for record in chosen:
        for number, maintenance, span_first, span_last in _spans(record, today):
            first, last = max(span_first, first_day), min(span_last, last_day)
            if first <= last:
                rows.append(
                    _row(
                        record,
                        number,
                        maintenance,
                        (first, last),
                        due,
                        notes,
                        chosen_holds,
                        corrections,
                    )
                )
    with_rows = {row.plan_id for row in rows}
    return Report(
        period=period,
        first_day=first_day,
        last_day=last_day,
        plans=tuple(record for record in chosen if record.plan_id in with_rows),
        rows=tuple(rows),
        days=_days(rows, due),
        stiffness=tuple(
            (item.local_date, item.stiffness)
            for row in rows
            for item in row.checkins
            if item.stiffness is not None
        ),
    )


def _row(
    record: PlanRecord,
    number: int,
    maintenance: bool,
    window: tuple[date, date],
    due: Sequence[DoseRecord],
    checkins: Sequence[CheckInRecord],
    holds: Sequence[HoldRecord],
    undone: Sequence[UndoneRecord] = (),
) -> ReportRow:
    first, last = window

    def inside(plan_id: int, step: int, day: date) -> bool:
        return plan_id == record.plan_id and step == number and first <= day <= last

    statuses = [
        dose.status
        for dose in due
        if inside(dose.plan_id, dose.step_number, dose.local_date)
        and dose.is_maintenance == maintenance
    ]
    step = record.plan.steps[number - 1]
    return ReportRow(
        plan_id=record.plan_id,
        step_number=number,
        step_count=len(record.plan.steps),
        maintenance=maintenance,
        first_day=first,
        last_day=last,
        doses=step.doses,
        daily_mg=step.daily_mg,
        taken=statuses.count("taken"),
        skipped=statuses.count("skipped"),
        missed=sum(1 for status in statuses if status in MISSED_STATUSES),
        not_reminded=sum(1 for status in statuses if status in NOT_REMINDED_STATUSES),
        checkins=tuple(
            item for item in checkins if inside(item.plan_id, item.step_number, item.local_date)
        ),
        # A hold is chosen at the end of its step; the step's dates then grow around it.
        holds=tuple(
            item
            for item in holds
            if not maintenance and inside(item.plan_id, item.step_number, item.local_date)
        ),
        undone=tuple(
            item
            for item in undone
            if inside(item.plan_id, item.step_number, item.local_date)
            and item.is_maintenance == maintenance
        ),
    )


def _days(rows: Sequence[ReportRow], due: Sequence[DoseRecord]) -> tuple[DayPoint, ...]:
    planned: dict[date, Decimal] = {}
    plan_of_day: dict[date, int] = {}
    for row in rows:  # a later plan replaces an earlier one on the day it starts
        day = row.first_day
        while day <= row.last_day:
            planned[day] = row.daily_mg
            plan_of_day[day] = row.plan_id
            day += timedelta(days=1)
    taken: dict[date, Decimal] = {}
    for dose in due:
        if dose.status == "taken" and plan_of_day.get(dose.local_date) == dose.plan_id:
            taken[dose.local_date] = taken.get(dose.local_date, Decimal(0)) + dose.mg
    return tuple(DayPoint(day, planned[day], taken.get(day, Decimal(0))) for day in sorted(planned))


@dataclass(frozen=True)
class StairStep:
    """One step of the /plan picture: ``daily_mg`` from ``first_day`` for ``days`` days."""

    number: int
    first_day: date
    days: int
    daily_mg: Decimal
    doses: tuple[Dose, ...]


def staircase(plan: Plan) -> tuple[StairStep, ...]:
    return tuple(
        StairStep(number, plan.step_start(number), step.days, step.daily_mg, step.doses)
        for number, step in enumerate(plan.steps, start=1)
    )


MAX_NAME = 60  # characters of a name typed for the report
ReportFormat = Literal["pdf", "csv"]


class ReportArgsError(ValueError):
    """``/report`` arguments that are not understood; ``code`` names the message."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def parse_report_args(args: Sequence[str]) -> tuple[ReportFormat, str | None]:
    """``[pdf|csv] [name <words>]``: the format, and the name to print on the PDF (only one
    the patient typed for it; never a name from their Telegram profile)."""
    rest = list(args)
    fmt: ReportFormat = "pdf"
    if rest and rest[0].lower() in ("pdf", "csv"):
        fmt = "csv" if rest.pop(0).lower() == "csv" else "pdf"
    if not rest:
        return fmt, None
    if rest[0].lower() != "name" or len(rest) == 1:
        raise ReportArgsError("usage")
    if fmt == "csv":
        raise ReportArgsError("name_pdf_only")
    name = " ".join("".join(ch for ch in word if ch.isprintable()) for word in rest[1:]).strip()
    if not name:
        raise ReportArgsError("usage")
    if len(name) > MAX_NAME:
        raise ReportArgsError("name_too_long")
    return fmt, name
