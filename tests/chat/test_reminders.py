"""Schedules and on-time reminders, driven through the Bot API stand-in with a fake clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.checkins import asks_before_increase
from bot.domain.plans import parse_standard_command
from bot.domain.schedule import slots_between
from tests.conftest import RunningBot
from tests.reminder_helpers import (
    advance_until_messages,
    dose_data,
    move_zone,
    only_undo,
    save_plan,
    tap,
)
from tests.said import opening

USER = 3003
OTHER = 3004
BERLIN = "Europe/Berlin"


async def test_standard_schedule_by_buttons(bot: RunningBot) -> None:
    """The guided flow: five taps from /schedule to a saved plan."""
    await bot.onboard(USER, zone=BERLIN)
    await bot.say(USER, "/schedule")
    steps = ["sched:standard", "sched:start:tomorrow", "sched:times:08:00,14:00,20:00"]
    for data in steps:
        await bot.press(USER, bot.last_message(USER)["message_id"], data, replies=1)
    [summary] = await bot.press(
        USER, bot.last_message(USER)["message_id"], "sched:target:20", replies=1
    )
    assert "Step 4, 21 to 23 January (3 days): 20 mg three times a day" in summary
    assert "(08:00, 14:00, 20:00), 60 mg a day" in summary
    [saved] = await bot.press(USER, bot.last_message(USER)["message_id"], "plan:save", replies=1)
    # 2026-01-11 09:00 UTC is 10:00 in Berlin; tomorrow's first dose is 08:00 local.
    assert "Mon 12 Jan 08:00" in saved
    [plan] = await bot.say(USER, "/plan")
    assert (
        "Step 1, 12 to 14 January (3 days): 5 mg three times a day"
        " (08:00, 14:00, 20:00), 15 mg a day"
    ) in plan
    assert "From 24 January: 20 mg three times a day (08:00, 14:00, 20:00), 60 mg" in plan


async def test_full_standard_titration_in_simulated_time(bot: RunningBot) -> None:
    """Every dose of the 12-day build-up arrives on time with the right words."""
    await bot.onboard(USER, zone=BERLIN)
    await save_plan(bot, USER, "/schedule standard tomorrow 08:00 14:00 20:00 target=20")
    await bot.say(USER, "/tablets 10 scored")
    plan = parse_standard_command(["2026-01-12", "08:00", "14:00", "20:00"], START_DAY)
    slots = slots_between(
        plan, ZoneInfo(BERLIN), bot.clock.now(), bot.clock.now() + timedelta(days=13, hours=12)
    )
    assert len(slots) == 36 + 3  # 12 titration days and the first maintenance day
    for slot in slots:
        checkin = asks_before_increase(
            plan.steps, slot.step_number, slot.day_number, slot.local_time
        )
        reminder, *after = await advance_until_messages(
            bot, USER, slot.due_utc, count=2 if checkin else 1
        )
        # The last dose before each increase is followed by the step check-in.
        assert [m["text"].startswith("📝 <b>Check-in before your next step") for m in after] == (
            [True] if checkin else []
        )
        text = reminder["text"]
        mg = f"{slot.mg.normalize():f}"
        at = slot.local_time.strftime("%H:%M")
        if slot.is_maintenance:
            assert f"<b>{mg} mg</b> at {at}, your maintenance dose" in text
        else:
            step = f"day {slot.day_number}, step {slot.step_number} of 4"
            assert f"<b>{mg} mg</b> at {at}, {step}" in text
        assert (opening(bot.pack, "reminder.step_up") in text) == (
            slot.is_step_start and slot.step_number > 1
        )
        assert ("last dose of your titration" in text) == slot.is_last_step_dose
        assert "tablet" in text
        edited = await tap(bot, USER, reminder, "taken")
        assert "recorded as taken" in edited["text"]
        assert only_undo(edited)
    step_days = [slot.day_number for slot in slots if slot.is_step_start and slot.step_number > 1]
    assert step_days == [4, 7, 10]
    reminder_calls = [
        call
        for call in bot.api.calls_of("sendMessage")
        if call.params["chat_id"] == USER
        and opening(bot.pack, "reminder.dose") in call.params["text"]
    ]
    assert len(reminder_calls) == len(slots)  # none twice, none lost


START_DAY = datetime(2026, 1, 11, tzinfo=UTC).date()


async def test_step_notice_mentions_tablets_for_the_users_strength(bot: RunningBot) -> None:
    await bot.onboard(USER, zone="UTC")
    await bot.say(USER, "/tablets 10")
    await save_plan(bot, USER, "/schedule custom today 10:00 15x2")
    [reminder] = await advance_until_messages(bot, USER, datetime(2026, 1, 11, 10, tzinfo=UTC))
    assert "cannot make this dose exactly" in reminder["text"]
    await tap(bot, USER, reminder, "taken")
    await bot.say(USER, "/tablets 10 scored")
    [reminder] = await advance_until_messages(bot, USER, datetime(2026, 1, 12, 10, tzinfo=UTC))
    assert "1½ × 10 mg" in reminder["text"]


# (zone, first day, times, when each of the first reminders fires in UTC)
LOCAL_TIME_CASES: list[tuple[str, str, str, list[str]]] = [
    # Spring forward in Berlin: 02:30 does not exist on 2026-03-29; it fires at 03:00 CEST.
    (
        "Europe/Berlin",
        "2026-03-28",
        "02:30,08:00",
        ["2026-03-28 01:30", "2026-03-28 07:00", "2026-03-29 01:00", "2026-03-29 06:00"],
    ),
    # Autumn back in Berlin: 02:30 happens twice on 2026-10-25; it fires once.
    (
        "Europe/Berlin",
        "2026-10-24",
        "02:30",
        ["2026-10-24 00:30", "2026-10-25 00:30", "2026-10-26 01:30"],
    ),
    # New York: spring 2026-03-08, autumn 2026-11-01 (01:30 repeats).
    ("America/New_York", "2026-03-07", "08:00", ["2026-03-07 13:00", "2026-03-08 12:00"]),
    (
        "America/New_York",
        "2026-10-31",
        "01:30",
        ["2026-10-31 05:30", "2026-11-01 05:30", "2026-11-02 06:30"],
    ),
    ("Asia/Kolkata", "2026-02-01", "08:00", ["2026-02-01 02:30"]),
    ("Pacific/Kiritimati", "2026-02-01", "08:00", ["2026-01-31 18:00"]),
    ("Pacific/Tongatapu", "2026-02-01", "08:00", ["2026-01-31 19:00"]),
    ("Etc/GMT+12", "2026-02-01", "08:00", ["2026-02-01 20:00"]),
]


@pytest.mark.parametrize(("zone", "start", "times", "expected_utc"), LOCAL_TIME_CASES)
async def test_reminders_fire_at_local_time_across_zones_and_dst(
    bot: RunningBot, zone: str, start: str, times: str, expected_utc: list[str]
) -> None:
    bot.clock.set(datetime(2026, 1, 20, 12, tzinfo=UTC))
    await bot.onboard(USER, zone=zone)
    await save_plan(bot, USER, f"/schedule custom {start} {times} 10x30")
    for utc in expected_utc:
        instant = datetime.fromisoformat(utc).replace(tzinfo=UTC)
        # One second early: nothing yet.
        before = bot.sent_count(USER)
        bot.clock.set(instant - timedelta(seconds=1))
        await bot.services.reminders.run_due()
        assert bot.sent_count(USER) == before
        [reminder] = await advance_until_messages(bot, USER, instant)
        assert opening(bot.pack, "reminder.dose") in reminder["text"]
        await tap(bot, USER, reminder, "taken")


async def test_snooze_reminds_again_after_15_minutes(bot: RunningBot) -> None:
    await bot.onboard(USER, zone="UTC")
    await save_plan(bot, USER, "/schedule custom today 10:00,18:00 10x3")
    [reminder] = await advance_until_messages(bot, USER, datetime(2026, 1, 11, 10, tzinfo=UTC))
    edited = await tap(bot, USER, reminder, "snooze")
    assert "remind you again at 10:15" in edited["text"]
    [again] = await advance_until_messages(bot, USER, datetime(2026, 1, 11, 10, 15, tzinfo=UTC))
    assert opening(bot.pack, "reminder.snoozed") in again["text"]
    assert "Taken" in str(again["reply_markup"])
    await tap(bot, USER, again, "taken")
    today = await bot.say(USER, "/today")
    assert "10:00  10 mg: ✅ taken" in today[0]
    assert "18:00  10 mg: upcoming" in today[0]


async def test_one_follow_up_when_unanswered(bot: RunningBot) -> None:
    await bot.onboard(USER, zone="UTC")
    await save_plan(bot, USER, "/schedule custom today 10:00,18:00 10x3")
    [reminder] = await advance_until_messages(bot, USER, datetime(2026, 1, 11, 10, tzinfo=UTC))
    [follow_up] = await advance_until_messages(bot, USER, datetime(2026, 1, 11, 10, 30, tzinfo=UTC))
    assert "Did you take your <b>10 mg</b> dose due at 10:00?" in follow_up["text"]
    before = bot.sent_count(USER)
    bot.clock.set(datetime(2026, 1, 11, 12, tzinfo=UTC))
    await bot.services.reminders.run_due()
    assert bot.sent_count(USER) == before  # only one follow-up
    # Either message records the answer.
    edited = await tap(bot, USER, follow_up, "skip")
    assert "recorded as skipped" in edited["text"]
    # The original reminder's buttons are now stale.
    await bot.press(USER, reminder["message_id"], dose_data(reminder, "taken"))
    assert bot.api.calls_of("answerCallbackQuery")[-1].params["text"] == (
        "This button is no longer active."
    )


async def test_forged_and_foreign_buttons_change_nothing(bot: RunningBot) -> None:
    await bot.onboard(USER, zone="UTC")
    await bot.onboard(OTHER, zone="UTC")
    await save_plan(bot, USER, "/schedule custom today 10:00 10x3")
    [reminder] = await advance_until_messages(bot, USER, datetime(2026, 1, 11, 10, tzinfo=UTC))
    data = dose_data(reminder, "taken")
    # Another user presses a button carrying USER's dose id (a forged or replayed press).
    bot.api.press_button(OTHER, reminder["message_id"], data)
    await bot.api.wait_for(
        "answerCallbackQuery",
        lambda call: call.params.get("text") == "This button is no longer active.",
    )
    for forged in ("dose:99999:taken", "dose:1:explode", "dose:-1:taken", "dose:abc:skip"):
        await bot.press(USER, reminder["message_id"], forged)
    event_id = int(data.split(":")[1])
    event = await bot.services.doses.get_event(event_id, USER)
    assert event is not None
    assert event.status.value == "sent"


async def test_plan_change_keeps_history_and_replaces_future(bot: RunningBot) -> None:
    await bot.onboard(USER, zone="UTC")
    await save_plan(bot, USER, "/schedule custom today 10:00,18:00 10x3")
    [reminder] = await advance_until_messages(bot, USER, datetime(2026, 1, 11, 10, tzinfo=UTC))
    await tap(bot, USER, reminder, "taken")
    await save_plan(bot, USER, "/schedule custom today 12:00,20:00 5x3")
    [today] = await bot.say(USER, "/today")
    assert "10:00  10 mg: ✅ taken" in today
    assert "12:00  5 mg: upcoming" in today
    assert "18:00" not in today


async def test_timezone_change_moves_future_doses(bot: RunningBot) -> None:
    await bot.onboard(USER, zone="UTC")
    await save_plan(bot, USER, "/schedule custom tomorrow 08:00 10x3")
    await move_zone(bot, USER, "Asia/Kolkata")
    # 08:00 in Kolkata on 2026-01-12 is 02:30 UTC.
    before = bot.sent_count(USER)
    bot.clock.set(datetime(2026, 1, 12, 2, 29, tzinfo=UTC))
    await bot.services.reminders.run_due()
    assert bot.sent_count(USER) == before
    [reminder] = await advance_until_messages(bot, USER, datetime(2026, 1, 12, 2, 30, tzinfo=UTC))
    assert "<b>10 mg</b> at 08:00" in reminder["text"]


async def test_pause_is_never_worded_as_stopping(bot: RunningBot) -> None:
    await bot.onboard(USER, zone="UTC")
    await save_plan(bot, USER, "/schedule custom today 10:00,18:00 10x3")
    [paused] = await bot.say(USER, "/pause")
    assert "does not stop your medicine" in paused
    assert "never stop it suddenly" in paused
    before = bot.sent_count(USER)
    bot.clock.set(datetime(2026, 1, 11, 19, tzinfo=UTC))
    await bot.services.reminders.run_due()
    assert bot.sent_count(USER) == before
    [resumed] = await bot.say(USER, "/resume")
    assert "Mon 12 Jan 10:00" in resumed
    [reminder] = await advance_until_messages(bot, USER, datetime(2026, 1, 12, 10, tzinfo=UTC))
    assert opening(bot.pack, "reminder.dose") in reminder["text"]


async def test_taper_notices_warn_about_withdrawal(bot: RunningBot) -> None:
    await bot.onboard(USER, zone="UTC", region="us")
    await save_plan(bot, USER, "/taper today 10:00 10x1 5x1 stop", confirm=True)  # 2 days
    [first] = await advance_until_messages(bot, USER, datetime(2026, 1, 11, 10, tzinfo=UTC))
    assert "taper day 1, step 1 of 2" in first["text"]
    await tap(bot, USER, first, "taken")
    [second] = await advance_until_messages(bot, USER, datetime(2026, 1, 12, 10, tzinfo=UTC))
    assert "steps down to <b>5 mg at 10:00</b>" in second["text"]
    assert "withdrawal signs" in second["text"]
    assert "911" in second["text"]
    assert "last dose of your taper" in second["text"]
    await tap(bot, USER, second, "taken")
    before = bot.sent_count(USER)
    bot.clock.set(datetime(2026, 1, 14, 10, tzinfo=UTC))
    await bot.services.reminders.run_due()
    assert bot.sent_count(USER) == before  # the prescriber's taper ended


async def test_high_daily_total_needs_the_prescribers_order(bot: RunningBot) -> None:
    await bot.onboard(USER, zone="UTC")
    [summary] = await bot.say(USER, "/schedule custom today 08:00,14:00,20:00 30x3")
    assert "90 mg a day" in summary
    assert "more than the label maximum of 80 mg a day" in summary
    buttons = bot.buttons(bot.last_message(USER))
    assert "plan:save" not in buttons.values()
    # A forged plain "save" press does not get around the confirmation.
    [refused] = await bot.press(USER, bot.last_message(USER)["message_id"], "plan:save", replies=1)
    assert "no longer waiting" in refused
    assert await bot.services.doses.active_plan(USER) is None
    await save_plan(bot, USER, "/schedule custom today 08:00,14:00,20:00 30x3", confirm=True)
    stored = await bot.services.doses.active_plan(USER)
    assert stored is not None
    assert stored.high_dose_confirmed_at == bot.clock.now()
    [plan] = await bot.say(USER, "/plan")
    assert "you confirmed your prescriber ordered this" in plan


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/schedule standard", "/schedule standard today 08:00 14:00 20:00"),
        ("/schedule standard someday 08:00", "is not a date"),
        ("/schedule standard 2025-01-01 08:00", "is in the past"),
        ("/schedule standard 2031-01-01 08:00", "more than a year ahead"),
        ("/schedule standard today 25:00", "is not a time"),
        ("/schedule standard today 8am", "is not a time"),
        ("/schedule standard today 08:00 08:00", "appears twice"),
        ("/schedule standard today 1:00 2:00 3:00 4:00 5:00 6:00 7:00", "1 to 6 a day"),
        ("/schedule standard today 08:00 target=12", "is not a target"),
        ("/schedule custom today 08:00 10", "is not a step"),
        ("/schedule custom today 08:00 10x0", "not a valid step length"),
        ("/schedule custom today 08:00 7.3x3", "whole or half"),
        ("/schedule custom today 08:00 500x3", "outside what I can record"),
        ("/schedule custom today 08:00 abcx3", "is not a step"),
        ("/schedule weekly", "/schedule custom tomorrow"),
        ("/taper today 08:00 5x3 10x3", "goes up"),
        ("/taper today 08:00", "at least one step"),
        ("/tablets many", "/tablets 10 scored"),
        ("/tablets 10 unscored", "/tablets 10 scored"),
    ],
)
async def test_invalid_arguments_explain_with_an_example(
    bot: RunningBot, command: str, expected: str
) -> None:
    await bot.onboard(USER, zone="UTC")
    [reply] = await bot.say(USER, command)
    assert expected in reply
    assert await bot.services.doses.active_plan(USER) is None


async def test_snoozing_after_the_follow_up_brings_no_second_follow_up(bot: RunningBot) -> None:
    await bot.onboard(USER, zone="UTC")
    await save_plan(bot, USER, "/schedule custom today 10:00,18:00 10x3")
    await advance_until_messages(bot, USER, datetime(2026, 1, 11, 10, tzinfo=UTC))
    [follow_up] = await advance_until_messages(bot, USER, datetime(2026, 1, 11, 10, 30, tzinfo=UTC))
    await tap(bot, USER, follow_up, "snooze")
    [again] = await advance_until_messages(bot, USER, datetime(2026, 1, 11, 10, 45, tzinfo=UTC))
    assert opening(bot.pack, "reminder.snoozed") in again["text"]
    before = bot.sent_count(USER)
    bot.clock.set(datetime(2026, 1, 11, 11, 30, tzinfo=UTC))
    await bot.services.reminders.run_due()
    assert bot.sent_count(USER) == before


async def test_plan_summary_warns_when_tablets_cannot_make_a_dose(bot: RunningBot) -> None:
    await bot.onboard(USER, zone="UTC")
    await bot.say(USER, "/tablets 10")
    [summary] = await bot.say(USER, "/schedule custom today 10:00 5x3 10x3")
    assert "your 10 mg tablets cannot make 5 mg exactly" in summary
    await bot.say(USER, "/tablets 10 scored")
    [summary] = await bot.say(USER, "/schedule custom today 10:00 5x3 10x3")
    assert "cannot make" not in summary
