"""The report rows as a pure function: every due dose counted once in the row of its step,
rows inside the period and in order, across plans; and the /report arguments."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.plans import Dose, Plan, Step
from bot.domain.report import (
    CheckInRecord,
    DoseRecord,
    HoldRecord,
    Period,
    PlanRecord,
    ReportArgsError,
    build_report,
    parse_report_args,
    staircase,
)
from bot.domain.schedule import slots_between

ZONE = ZoneInfo("Europe/Berlin")
START = date(2026, 3, 20)  # the clock change of 29 March falls inside many of the plans
STATUSES = ("taken", "skipped", "missed", "sent", "paused", "cancelled", "snoozed")

steps_strategy = st.lists(
    st.builds(
        lambda mg, times, days: Step(
            tuple(Dose(time(hour), Decimal(mg)) for hour in sorted(times)), days
        ),
        st.sampled_from([5, 10, 15, 20]),
        st.sets(st.sampled_from([2, 8, 14, 22]), min_size=1, max_size=3),
        st.integers(1, 5),
    ),
    min_size=1,
    max_size=4,
)


def doses_of(plan_id: int, plan: Plan, until: datetime, statuses: list[str]) -> list[DoseRecord]:
    begin = datetime.combine(plan.start, time(), tzinfo=ZONE)
    slots = slots_between(plan, ZONE, begin, until + timedelta(days=2))
    return [
        DoseRecord(
            plan_id,
            slot.step_number,
            slot.is_maintenance,
            slot.local_date,
            slot.local_time,
            slot.mg,
            statuses[index % len(statuses)],
            slot.due_utc,
        )
        for index, slot in enumerate(slots)
    ]


@settings(max_examples=60, deadline=None)
@given(
    steps=steps_strategy,
    elapsed=st.integers(0, 30),
    statuses=st.lists(st.sampled_from(STATUSES), min_size=1, max_size=7),
    period=st.sampled_from(list(Period)),
)
def test_every_due_dose_is_counted_once_in_its_row(
    steps: list[Step], elapsed: int, statuses: list[str], period: Period
) -> None:
    plan = Plan("custom", START, tuple(steps), ends_after_last_step=False)
    now = datetime.combine(START + timedelta(days=elapsed), time(12), tzinfo=ZONE).astimezone(UTC)
    today = now.astimezone(ZONE).date()
    doses = doses_of(1, plan, now, statuses)
    report = build_report(period, [PlanRecord(1, plan, None)], doses, [], [], today=today, now=now)

    assert report.last_day == today
    in_period = [
        dose
        for dose in doses
        if dose.due_utc <= now
        and dose.status != "cancelled"
        and report.first_day <= dose.local_date <= report.last_day
    ]
    assert sum(row.due for row in report.rows) == len(in_period)
    assert sum(row.taken for row in report.rows) == sum(
        1 for dose in in_period if dose.status == "taken"
    )
    for earlier, later in zip(report.rows, report.rows[1:], strict=False):
        assert earlier.last_day < later.first_day
        assert (earlier.step_number, earlier.maintenance) < (later.step_number, later.maintenance)
    for row in report.rows:
        assert report.first_day <= row.first_day <= row.last_day <= report.last_day
        assert row.daily_mg == plan.steps[row.step_number - 1].daily_mg
    # The chart: one point per day of a row, with the row's prescribed total.
    assert len(report.days) == sum((row.last_day - row.first_day).days + 1 for row in report.rows)
    assert sum(point.taken_mg for point in report.days) == sum(
        dose.mg for dose in in_period if dose.status == "taken"
    )


def _plan(start: date, *mg_days: tuple[int, int]) -> Plan:
    return Plan(
        "custom",
        start,
        tuple(
            Step((Dose(time(8), Decimal(mg)), Dose(time(20), Decimal(mg))), d) for mg, d in mg_days
        ),
        ends_after_last_step=False,
    )


def test_the_last_four_weeks_cover_both_plans_and_this_plan_only_the_active_one() -> None:
    old = _plan(date(2026, 1, 1), (5, 10), (10, 30))
    new = _plan(date(2026, 2, 10), (15, 5), (20, 5))
    now = datetime(2026, 2, 20, 21, tzinfo=UTC)
    doses = doses_of(1, old, datetime(2026, 2, 9, 23, tzinfo=UTC), ["taken"])
    doses += doses_of(2, new, now, ["taken", "skipped"])
    doses = [dose for dose in doses if dose.due_utc <= now]
    checkins = [
        CheckInRecord(2, 1, date(2026, 2, 14), 4, {"drowsiness": 2}, "tired"),
        CheckInRecord(1, 1, date(2026, 1, 10), 8, {}, None),  # before the 4 weeks
    ]
    holds = [HoldRecord(2, 1, 2, date(2026, 2, 14))]
    plans = [PlanRecord(1, old, date(2026, 2, 9)), PlanRecord(2, new, None)]

    recent = build_report(
        Period.RECENT, plans, doses, checkins, holds, today=date(2026, 2, 20), now=now
    )
    assert (recent.first_day, recent.last_day) == (date(2026, 1, 24), date(2026, 2, 20))
    assert [(row.plan_id, row.step_number, row.first_day, row.last_day) for row in recent.rows] == [
        (1, 2, date(2026, 1, 24), date(2026, 2, 9)),  # the old plan, cut at the period start
        (2, 1, date(2026, 2, 10), date(2026, 2, 14)),
        (2, 2, date(2026, 2, 15), date(2026, 2, 19)),
        (2, 2, date(2026, 2, 20), date(2026, 2, 20)),  # maintenance from today
    ]
    assert recent.rows[0].taken == 17 * 2
    assert recent.rows[1].checkins == (checkins[0],) and recent.rows[1].holds == (holds[0],)
    assert recent.rows[3].maintenance and recent.rows[3].due == 2
    assert recent.stiffness == ((date(2026, 2, 14), 4),)

    this_plan = build_report(
        Period.PLAN, plans, doses, checkins, holds, today=date(2026, 2, 20), now=now
    )
    assert {row.plan_id for row in this_plan.rows} == {2}
    assert this_plan.first_day == date(2026, 2, 10)

    everything = build_report(
        Period.ALL, plans, doses, checkins, holds, today=date(2026, 2, 20), now=now
    )
    assert everything.first_day == date(2026, 1, 1)
    assert everything.rows[0].checkins == (checkins[1],)
    assert [record.plan_id for record in everything.plans] == [1, 2]


def test_a_plan_starting_tomorrow_has_no_row_yet() -> None:
    plan = _plan(date(2026, 3, 2), (5, 3))
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    report = build_report(
        Period.PLAN, [PlanRecord(1, plan, None)], [], [], [], today=date(2026, 3, 1), now=now
    )
    assert report.rows == () and report.days == () and report.plans == ()
    assert (report.first_day, report.last_day) == (date(2026, 3, 1), date(2026, 3, 1))


def test_staircase_follows_the_steps() -> None:
    plan = _plan(date(2026, 3, 2), (5, 3), (10, 4))
    assert [(item.first_day, item.days, item.daily_mg) for item in staircase(plan)] == [
        (date(2026, 3, 2), 3, Decimal(10)),
        (date(2026, 3, 5), 4, Decimal(20)),
    ]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], ("pdf", None)),
        (["csv"], ("csv", None)),
        (["PDF"], ("pdf", None)),
        (["name", "Anna", "Smith"], ("pdf", "Anna Smith")),
        (["pdf", "name", "Анна\u0000", "Иванова"], ("pdf", "Анна Иванова")),
    ],
)
def test_report_arguments(args: list[str], expected: tuple[str, str | None]) -> None:
    assert parse_report_args(args) == expected


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["weekly"], "usage"),
        (["name"], "usage"),
        (["name", "\u0000"], "usage"),
        (["csv", "name", "Anna"], "name_pdf_only"),
        (["name", "x" * 61], "name_too_long"),
    ],
)
def test_bad_report_arguments(args: list[str], code: str) -> None:
    with pytest.raises(ReportArgsError) as error:
        parse_report_args(args)
    assert error.value.code == code
