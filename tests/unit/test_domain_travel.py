"""Travel across time zones (bot.domain.travel): the dose clock of "keep home times", "at once"
and "gradually", proven over random zone pairs, plans and start instants."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.domain.plans import Plan, Step
from bot.domain.safety import window
from bot.domain.schedule import DoseSlot, local_to_utc, slots_between
from bot.domain.travel import (
    MAX_STEP,
    MIN_GAP,
    Choice,
    Move,
    TravelZone,
    parse_zone,
    settled,
    spec,
    travel_zone,
)

ZONES = (
    "Europe/Moscow",
    "America/New_York",
    "Pacific/Kiritimati",  # +14
    "Pacific/Tongatapu",  # +13
    "Etc/GMT+12",  # -12
    "Asia/Kolkata",  # +05:30
    "Asia/Kathmandu",  # +05:45
    "Europe/Berlin",  # daylight saving time
    "Australia/Sydney",  # daylight saving time in the other half of the year
    "UTC",
)
MOSCOW = ZoneInfo("Europe/Moscow")
NEW_YORK = ZoneInfo("America/New_York")
DAYS = 17  # longer than the longest change (26 hours at 2 hours a day)


def plan_of(times: list[time], start: date = date(2025, 12, 1)) -> Plan:
    return Plan("custom", start, (Step.same_at(times, Decimal(10), 3),), False)


def min_gap(times: list[time]) -> timedelta:
    """The plan's own smallest spacing, across midnight too."""
    minutes = [at.hour * 60 + at.minute for at in times]
    gaps = [b - a for a, b in pairwise(minutes)] + [minutes[0] + 24 * 60 - minutes[-1]]
    return timedelta(minutes=min(gaps))


def slots(plan: Plan, zone: ZoneInfo, start: datetime, wider: int = 0) -> list[DoseSlot]:
    return slots_between(
        plan, zone, start - timedelta(days=2 + wider), start + timedelta(days=DAYS + wider)
    )


def _clock_change(zone: ZoneInfo, day: date) -> timedelta:
    """How much ``zone``'s offset changes around two plan days (daylight-saving time)."""
    first = datetime.combine(day - timedelta(days=1), time(0), tzinfo=UTC)
    offsets = [
        (first + timedelta(hours=hours)).astimezone(zone).utcoffset() or timedelta(0)
        for hours in range(0, 24 * 4, 3)
    ]
    return max(offsets) - min(offsets)


@st.composite
def plans(draw: st.DrawFn) -> list[time]:
    """1 to 6 doses a day at random times (close ones too: a prescriber may set them)."""
    count = draw(st.integers(1, 6))
    minutes = draw(
        st.lists(st.integers(0, 24 * 60 - 1), min_size=count, max_size=count, unique=True)
    )
    return [time(m // 60, m % 60) for m in sorted(minutes)]


starts = st.datetimes(
    min_value=datetime(2026, 1, 1),  # noqa: DTZ001 - hypothesis adds the zone
    max_value=datetime(2027, 12, 31),  # noqa: DTZ001
    timezones=st.just(UTC),
).map(lambda at: at.replace(second=0, microsecond=0))
zones = st.sampled_from(ZONES).map(ZoneInfo)


_Keyed = dict[tuple[date, time], datetime]


def _keyed(schedule: list[DoseSlot]) -> _Keyed:
    """Each dose's UTC instant by its local day and time."""
    return {(slot.local_date, slot.local_time): slot.due_utc for slot in schedule}


def _during_the_change(
    moved: list[DoseSlot], start: datetime, ends: datetime | None
) -> Iterator[tuple[DoseSlot, DoseSlot]]:
    """Successive doses of the change itself, not of the home or the local schedule (whose
    own DST changes are theirs)."""
    for earlier, later in pairwise(moved):
        if later.due_utc < start or (ends is not None and earlier.due_utc >= ends):
            continue
        yield earlier, later


def _assert_the_spacing_is_kept(
    times: list[time], moved: list[DoseSlot], start: datetime, ends: datetime | None
) -> None:
    """No two doses closer than the plan's own spacing (capped at MIN_GAP), so never inside
    the dose-safety window of the plan's spacing."""
    floor = window(min_gap(times))
    for earlier, later in _during_the_change(moved, start, ends):
        gap = later.due_utc - earlier.due_utc
        assert gap >= floor, (earlier, later)
        if later.due_utc >= start and later.local_date != earlier.local_date:
            planned = datetime.combine(later.local_date, later.local_time) - datetime.combine(
                earlier.local_date, earlier.local_time
            )
            assert gap >= min(planned, MIN_GAP) - timedelta(hours=1)  # an hour: DST


def _assert_no_dose_dropped(moved: list[DoseSlot], per_plan_day: int) -> None:
    """Every plan day of the change has all of its doses, once each."""
    per_day = Counter(slot.local_date for slot in moved)
    days = sorted(per_day)
    for day in days[1:-1]:
        assert per_day[day] == per_plan_day, day
    assert days == [days[0] + timedelta(days=n) for n in range(len(days))]


def _assert_at_most_two_hours_a_day(
    moved: list[DoseSlot], at_home: _Keyed, start: datetime, home: ZoneInfo, local: ZoneInfo
) -> None:
    """The doses move at most 2 hours a plan day (plus a clock change of either zone)."""
    shifts = {
        (slot.local_date, slot.local_time): slot.due_utc
        - at_home[(slot.local_date, slot.local_time)]
        for slot in moved
        if slot.due_utc >= start
    }
    for day, at in shifts:
        following = (day + timedelta(days=1), at)
        if following not in shifts:
            continue
        step = abs(shifts[following] - shifts[(day, at)])
        clocks = _clock_change(home, day) + _clock_change(local, day)
        assert step <= MAX_STEP + clocks, (day, following, shifts)


@settings(max_examples=300, deadline=None)
@given(times=plans(), home=zones, local=zones, start=starts)
# Found by a random search (2026-12-04): Berlin to Moscow, starting the night Berlin's clocks
# go forward, with a dose time inside the missing hour.
@example(
    times=[time(0, 1), time(2, 1)],
    home=ZoneInfo("Europe/Berlin"),
    local=ZoneInfo("Europe/Moscow"),
    start=datetime(2026, 3, 29, 0, 0, tzinfo=UTC),
)
@example(
    times=[time(0, 0), time(2, 0), time(2, 1)],
    home=ZoneInfo("Europe/Berlin"),
    local=ZoneInfo("Europe/Moscow"),
    start=datetime(2026, 3, 29, 0, 0, tzinfo=UTC),
)
def test_gradual_change_keeps_spacing_and_every_dose_and_ends_on_local_times(
    times: list[time], home: ZoneInfo, local: ZoneInfo, start: datetime
) -> None:
    plan = plan_of(times)
    zone = travel_zone(plan, home, local, start, Choice.GRADUAL)
    moved = slots(plan, zone, start)
    at_home = _keyed(slots(plan, home, start, 2))
    # Nothing before the change moves.
    for slot in moved:
        if slot.due_utc < start:
            assert slot.due_utc == at_home[(slot.local_date, slot.local_time)]
    ends = zone.ends if isinstance(zone, TravelZone) else start
    # Until the first move the doses are on the home clock, spaced by its own clock changes
    # (Berlin's missing hour puts 02:01 at 03:00, 1 h 59 after 00:01): not the change's doing.
    moving = zone.moves[0].at if isinstance(zone, TravelZone) and zone.moves else start
    _assert_the_spacing_is_kept(times, moved, moving, ends)
    _assert_no_dose_dropped(moved, len(times))
    # It ends on the local times: every dose the local clock puts after the change's end is
    # where the local clock puts it (one it puts before, already passed, was the change's).
    assert isinstance(zone, TravelZone) or zone is local
    if isinstance(zone, TravelZone):
        assert ends is not None and ends <= start + timedelta(days=DAYS - 3)
        local_slots = _keyed(slots(plan, local, start, 2))
        for slot in moved:
            there = local_slots[(slot.local_date, slot.local_time)]
            if slot.due_utc >= ends and there >= ends:
                assert slot.due_utc == there
        _assert_at_most_two_hours_a_day(moved, at_home, start, home, local)
        # Stored and read back, the zone is the same clock.
        again = parse_zone(spec(zone))
        assert [slot.due_utc for slot in slots(plan, again, start)] == [
            slot.due_utc for slot in moved
        ]


@settings(max_examples=150, deadline=None)
@given(times=plans(), home=zones, local=zones, start=starts)
def test_home_times_stay_where_they_are_in_utc(
    times: list[time], home: ZoneInfo, local: ZoneInfo, start: datetime
) -> None:
    plan = plan_of(times)
    zone = travel_zone(plan, home, local, start, Choice.HOME)
    assert zone.key == local.key  # texts name the zone the patient is in
    assert [slot.due_utc for slot in slots(plan, zone, start)] == [
        slot.due_utc for slot in slots(plan, home, start)
    ]


@settings(max_examples=100, deadline=None)
@given(times=plans(), home=zones, local=zones, start=starts)
def test_at_once_is_the_local_zone_from_the_start(
    times: list[time], home: ZoneInfo, local: ZoneInfo, start: datetime
) -> None:
    plan = plan_of(times)
    assert travel_zone(plan, home, local, start, Choice.AT_ONCE) is local


def test_moscow_to_new_york_moves_two_hours_a_day_later() -> None:
    plan = plan_of([time(8), time(14), time(20)])
    start = datetime(2026, 12, 2, 18, 0, tzinfo=UTC)  # 21:00 in Moscow, after the last dose
    zone = travel_zone(plan, MOSCOW, NEW_YORK, start, Choice.GRADUAL)
    assert isinstance(zone, TravelZone)
    first = [
        slot.due_utc.astimezone(NEW_YORK).strftime("%d %H:%M")
        for slot in slots_between(plan, zone, start, start + timedelta(days=5))
        if slot.local_time == time(8)
    ]
    # 08:00 in Moscow is midnight in New York: 02:00, 04:00, 06:00, then 08:00 local.
    assert first == ["03 02:00", "04 04:00", "05 06:00", "06 08:00", "07 08:00"]
    assert settled(zone, start + timedelta(days=5)) == NEW_YORK


def test_new_york_to_moscow_moves_earlier_without_a_dose_now() -> None:
    plan = plan_of([time(8), time(14), time(20)])
    start = datetime(2026, 12, 2, 18, 0, tzinfo=UTC)  # 13:00 in New York
    zone = travel_zone(plan, NEW_YORK, MOSCOW, start, Choice.GRADUAL)
    moved = slots_between(plan, zone, start, start + timedelta(days=6))
    assert moved[0].due_utc >= start + timedelta(minutes=30)
    at_local = slots_between(plan, MOSCOW, start, start + timedelta(days=8))
    assert [slot.due_utc for slot in moved[-6:]] == [
        slot.due_utc for slot in at_local if slot.due_utc >= moved[-6].due_utc
    ][:6]


@pytest.mark.parametrize("text", ["", "Nowhere/City", "America/New_York|Europe/Moscow"])
def test_parse_zone_refuses_what_is_not_a_zone(text: str) -> None:
    with pytest.raises(ValueError, match="not a zone"):
        parse_zone(text)


@settings(max_examples=200, deadline=None)
@given(
    times=plans(),
    home=zones,
    middle=zones,
    local=zones,
    start=starts,
    after=st.integers(1, 5 * 24 * 60),
    new_times=st.one_of(st.none(), plans()),
)
def test_a_change_under_way_goes_on_from_where_it_moved_the_doses(
    times: list[time],
    home: ZoneInfo,
    middle: ZoneInfo,
    local: ZoneInfo,
    start: datetime,
    after: int,
    new_times: list[time] | None,
) -> None:
    """Another destination (or a new plan) before the first change ended: nothing before the
    second change moves, no two doses come closer than either plan's spacing (and MIN_GAP),
    and it ends on the last zone's local times."""
    plan = plan_of(times)
    first = travel_zone(plan, home, middle, start, Choice.GRADUAL)
    second_start = start + timedelta(minutes=after)
    second_plan = plan_of(new_times) if new_times is not None else plan
    zone = travel_zone(second_plan, first, local, second_start, Choice.GRADUAL)
    before = [
        slot.due_utc
        for slot in slots_between(plan, first, second_start - timedelta(days=2), second_start)
    ]
    again = [
        slot.due_utc
        for slot in slots_between(plan, zone, second_start - timedelta(days=2), second_start)
    ]
    if new_times is None:
        assert again == before  # the past the rules look back on stays as it was
    moved = slots(second_plan, zone, second_start)
    floor = min(window(min_gap(times)), window(min_gap(new_times or times)))
    ends = zone.ends if isinstance(zone, TravelZone) else second_start
    for earlier, later in _during_the_change(moved, second_start, ends):
        if earlier.due_utc < second_start and new_times is not None:
            continue  # the old plan's last dose: the check guards a new plan's first gap
        assert later.due_utc - earlier.due_utc >= floor, (earlier, later)
    if isinstance(zone, TravelZone):
        assert zone.ends is not None
        local_slots = _keyed(slots(second_plan, local, second_start, 2))
        for slot in moved:
            if slot.due_utc >= zone.ends:
                expected = local_slots[(slot.local_date, slot.local_time)]
                # A new plan's dose time that had already passed by the local clock when the
                # change ended comes as it ends (its gap kept), not in the past.
                late = new_times is not None and expected < zone.ends <= slot.due_utc < (
                    zone.ends + timedelta(hours=1)
                )
                assert slot.due_utc == expected or late, (slot, expected, zone.ends)


def test_gradual_change_on_a_spring_forward_night_keeps_two_hours() -> None:
    """Found by Hypothesis on 2026-12-03: doses at 00:02 and 02:02, Berlin to Kiritimati
    from 28 March 2026. The 02:02 dose sat in Berlin's spring-forward gap before the day's
    move, the next move was placed after its estimate (a minute early) and pushed it to
    1 h 59 min after the 00:02 dose. The day's last dose is now read on the moved clock."""
    test_gradual_change_keeps_spacing_and_every_dose_and_ends_on_local_times.hypothesis.inner_test(  # type: ignore[attr-defined]
        times=[time(0, 2), time(2, 2)],
        home=ZoneInfo("Europe/Berlin"),
        local=ZoneInfo("Pacific/Kiritimati"),
        start=datetime(2026, 3, 28, 0, 0, tzinfo=UTC),
    )


def test_gradual_change_new_york_to_berlin_over_the_american_clock_change() -> None:
    """Found by Hypothesis: New York to Berlin from 6 March 2026. On 8 March the 06:03 dose of
    the moving clock falls in New York's spring-forward gap (it is taken at the gap's end,
    07:00 UTC) and the last move comes a minute later. The gap's end was searched for as "the
    instant with the offset after the change", which held only in that one minute, so the dose
    was read at 07:03 UTC: after the move, on the wrong side of the end of the change. The
    search now looks for the first instant whose wall time is past the dose time."""
    test_gradual_change_keeps_spacing_and_every_dose_and_ends_on_local_times.hypothesis.inner_test(  # type: ignore[attr-defined]
        times=[time(0, 0), time(0, 43), time(2, 53), time(6, 3)],
        home=ZoneInfo("America/New_York"),
        local=ZoneInfo("Europe/Berlin"),
        start=datetime(2026, 3, 6, 5, 0, tzinfo=UTC),
    )


def test_a_wall_time_between_two_close_clock_changes_goes_to_the_end_of_its_own_gap() -> None:
    """New York springs forward at 07:00 UTC on 8 March 2026 (the dose clock, 4 hours ahead of
    it, from 06:00 to 07:00); a move to Berlin a minute later jumps it again (07:01 -> 08:01).
    06:03 lies in the first gap: it is taken at that gap's end, 07:00 UTC, not after the move."""
    new_york, berlin = ZoneInfo("America/New_York"), ZoneInfo("Europe/Berlin")
    started = datetime(2026, 3, 6, 5, 0, tzinfo=UTC)
    zone = TravelZone.make(
        new_york,
        berlin,
        Choice.GRADUAL,
        started,
        (Move(started, timedelta(hours=4)), Move(datetime(2026, 3, 8, 7, 1, tzinfo=UTC), None)),
    )
    assert local_to_utc(date(2026, 3, 8), time(6, 3), zone) == datetime(
        2026, 3, 8, 7, 0, tzinfo=UTC
    )
    assert local_to_utc(date(2026, 3, 8), time(7, 30), zone) == datetime(
        2026, 3, 8, 7, 1, tzinfo=UTC
    )
