"""Real prescriptions: a dose for each time of day, steps that add or drop dose times.

The typed syntax (``/schedule custom today 22:00=5 x3, 08:00=5 22:00=5 x3``) as pure parsing
and as properties, its expansion across DST, and the three example prescriptions of issue 11
through the Bot API stand-in with the fake clock.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.checkins import asks_before_increase
from bot.domain.plans import (
    Dose,
    Plan,
    PlanError,
    Step,
    format_steps,
    parse_custom_command,
    parse_dose_steps,
    parse_taper_command,
    step_change,
)
from bot.domain.schedule import local_to_utc, slots_between
from tests.conftest import RunningBot
from tests.reminder_helpers import advance_until_messages, save_plan, tap
from tests.said import opening

TODAY = date(2026, 3, 1)
USER = 7007

NIGHT_FIRST = "22:00=5 x3, 08:00=5 22:00=5 x3, 08:00=5 14:00=5 22:00=5 x3"
UNEVEN = "08:00=5 13:00=5 22:00=10 x7"
TAPER_DROPS_A_TIME = "08:00=10 14:00=10 22:00=10 x5, 08:00=10 22:00=10 x5, 08:00=5 22:00=5 x5"


def d(at: str, mg: str) -> Dose:
    hour, minute = at.split(":")
    return Dose(time(int(hour), int(minute)), Decimal(mg))


def test_the_night_first_build_up() -> None:
    plan = parse_custom_command(["today", *NIGHT_FIRST.split()], TODAY)
    assert plan.steps == (
        Step((d("22:00", "5"),), 3),
        Step((d("08:00", "5"), d("22:00", "5")), 3),
        Step((d("08:00", "5"), d("14:00", "5"), d("22:00", "5")), 3),
    )
    assert [step.daily_mg for step in plan.steps] == [5, 10, 15]
    change = step_change(plan.steps[0], plan.steps[1])
    assert (change.direction, change.added, change.dropped) == ("up", (time(8),), ())


def test_uneven_doses_and_a_taper_that_drops_a_time_first() -> None:
    uneven = parse_custom_command(["today", *UNEVEN.split()], TODAY)
    assert uneven.steps[0].daily_mg == 20
    assert uneven.steps[0].uniform_mg is None
    taper = parse_taper_command(["today", *TAPER_DROPS_A_TIME.split(), "stop"], TODAY)
    change = step_change(taper.steps[0], taper.steps[1])
    assert (change.direction, change.dropped) == ("down", (time(14),))


@pytest.mark.parametrize(
    ("text", "code", "params"),
    [
        ("22:00=5", "step_days_missing", {"value": "22:00=5"}),
        ("22:00=5 x3, 08:00=5", "step_days_missing", {"value": "08:00=5"}),
        ("22:00= x3", "dose_format", {"value": "22:00="}),
        ("=5 x3", "dose_format", {"value": "=5"}),
        ("22:00 x3", "step_format", {"value": "x3"}),  # the shorthand wants <mg>x<days>
        ("22:00=five x3", "mg_format", {"value": "five"}),
        ("25:00=5 x3", "time_format", {"value": "25:00"}),
        ("22:00=5 22:00=5 x3", "time_duplicate", {"value": "22:00"}),
        ("22:00=5 x0", "days_range", {"value": "0", "max": "365"}),
        ("22:00=5 x3 08:00=5", "step_days_missing", {"value": "22:00=5 x3 08:00=5"}),
        ("22:00=150 x3", "mg_range", {"value": "150", "max": "100"}),
    ],
)
def test_bad_prescriptions_name_what_is_wrong(text: str, code: str, params: dict[str, str]) -> None:
    with pytest.raises(PlanError) as info:
        parse_custom_command(["today", *text.split()], TODAY)
    assert (info.value.code, info.value.params) == (code, params)


def test_the_old_shorthand_still_works() -> None:
    plan = parse_custom_command(["today", "08:00,20:00", "5x3", "10x3"], TODAY)
    assert plan.steps[1] == Step((d("08:00", "10"), d("20:00", "10")), 3)


TIMES = st.sets(st.integers(0, 24 * 60 - 1), min_size=1, max_size=6)
HALVES = st.integers(1, 200)


@st.composite
def steps(draw: st.DrawFn) -> Step:
    minutes = sorted(draw(TIMES))
    doses = tuple(Dose(time(m // 60, m % 60), Decimal(draw(HALVES)) / 2) for m in minutes)
    return Step(doses, draw(st.integers(1, 365)))


@given(st.lists(steps(), min_size=1, max_size=30))
def test_the_syntax_round_trips(plan_steps: list[Step]) -> None:
    text = format_steps(plan_steps)
    assert parse_dose_steps(text) == tuple(plan_steps)
    # What a patient types: any spacing, a space between x and the days, mg units.
    loose = text.replace(" x", "  X ").replace(",", " ,  ")
    assert parse_dose_steps(loose) == tuple(plan_steps)


ZONES = ["Europe/Berlin", "America/New_York", "Asia/Kolkata", "Pacific/Tongatapu", "Etc/GMT+12"]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(steps(), min_size=1, max_size=4),
    st.sampled_from(ZONES),
    st.sampled_from([date(2026, 3, 5), date(2026, 3, 27), date(2026, 10, 22), date(2026, 10, 30)]),
)
def test_expansion_gives_each_day_exactly_its_steps_doses(
    plan_steps: list[Step], zone_name: str, start: date
) -> None:
    """Across DST changes: every planned (day, time) appears once, with its own mg, at the
    instant of that wall time in the zone; the instants are in order."""
    short = [Step(step.doses, min(step.days, 5)) for step in plan_steps]
    plan = Plan("custom", start, tuple(short), False)
    zone = ZoneInfo(zone_name)
    begin = datetime.combine(start, time(0), tzinfo=UTC) - timedelta(days=1)
    slots = slots_between(plan, zone, begin, begin + timedelta(days=25))
    expected: list[tuple[date, time, Decimal]] = []
    day = start
    for step in short:
        for _ in range(step.days):
            expected.extend((day, dose.at, dose.mg) for dose in step.doses)
            day += timedelta(days=1)
    got = [(slot.local_date, slot.local_time, slot.mg) for slot in slots]
    assert got[: len(expected)] == sorted(expected, key=lambda item: (item[0], item[1]))
    for slot in slots:
        planned = local_to_utc(slot.local_date, slot.local_time, zone)
        if slot.due_utc != planned:
            # Two dose times in one spring-forward gap keep their spacing instead of landing
            # on the same minute (issue 19): the later one moves on by less than the gap.
            assert planned < slot.due_utc < planned + timedelta(hours=1), slot
    instants = [slot.due_utc for slot in slots]
    assert instants == sorted(instants)


# ------------------------------------------------------------------ through the stand-in


def _reminder_times(bot: RunningBot) -> list[str]:
    """Every reminder sent (the messages themselves are edited once answered)."""
    return [
        call.params["text"]
        for call in bot.api.calls_of("sendMessage")
        if call.params["chat_id"] == USER and "Time for your dose" in call.params["text"]
    ]


async def test_night_first_build_up_reminds_exactly_as_prescribed(bot: RunningBot) -> None:
    """Europe/Berlin across the spring change (29 March 2026): 9 days, 18 reminders, each at
    its local time with its own mg, and notices when a dose time is added."""
    await bot.onboard(USER, zone="Europe/Berlin")
    bot.clock.set(datetime(2026, 3, 23, 12, tzinfo=UTC))
    saved = await save_plan(bot, USER, f"/schedule custom tomorrow {NIGHT_FIRST}")
    assert "Tue 24 Mar 22:00" in saved
    [plan] = await bot.say(USER, "/plan")
    assert "Step 1, 24 to 26 March (3 days): 5 mg at 22:00, 5 mg a day" in plan
    assert "Step 3, 30 March to 1 April (3 days): 5 mg three times a day" in plan
    zone = ZoneInfo("Europe/Berlin")
    stored = await bot.services.doses.active_plan(USER)
    assert stored is not None
    slots = slots_between(stored.plan, zone, bot.clock.now(), datetime(2026, 4, 2, tzinfo=UTC))
    assert len(slots) == 3 + 6 + 9
    checkins = 0
    for slot in slots:
        asks = asks_before_increase(
            stored.plan.steps, slot.step_number, slot.day_number, slot.local_time
        )
        reminder, *after = await advance_until_messages(
            bot, USER, slot.due_utc, count=2 if asks else 1
        )
        checkins += len(after)
        local = slot.due_utc.astimezone(zone).strftime("%H:%M")
        assert f"<b>5 mg</b> at {local}" in reminder["text"]
        assert local == slot.local_time.strftime("%H:%M")  # no time falls in the gap
        if slot.is_step_start and slot.step_number == 2:
            assert "New dose time from today: <b>08:00</b>" in reminder["text"]
        if slot.is_step_start and slot.step_number == 3:
            assert "New dose time from today: <b>14:00</b>" in reminder["text"]
            assert "15 mg a day" in reminder["text"]
        await tap(bot, USER, reminder, "taken")
    assert len(_reminder_times(bot)) == len(slots)
    assert checkins == 2  # the evening before each of the two increases


async def test_uneven_doses_by_buttons_free_typing_and_a_taper(bot: RunningBot) -> None:
    await bot.onboard(USER, zone="America/New_York")
    await save_plan(bot, USER, f"/schedule custom today {UNEVEN}")
    [summary] = await bot.say(USER, "/plan")
    assert "5 mg at 08:00, 5 mg at 13:00, 10 mg at 22:00, 20 mg a day" in summary
    # 2026-01-11 09:00 UTC is 04:00 in New York: the day's three doses come in order.
    got = []
    for hour in (13, 18):  # 08:00 and 13:00 local
        [reminder] = await advance_until_messages(
            bot, USER, datetime(2026, 1, 11, hour, tzinfo=UTC)
        )
        got.append(reminder["text"])
    [night] = await advance_until_messages(bot, USER, datetime(2026, 1, 12, 3, tzinfo=UTC))
    assert "<b>5 mg</b> at 08:00" in got[0]
    assert "<b>5 mg</b> at 13:00" in got[1]
    assert "<b>10 mg</b> at 22:00" in night["text"]
    saved = await save_plan(bot, USER, f"/taper tomorrow {TAPER_DROPS_A_TIME} stop", confirm=False)
    assert "Saved" in saved


async def test_the_night_first_build_up_by_buttons(bot: RunningBot) -> None:
    """The guided path: dose times, then the mg at each time and the days, step by step,
    with a running summary; the saved plan is the one typed above."""
    await bot.onboard(USER, zone="Europe/Berlin")
    await bot.say(USER, "/schedule")

    async def tap_button(data: str) -> str:
        [text] = await bot.press(USER, bot.last_message(USER)["message_id"], data, replies=1)
        return text

    await tap_button("sched:doses")
    await tap_button("sched:dstart:tomorrow")
    ask = await tap_button("sched:dtimes:2")  # 08:00 14:00 22:00
    assert "<b>Step 1</b>: how many mg at <b>08:00</b>?" in ask
    for mg in ("0", "0"):
        await tap_button(f"sched:dmg:{mg}")
    days = await tap_button("sched:dmg:5")
    assert "<b>Step 1</b>: 5 mg at 22:00. For how many days?" in days
    more = await tap_button("sched:ddays:3")
    assert "Step 1, 3 days: 5 mg at 22:00" in more
    await tap_button("sched:dnext")
    for mg in ("5", "0", "5"):
        last = await tap_button(f"sched:dmg:{mg}")
    assert "5 mg twice a day (08:00, 22:00)" in last
    await tap_button("sched:ddays:3")
    await tap_button("sched:dnext")
    for mg in ("5", "5", "5"):
        await tap_button(f"sched:dmg:{mg}")
    await tap_button("sched:ddays:3")
    summary = await tap_button("sched:ddone")
    assert opening(bot.pack, "schedule.summary") in summary
    assert (
        "Step 2, 15 to 17 January (3 days): 5 mg twice a day (08:00, 22:00), 10 mg a day"
    ) in summary
    [saved] = await bot.press(USER, bot.last_message(USER)["message_id"], "plan:save", replies=1)
    assert "Mon 12 Jan 22:00" in saved
    stored = await bot.services.doses.active_plan(USER)
    assert stored is not None
    typed = parse_custom_command(["2026-01-12", *NIGHT_FIRST.split()], date(2026, 1, 11))
    assert stored.plan.steps == typed.steps


async def test_a_step_with_no_dose_is_asked_again(bot: RunningBot) -> None:
    await bot.onboard(USER, zone="UTC")
    await bot.say(USER, "/schedule")
    for data in ("sched:doses", "sched:dstart:today", "sched:dtimes:0"):
        await bot.press(USER, bot.last_message(USER)["message_id"], data, replies=1)
    texts = await bot.press(USER, bot.last_message(USER)["message_id"], "sched:dmg:0", replies=2)
    assert "A step needs at least one dose" in texts[0]
    assert "<b>Step 1</b>: how many mg at <b>22:00</b>?" in texts[1]


async def _by_buttons(bot: RunningBot, presses: list[str]) -> str:
    """Press each button data in turn on the bot's last message; the last answer's text."""
    text = ""
    for data in presses:
        [text] = await bot.press(USER, bot.last_message(USER)["message_id"], data, replies=1)
    return text


async def test_uneven_doses_by_buttons(bot: RunningBot) -> None:
    await bot.onboard(USER, zone="America/New_York")
    await bot.say(USER, "/schedule")
    summary = await _by_buttons(
        bot,
        [
            *("sched:doses", "sched:dstart:today", "sched:dtimes:2"),  # 08:00 14:00 22:00
            *("sched:dmg:5", "sched:dmg:5", "sched:dmg:10", "sched:ddays:7", "sched:ddone"),
        ],
    )
    assert "5 mg at 08:00, 5 mg at 14:00, 10 mg at 22:00, 20 mg a day" in summary
    [saved] = await bot.press(USER, bot.last_message(USER)["message_id"], "plan:save", replies=1)
    assert "Saved" in saved


async def test_a_taper_that_drops_a_time_first_by_buttons_across_the_autumn_change(
    bot: RunningBot,
) -> None:
    """New York falls back on 1 November 2026: the taper's doses stay at their clock times."""
    await bot.onboard(USER, zone="America/New_York")
    bot.clock.set(datetime(2026, 10, 30, 12, tzinfo=UTC))
    await bot.say(USER, "/schedule")
    ask_end = await _by_buttons(
        bot,
        [
            *("sched:doses", "sched:dstart:tomorrow", "sched:dtimes:2"),
            *("sched:dmg:10", "sched:dmg:10", "sched:dmg:10", "sched:ddays:2", "sched:dnext"),
            *("sched:dmg:10", "sched:dmg:0", "sched:dmg:10", "sched:ddays:2", "sched:dnext"),
            *("sched:dmg:5", "sched:dmg:0", "sched:dmg:5", "sched:ddays:2", "sched:ddone"),
        ],
    )
    assert bot.pack.text("schedule.ask_taper_end") in ask_end
    summary = await _by_buttons(bot, ["sched:dend:stop"])
    assert "<b>Taper</b>" in summary
    assert "stops baclofen after only <b>6 days</b>" in summary  # asked once more
    [saved] = await bot.press(
        USER, bot.last_message(USER)["message_id"], "plan:save_high", replies=1
    )
    assert "Saved" in saved
    stored = await bot.services.doses.active_plan(USER)
    assert stored is not None and stored.plan.kind == "taper" and stored.plan.ends_after_last_step
    zone = ZoneInfo("America/New_York")
    slots = slots_between(stored.plan, zone, bot.clock.now(), datetime(2026, 11, 8, tzinfo=UTC))
    assert len(slots) == 3 * 2 + 2 * 2 + 2 * 2
    for slot in slots:
        reminder, *after = await advance_until_messages(bot, USER, slot.due_utc)
        assert after == []
        local = slot.due_utc.astimezone(zone).strftime("%H:%M")
        assert local == slot.local_time.strftime("%H:%M")
        assert f"at {local}" in reminder["text"]
        if slot.is_step_start and slot.step_number == 2:
            assert "No more dose at <b>14:00</b> from today." in reminder["text"]
            assert "steps down to" in reminder["text"]
        if slot.is_last_step_dose:
            assert "last dose of your taper" in reminder["text"]
        await tap(bot, USER, reminder, "taken")
