"""Schedule: local wall times to UTC across zones and DST changes, and the dose slots of a plan."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from bot.domain import schedule
from bot.domain.plans import Plan, Step, parse_standard_command, standard_steps
from bot.domain.schedule import DoseSlot, local_to_utc, slots_between, step_on

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
THREE_TIMES = (time(8), time(14), time(20))


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def standard_plan(start: date, times: tuple[time, ...] = THREE_TIMES) -> Plan:
    return Plan("standard", start, standard_steps(times), False)


def local_window(zone: ZoneInfo, first: date, last: date) -> tuple[datetime, datetime]:
    """UTC instants covering the local days ``first`` .. ``last`` inclusive."""
    start = datetime.combine(first, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return start, end


# --- local_to_utc ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "day", "at", "expected"),
    [
        # Europe/Berlin spring forward: 02:00-03:00 does not exist; 02:30 -> 03:00 CEST
        ("Europe/Berlin", date(2026, 3, 29), time(2, 30), utc(2026, 3, 29, 1, 0)),
        ("Europe/Berlin", date(2026, 3, 29), time(2, 0), utc(2026, 3, 29, 1, 0)),
        ("Europe/Berlin", date(2026, 3, 29), time(2, 59), utc(2026, 3, 29, 1, 0)),
        ("Europe/Berlin", date(2026, 3, 29), time(1, 59), utc(2026, 3, 29, 0, 59)),
        ("Europe/Berlin", date(2026, 3, 29), time(3, 0), utc(2026, 3, 29, 1, 0)),
        ("Europe/Berlin", date(2026, 3, 29), time(8, 0), utc(2026, 3, 29, 6, 0)),
        # Europe/Berlin fall back: 02:00-03:00 happens twice; the first (CEST) is used
        ("Europe/Berlin", date(2026, 10, 25), time(2, 30), utc(2026, 10, 25, 0, 30)),
        ("Europe/Berlin", date(2026, 10, 25), time(8, 0), utc(2026, 10, 25, 7, 0)),
        ("Europe/Berlin", date(2026, 1, 15), time(8, 0), utc(2026, 1, 15, 7, 0)),
        ("Europe/Berlin", date(2026, 7, 15), time(8, 0), utc(2026, 7, 15, 6, 0)),
        # America/New_York: 2026-03-08 02:00 EST -> 03:00 EDT; 2026-11-01 02:00 EDT -> 01:00 EST
        ("America/New_York", date(2026, 3, 8), time(2, 30), utc(2026, 3, 8, 7, 0)),
        ("America/New_York", date(2026, 3, 8), time(8, 0), utc(2026, 3, 8, 12, 0)),
        ("America/New_York", date(2026, 3, 7), time(8, 0), utc(2026, 3, 7, 13, 0)),
        ("America/New_York", date(2026, 11, 1), time(1, 30), utc(2026, 11, 1, 5, 30)),
        ("America/New_York", date(2026, 11, 1), time(8, 0), utc(2026, 11, 1, 13, 0)),
        # fixed and unusual offsets
        ("Asia/Kolkata", date(2026, 6, 1), time(8, 0), utc(2026, 6, 1, 2, 30)),
        ("Asia/Kolkata", date(2026, 6, 1), time(2, 0), utc(2026, 5, 31, 20, 30)),
        ("Pacific/Kiritimati", date(2026, 6, 1), time(8, 0), utc(2026, 5, 31, 18, 0)),
        ("Pacific/Tongatapu", date(2026, 6, 1), time(8, 0), utc(2026, 5, 31, 19, 0)),
        ("Pacific/Tongatapu", date(2026, 1, 1), time(8, 0), utc(2025, 12, 31, 19, 0)),
        ("Etc/GMT+12", date(2026, 6, 1), time(8, 0), utc(2026, 6, 1, 20, 0)),
        ("Etc/GMT+12", date(2026, 6, 1), time(20, 0), utc(2026, 6, 2, 8, 0)),
        ("UTC", date(2026, 6, 1), time(8, 0), utc(2026, 6, 1, 8, 0)),
    ],
)
def test_local_to_utc(zone: str, day: date, at: time, expected: datetime) -> None:
    result = local_to_utc(day, at, ZoneInfo(zone))
    assert result == expected
    assert result.tzinfo is UTC


def test_gap_moves_to_the_first_valid_local_minute() -> None:
    result = local_to_utc(date(2026, 3, 29), time(2, 30), BERLIN).astimezone(BERLIN)
    assert (result.date(), result.time()) == (date(2026, 3, 29), time(3, 0))
    result = local_to_utc(date(2026, 3, 8), time(2, 15), NEW_YORK).astimezone(NEW_YORK)
    assert (result.date(), result.time()) == (date(2026, 3, 8), time(3, 0))


def test_gap_that_skips_a_whole_day_moves_to_the_next_valid_minute() -> None:
    # Samoa skipped 2011-12-30 entirely when it crossed the date line.
    result = local_to_utc(date(2011, 12, 30), time(8), ZoneInfo("Pacific/Apia"))
    local = result.astimezone(ZoneInfo("Pacific/Apia"))
    assert (local.date(), local.time()) == (date(2011, 12, 31), time(0, 0))


def test_fold_uses_the_first_occurrence_whatever_fold_the_time_carries() -> None:
    first = local_to_utc(date(2026, 10, 25), time(2, 30, fold=1), BERLIN)
    assert first == utc(2026, 10, 25, 0, 30)


# --- slots_between: the standard plan --------------------------------------------------------


def test_standard_plan_titration_doses() -> None:
    plan = standard_plan(date(2026, 1, 5))
    start, end = local_window(BERLIN, date(2026, 1, 5), date(2026, 1, 16))
    slots = slots_between(plan, BERLIN, start, end)

    assert len(slots) == 36
    assert [slot.due_utc for slot in slots] == sorted(slot.due_utc for slot in slots)
    assert Counter(slot.local_date for slot in slots) == {
        date(2026, 1, 5) + timedelta(days=offset): 3 for offset in range(12)
    }
    assert [slot.day_number for slot in slots] == [day for day in range(1, 13) for _ in range(3)]
    assert not any(slot.is_maintenance for slot in slots)
    assert {slot.step_count for slot in slots} == {4}

    starts = [slot for slot in slots if slot.is_step_start]
    assert [slot.day_number for slot in starts] == [1, 4, 7, 10]
    assert [slot.step_number for slot in starts] == [1, 2, 3, 4]
    assert [slot.mg for slot in starts] == [5, 10, 15, 20]
    assert all(slot.local_time == time(8) and slot.step_day == 1 for slot in starts)

    for slot in slots:
        assert slot.step_number == (slot.day_number - 1) // 3 + 1
        assert slot.step_day == (slot.day_number - 1) % 3 + 1
        assert slot.mg == Decimal(5) * slot.step_number

    last = [slot for slot in slots if slot.is_last_step_dose]
    assert len(last) == 1
    assert (last[0].day_number, last[0].local_date, last[0].local_time) == (
        12,
        date(2026, 1, 16),
        time(20),
    )
    assert last[0].due_utc == utc(2026, 1, 16, 19, 0)


def test_standard_plan_slot_fields() -> None:
    plan = standard_plan(date(2026, 1, 5))
    slots = slots_between(plan, BERLIN, utc(2026, 1, 9, 0), utc(2026, 1, 10, 0))
    assert slots[0] == DoseSlot(
        due_utc=utc(2026, 1, 9, 7, 0),
        local_date=date(2026, 1, 9),
        local_time=time(8),
        mg=Decimal(10),
        step_number=2,
        step_count=4,
        day_number=5,
        step_day=2,
        is_step_start=False,
        is_maintenance=False,
        is_last_step_dose=False,
    )


def test_maintenance_continues_with_the_target_dose() -> None:
    plan = standard_plan(date(2026, 1, 5))
    start, end = local_window(BERLIN, date(2026, 1, 17), date(2026, 4, 30))
    slots = slots_between(plan, BERLIN, start, end)

    days = (date(2026, 4, 30) - date(2026, 1, 17)).days + 1
    assert len(slots) == 3 * days
    assert all(slot.is_maintenance for slot in slots)
    assert {slot.mg for slot in slots} == {Decimal(20)}
    assert {slot.step_number for slot in slots} == {4}
    assert not any(slot.is_step_start or slot.is_last_step_dose for slot in slots)
    assert slots[0].day_number == 13
    assert slots[0].step_day == 4


def test_target_dose_plan_maintains_the_target() -> None:
    plan = parse_standard_command(
        ["2026-03-02", "08:00", "14:00", "20:00", "target=10"], date(2026, 3, 1)
    )
    slots = slots_between(plan, BERLIN, utc(2026, 3, 20), utc(2026, 3, 21))
    assert [slot.mg for slot in slots] == [10, 10, 10]
    assert all(slot.is_maintenance and slot.step_number == 2 for slot in slots)


def test_window_bounds_are_start_inclusive_end_exclusive() -> None:
    plan = standard_plan(date(2026, 1, 5))
    due = utc(2026, 1, 6, 13, 0)  # 14:00 in Berlin
    assert [
        slot.due_utc for slot in slots_between(plan, BERLIN, due, due + timedelta(hours=1))
    ] == [due]
    assert slots_between(plan, BERLIN, due - timedelta(hours=1), due) == []
    assert slots_between(plan, BERLIN, due, due) == []
    assert slots_between(plan, BERLIN, due + timedelta(hours=1), due) == []


def test_nothing_before_the_plan_starts() -> None:
    plan = standard_plan(date(2026, 1, 5))
    assert slots_between(plan, BERLIN, utc(2025, 12, 1), utc(2026, 1, 5, 6, 59)) == []
    slots = slots_between(plan, BERLIN, utc(2025, 12, 1), utc(2026, 1, 6))
    assert [slot.local_time for slot in slots] == list(THREE_TIMES)
    assert slots[0].is_step_start


def test_window_must_be_aware() -> None:
    plan = standard_plan(date(2026, 1, 5))
    with pytest.raises(ValueError, match="aware"):
        slots_between(plan, BERLIN, datetime(2026, 1, 5), utc(2026, 1, 6))  # noqa: DTZ001
    with pytest.raises(ValueError, match="aware"):
        slots_between(plan, BERLIN, utc(2026, 1, 5), datetime(2026, 1, 6))  # noqa: DTZ001


def test_window_in_another_offset_is_the_same_instant() -> None:
    plan = standard_plan(date(2026, 1, 5))
    kolkata = ZoneInfo("Asia/Kolkata")
    in_utc = slots_between(plan, BERLIN, utc(2026, 1, 8), utc(2026, 1, 9))
    shifted = slots_between(
        plan,
        BERLIN,
        utc(2026, 1, 8).astimezone(kolkata),
        utc(2026, 1, 9).astimezone(kolkata),
    )
    assert in_utc == shifted


def test_cost_depends_on_the_window_not_the_plan_age(monkeypatch: pytest.MonkeyPatch) -> None:
    plan = standard_plan(date(2020, 1, 1))
    calls = 0
    real = schedule.local_to_utc

    def counting(day: date, at: time, zone: ZoneInfo) -> datetime:
        nonlocal calls
        calls += 1
        return real(day, at, zone)

    monkeypatch.setattr(schedule, "local_to_utc", counting)
    slots = slots_between(plan, BERLIN, utc(2026, 6, 1), utc(2026, 6, 2))
    assert len(slots) == 3
    assert slots[0].day_number == (date(2026, 6, 1) - date(2020, 1, 1)).days + 1
    assert calls <= 4 * 3  # the window's local days plus one either side, three times each


# --- slots_between across DST ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone_name", "first", "last"),
    [
        ("Europe/Berlin", date(2026, 3, 26), date(2026, 4, 2)),
        ("Europe/Berlin", date(2026, 10, 22), date(2026, 10, 29)),
        ("America/New_York", date(2026, 3, 5), date(2026, 3, 12)),
        ("America/New_York", date(2026, 10, 29), date(2026, 11, 5)),
    ],
)
def test_one_dose_per_planned_time_per_local_day_across_dst(
    zone_name: str, first: date, last: date
) -> None:
    zone = ZoneInfo(zone_name)
    times = (time(1, 30), time(2, 30), time(8), time(20))  # includes times inside gap / fold
    plan = standard_plan(first, times)
    start, end = local_window(zone, first, last)
    slots = slots_between(plan, zone, start, end)

    days = (last - first).days + 1
    assert len(slots) == days * len(times)
    assert Counter((slot.local_date, slot.local_time) for slot in slots) == {
        (first + timedelta(days=offset), at): 1 for offset in range(days) for at in times
    }
    assert len({slot.due_utc for slot in slots if slot.local_time != time(2, 30)}) == days * 3
    for slot in slots:
        local = slot.due_utc.astimezone(zone)
        assert local.date() == slot.local_date
        if slot.local_time != time(2, 30):
            assert local.time() == slot.local_time


def test_autumn_fold_dose_fires_once_at_the_first_occurrence() -> None:
    plan = standard_plan(date(2026, 10, 20), (time(2, 30),))
    slots = slots_between(plan, BERLIN, utc(2026, 10, 24, 12), utc(2026, 10, 26, 12))
    assert [slot.due_utc for slot in slots] == [
        utc(2026, 10, 25, 0, 30),  # 02:30 CEST, the first 02:30 of the night
        utc(2026, 10, 26, 1, 30),  # 02:30 CET the next night
    ]


def test_spring_gap_dose_fires_at_the_end_of_the_gap() -> None:
    plan = standard_plan(date(2026, 3, 20), (time(2, 30), time(8)))
    slots = slots_between(plan, BERLIN, utc(2026, 3, 29), utc(2026, 3, 30))
    assert [(slot.local_time, slot.due_utc) for slot in slots] == [
        (time(2, 30), utc(2026, 3, 29, 1, 0)),
        (time(8), utc(2026, 3, 29, 6, 0)),
    ]


@pytest.mark.parametrize(
    ("zone_name", "first_due"),
    [
        ("Pacific/Kiritimati", utc(2026, 2, 28, 18, 0)),
        ("Pacific/Tongatapu", utc(2026, 2, 28, 19, 0)),
        ("Asia/Kolkata", utc(2026, 3, 1, 2, 30)),
        ("Etc/GMT+12", utc(2026, 3, 1, 20, 0)),
    ],
)
def test_far_offsets_keep_local_days(zone_name: str, first_due: datetime) -> None:
    zone = ZoneInfo(zone_name)
    plan = standard_plan(date(2026, 3, 1))
    start, end = local_window(zone, date(2026, 3, 1), date(2026, 3, 3))
    slots = slots_between(plan, zone, start, end)
    assert len(slots) == 9
    assert slots[0].due_utc == first_due
    assert slots[0].day_number == 1
    assert [slot.day_number for slot in slots] == [1, 1, 1, 2, 2, 2, 3, 3, 3]
    # a UTC-day window catches the doses of the right local days only
    utc_day = slots_between(plan, zone, utc(2026, 3, 2), utc(2026, 3, 3))
    assert all(utc(2026, 3, 2) <= slot.due_utc < utc(2026, 3, 3) for slot in utc_day)
    assert len(utc_day) == 3


# --- tapers ----------------------------------------------------------------------------------


def taper(ends: bool) -> Plan:
    steps = tuple(
        Step.same_at(TAPER_TIMES, Decimal(mg), days) for mg, days in ((15, 3), (10, 3), (5, 2))
    )
    return Plan("taper", date(2026, 5, 1), steps, ends)


TAPER_TIMES = (time(8), time(20))


def test_taper_that_ends_yields_nothing_after_the_last_step() -> None:
    plan = taper(ends=True)
    slots = slots_between(plan, BERLIN, utc(2026, 4, 1), utc(2026, 12, 31))
    assert len(slots) == 2 * 8
    assert [slot.mg for slot in slots] == [15] * 6 + [10] * 6 + [5] * 4
    assert slots[-1].local_date == date(2026, 5, 8) == plan.last_step_day()
    assert slots[-1].is_last_step_dose
    assert [slot.is_last_step_dose for slot in slots].count(True) == 1
    assert not any(slot.is_maintenance for slot in slots)
    assert slots_between(plan, BERLIN, utc(2026, 5, 9), utc(2027, 5, 9)) == []


def test_taper_without_stop_keeps_the_last_dose() -> None:
    plan = taper(ends=False)
    slots = slots_between(plan, BERLIN, utc(2026, 5, 9), utc(2026, 5, 11))
    assert len(slots) == 4
    assert all(slot.is_maintenance and slot.mg == 5 for slot in slots)


# --- step_on ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 1, 4), None),
        (date(2026, 1, 5), (1, Step.same_at(THREE_TIMES, Decimal(5), 3))),
        (date(2026, 1, 7), (1, Step.same_at(THREE_TIMES, Decimal(5), 3))),
        (date(2026, 1, 8), (2, Step.same_at(THREE_TIMES, Decimal(10), 3))),
        (date(2026, 1, 14), (4, Step.same_at(THREE_TIMES, Decimal(20), 3))),
        (date(2026, 1, 16), (4, Step.same_at(THREE_TIMES, Decimal(20), 3))),
        (date(2026, 1, 17), (4, Step.same_at(THREE_TIMES, Decimal(20), 3))),
        (date(2030, 1, 1), (4, Step.same_at(THREE_TIMES, Decimal(20), 3))),
    ],
)
def test_step_on_standard_plan(day: date, expected: tuple[int, Step] | None) -> None:
    assert step_on(standard_plan(date(2026, 1, 5)), day) == expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 4, 30), None),
        (date(2026, 5, 1), (1, Step.same_at(TAPER_TIMES, Decimal(15), 3))),
        (date(2026, 5, 8), (3, Step.same_at(TAPER_TIMES, Decimal(5), 2))),
        (date(2026, 5, 9), None),
    ],
)
def test_step_on_ending_taper(day: date, expected: tuple[int, Step] | None) -> None:
    assert step_on(taper(ends=True), day) == expected


def test_window_in_a_zone_with_a_fold_is_compared_as_instants() -> None:
    plan = standard_plan(date(2026, 10, 20), (time(2, 30),))
    # 02:00 CEST (first) to 02:59 CET (second): a window of about two real hours
    start = datetime(2026, 10, 25, 2, 0, tzinfo=BERLIN)
    end = datetime(2026, 10, 25, 2, 59, fold=1, tzinfo=BERLIN)
    slots = slots_between(plan, BERLIN, start, end)
    assert [slot.due_utc for slot in slots] == [utc(2026, 10, 25, 0, 30)]


def test_two_doses_in_a_spring_gap_keep_their_spacing() -> None:
    """Issue 19: 02:10 and 02:40 on the night Berlin skips 02:00-03:00 both moved to 03:00."""
    plan = Plan(
        kind="custom",
        start=date(2026, 3, 29),
        steps=(Step.same_at((time(2, 10), time(2, 40)), Decimal(5), 3),),
        ends_after_last_step=False,
    )
    slots = slots_between(plan, BERLIN, utc(2026, 3, 28, 12), utc(2026, 3, 30))
    assert [slot.due_utc for slot in slots] == [utc(2026, 3, 29, 1, 0), utc(2026, 3, 29, 1, 30)]
