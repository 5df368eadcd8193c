"""Dose instants of a plan: local wall times in the user's zone, turned into UTC instants.

Pure: the caller passes the zone and the UTC window; nothing here reads a clock.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from itertools import accumulate
from zoneinfo import ZoneInfo

from bot.domain.plans import Plan, Step

_ONE_DAY = timedelta(days=1)


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime")


def local_to_utc(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The aware UTC instant of the wall time ``at`` on ``day`` in ``zone``.

    A wall time that does not exist (spring-forward gap) moves to the first valid minute
    after the gap (02:30 on 2026-03-29 in Europe/Berlin -> 03:00 local). A wall time that
    occurs twice (autumn fold) is taken at its first occurrence, so a dose fires once.
    """
    wall = datetime.combine(day, at.replace(tzinfo=None, fold=0), tzinfo=zone)
    candidate = wall.astimezone(UTC)
    if candidate.astimezone(zone).replace(tzinfo=None) == wall.replace(tzinfo=None):
        return candidate
    return _end_of_gap(wall, zone)


def _end_of_gap(wall: datetime, zone: ZoneInfo) -> datetime:
    """First whole local minute after the gap that contains the non-existent ``wall`` (fold=0)."""
    before = wall.utcoffset()
    after = wall.replace(fold=1).utcoffset()
    if before is None or after is None:  # pragma: no cover - a ZoneInfo always has an offset
        raise ValueError("zone without a UTC offset")
    naive = wall.replace(tzinfo=None)
    # lo is read with the offset in force before the transition, hi with the one after it:
    # lo's wall time is before ``naive``, hi's after it. Search for the first instant whose
    # wall time is past ``naive`` (monotone across a gap), not for the offset after it: two
    # changes close together (a daylight-saving change and a travel move a minute later)
    # have three offsets, and "offset == after" holds only in the minute between them.
    lo = int((naive - after).replace(tzinfo=UTC).timestamp())
    hi = int((naive - before).replace(tzinfo=UTC).timestamp())
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, UTC).astimezone(zone).replace(tzinfo=None) > naive:
            hi = mid
        else:
            lo = mid
    transition = datetime.fromtimestamp(hi, UTC)
    local = transition.astimezone(zone)
    if local.second or local.microsecond:
        transition += timedelta(seconds=60 - local.second, microseconds=-local.microsecond)
    return transition


@dataclass(frozen=True)
class DoseSlot:
    """One planned dose."""

    due_utc: datetime  # aware, UTC
    local_date: date  # the plan day this dose belongs to
    local_time: time  # the planned wall time (as in the step's doses)
    mg: Decimal
    step_number: int  # 1-based; during maintenance the number of the last step
    step_count: int
    day_number: int  # 1-based day since plan.start
    step_day: int  # 1-based day within the step; keeps counting during maintenance
    is_step_start: bool  # first dose of a step, step 1 included
    is_maintenance: bool  # after the last step
    is_last_step_dose: bool  # last dose of the last step (end-of-titration / end-of-taper notice)


class _StepIndex:
    """Step lookup by day offset from the plan start, computed once per plan."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        # starts[i] = day offset at which step i+1 begins; ends = exclusive end of the last step
        self.starts: list[int] = [0, *accumulate(step.days for step in plan.steps)]
        self.total = self.starts.pop()

    def at(self, offset: int) -> tuple[int, Step, int] | None:
        """(1-based step number, step, 0-based day within it) for a day offset, or None."""
        if offset < 0:
            return None
        if offset >= self.total:
            if self.plan.ends_after_last_step:
                return None
            last = len(self.plan.steps)
            return last, self.plan.steps[-1], offset - self.starts[-1]
        index = bisect_right(self.starts, offset) - 1
        return index + 1, self.plan.steps[index], offset - self.starts[index]


def step_on(plan: Plan, day: date) -> tuple[int, Step] | None:
    """The 1-based step number and step on a local date.

    During maintenance, the last step. Before the start, or after a taper that ends, None.
    """
    found = _StepIndex(plan).at((day - plan.start).days)
    if found is None:
        return None
    number, step, _ = found
    return number, step


def slots_between(
    plan: Plan, zone: ZoneInfo, start_utc: datetime, end_utc: datetime
) -> list[DoseSlot]:
    """All doses with ``start_utc <= due_utc < end_utc``, sorted by ``due_utc``.

    Only the local days that the window touches (plus one either side) are visited, so the
    cost depends on the window, not on how long ago the plan started.
    """
    _require_aware(start_utc, "start_utc")
    _require_aware(end_utc, "end_utc")
    # Compare as UTC: datetimes sharing one ZoneInfo compare as wall clocks.
    start_utc, end_utc = start_utc.astimezone(UTC), end_utc.astimezone(UTC)
    if end_utc <= start_utc:
        return []
    index = _StepIndex(plan)
    slots: list[DoseSlot] = []
    for day in _days_touched(plan, zone, start_utc, end_utc):
        found = index.at((day - plan.start).days)
        if found is None:
            break
        slots.extend(_day_slots(index, day, found, zone, start_utc, end_utc))
    slots.sort(key=lambda slot: (slot.due_utc, slot.local_date, slot.local_time))
    return slots


def _days_touched(
    plan: Plan, zone: ZoneInfo, start_utc: datetime, end_utc: datetime
) -> Iterator[date]:
    """The local days whose doses may fall in the window: one either side of it, none before
    the plan's start nor after the last day of a plan that ends."""
    first_local = start_utc.astimezone(zone).date()
    day = plan.start if first_local <= plan.start else first_local - _ONE_DAY
    last_day = end_utc.astimezone(zone).date() + _ONE_DAY
    if plan.ends_after_last_step:
        last_day = min(last_day, plan.last_step_day())
    while day <= last_day:
        yield day
        day += _ONE_DAY


def _day_slots(
    index: _StepIndex,
    day: date,
    found: tuple[int, Step, int],
    zone: ZoneInfo,
    start_utc: datetime,
    end_utc: datetime,
) -> Iterator[DoseSlot]:
    """The doses of the plan day ``day`` (its step ``found``) that fall in the window."""
    number, step, day_in_step = found
    offset = (day - index.plan.start).days
    maintenance = offset >= index.total
    last_step_day = offset == index.total - 1
    last_time = len(step.doses) - 1
    for position, (dose, due) in enumerate(zip(step.doses, _dues(day, step, zone), strict=True)):
        if not start_utc <= due < end_utc:
            continue
        yield DoseSlot(
            due_utc=due,
            local_date=day,
            local_time=dose.at,
            mg=dose.mg,
            step_number=number,
            step_count=len(index.plan.steps),
            day_number=offset + 1,
            step_day=day_in_step + 1,
            is_step_start=not maintenance and day_in_step == 0 and position == 0,
            is_maintenance=maintenance,
            is_last_step_dose=last_step_day and position == last_time,
        )


def _dues(day: date, step: Step, zone: ZoneInfo) -> list[datetime]:
    """The UTC instants of the step's dose times on ``day``, in the step's order."""
    dues: list[datetime] = []
    previous: tuple[time, datetime] | None = None
    for dose in step.doses:
        due = local_to_utc(day, dose.at, zone)
        if previous is not None:
            # Two dose times inside a spring-forward gap both move to the gap's end: keep
            # them as far apart as planned, never on the same minute.
            at_before, due_before = previous
            if due <= due_before:
                due = due_before + (
                    datetime.combine(day, dose.at) - datetime.combine(day, at_before)
                )
        previous = (dose.at, due)
        dues.append(due)
    return dues


def next_slot_after(plan: Plan, zone: ZoneInfo, after: datetime) -> DoseSlot | None:
    """The first planned dose strictly after ``after``, whatever was answered; None if the
    plan has no more doses (a taper that ended) within the next eight days."""
    _require_aware(after, "after")
    start = after.astimezone(UTC) + timedelta(microseconds=1)
    slots = slots_between(plan, zone, start, start + _NEXT_SLOT_WINDOW)
    return slots[0] if slots else None


# Every plan day has at least one dose, so a week and a day always reaches the next one
# (or the plan's start, up to this far ahead).
_NEXT_SLOT_WINDOW = timedelta(days=8)


def planned_mg(plan: Plan, day: date, at: time) -> Decimal | None:
    """The mg the plan sets for the dose time ``at`` on the local date ``day``; None if the
    plan has no dose then (a row from an earlier plan, or of an amount since changed)."""
    found = step_on(plan, day)
    if found is None:
        return None
    for dose in found[1].doses:
        if dose.at == at:
            return dose.mg
    return None
