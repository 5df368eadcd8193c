"""Step check-ins through the Bot API stand-in: asked the evening before each increase (and
on /checkin), recorded per step, a hold that moves the later steps, and /progress."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.domain.checkins import asks_before_increase
from bot.domain.plans import parse_custom_command
from tests.conftest import RunningBot
from tests.reminder_helpers import advance_until_messages, press_and_wait_edit, save_plan, tap
from tests.said import opening

USER = 8008
DAY = datetime(2026, 1, 11, tzinfo=UTC)  # the fake clock starts at 09:00 that day


def at(day: int, hour: int) -> datetime:
    return DAY + timedelta(days=day - 1, hours=hour)


def test_asked_after_the_last_dose_before_an_increase_only() -> None:
    plan = parse_custom_command(
        ["today", *["22:00=5", "x2,", "08:00=5", "22:00=5", "x2,", "08:00=5", "22:00=5", "x1"]],
        DAY.date(),
    )
    steps = plan.steps
    from datetime import time

    assert asks_before_increase(steps, 1, 2, time(22))  # step 1 ends, step 2 is higher
    assert not asks_before_increase(steps, 1, 1, time(22))  # not the step's last day
    assert not asks_before_increase(steps, 2, 4, time(8))  # not the day's last dose
    assert not asks_before_increase(steps, 2, 4, time(22))  # step 3 is not higher
    assert not asks_before_increase(steps, 3, 5, time(22))  # the last step


async def _press(bot: RunningBot, data: str) -> dict[str, Any]:
    """Press a button of the last message and return that message once the bot edited it."""
    return await press_and_wait_edit(bot, USER, bot.last_message(USER), data)


def _data(message: dict[str, Any], label: str) -> str:
    return {text: data for text, data in _buttons(message).items()}[label]


def _buttons(message: dict[str, Any]) -> dict[str, str]:
    markup = message.get("reply_markup") or {}
    assert isinstance(markup, dict)
    return {
        button["text"]: button["callback_data"]
        for row in markup.get("inline_keyboard", [])
        for button in row
    }


async def _take_each_dose_until_the_check_in(bot: RunningBot) -> dict[str, Any]:
    """Day 2 and 3 of the clock are the plan's days 1 and 2; the check-in follows 20:00 on day 3."""
    for day, hour in ((2, 8), (2, 20), (3, 8)):
        [reminder] = await advance_until_messages(bot, USER, at(day, hour))
        await tap(bot, USER, reminder, "taken")
        assert "Check-in" not in reminder["text"]
    reminder, checkin = await advance_until_messages(bot, USER, at(3, 20), count=2)
    assert opening(bot.pack, "reminder.dose") in reminder["text"]
    assert "Check-in before your next step" in checkin["text"]
    assert "goes up to 10 mg twice a day (08:00, 20:00)" in checkin["text"]
    assert set(_buttons(checkin)) == {str(score) for score in range(11)}
    return checkin


async def _answer_stiffness_6_drowsiness_strong_and_a_note(
    bot: RunningBot, checkin: dict[str, Any]
) -> None:
    message = await _press(bot, _data(checkin, "6"))
    assert "<b>Drowsiness</b> since this step began?" in message["text"]
    for label in ("strong", "none", "mild"):
        message = await _press(bot, _data(message, label))
    message = await _press(bot, _data(message, "none"))
    assert bot.pack.text("checkin.ask_note") in message["text"]
    [done] = await bot.say(USER, "legs feel heavy in the evening")
    assert "Check-in for step 1 recorded: stiffness 6/10; drowsiness strong, dizziness none" in done
    assert bot.pack.text("checkin.note_kept") in done
    assert "You marked <b>drowsiness</b> as strong" in done
    assert "do not drive" in done


async def _hold_the_step_two_more_days(bot: RunningBot) -> None:
    """From the offer after the check-in; a second press of the hold changes nothing."""
    offer = bot.last_message(USER)
    assert set(_buttons(offer)) == {
        "Stay at this dose longer, as my prescriber allows",
        "Carry on as planned",
    }
    days = await _press(bot, _data(offer, "Stay at this dose longer, as my prescriber allows"))
    assert "Only as your prescriber allows" in days["text"]
    held = await _press(bot, _data(days, "+2"))
    assert (
        "Step 1 now lasts 2 more days. Your next step starts on <b>16 January</b>" in held["text"]
    )
    assert "your prescriber's decision" in held["text"]
    assert held["reply_markup"] is None
    # A second press of the same hold button changes nothing.
    await bot.press(USER, days["message_id"], _data(days, "+2"))
    stored = await bot.services.doses.active_plan(USER)
    assert stored is not None
    assert [step.days for step in stored.plan.steps] == [4, 2]


async def test_check_in_before_the_increase_records_and_a_hold_moves_later_steps(
    bot: RunningBot,
) -> None:
    await bot.onboard(USER, zone="UTC", region="uk")
    await save_plan(bot, USER, "/schedule custom tomorrow 08:00,20:00 5x2 10x2")
    checkin = await _take_each_dose_until_the_check_in(bot)
    await _answer_stiffness_6_drowsiness_strong_and_a_note(bot, checkin)
    await _hold_the_step_two_more_days(bot)

    [plan] = await bot.say(USER, "/plan")
    assert "Step 1, 12 to 15 January (4 days)" in plan
    assert "Step 2, 16 to 17 January (2 days)" in plan
    # The next morning's dose stays 5 mg; the increase comes two days later.
    [kept] = await advance_until_messages(bot, USER, at(4, 8))
    assert "<b>5 mg</b> at 08:00, day 3, step 1 of 2" in kept["text"]

    [progress] = await bot.say(USER, "/progress")
    assert "<b>Step 1</b>, 12 to 15 January (4 days)" in progress
    assert "Doses so far: 3 taken, 0 skipped, 2 missed or unanswered" in progress
    assert (
        "stiffness 6/10; drowsiness strong, dizziness none, weakness mild, nausea none" in progress
    )
    assert "Note: legs feel heavy in the evening" in progress
    assert "Stayed 2 more days at this dose" in progress
    assert "Dose changes are their decision" in progress


async def test_checkin_on_demand_and_a_red_flag_in_the_note(bot: RunningBot) -> None:
    await bot.onboard(USER, zone="UTC", region="us")
    [none] = await bot.say(USER, "/checkin")
    assert bot.pack.text("checkin.no_plan") in none
    await save_plan(bot, USER, "/schedule custom today 10:00 10x5")
    [intro] = await bot.say(USER, "/checkin")
    assert "Check-in for step 1" in intro
    message = await _press(bot, _data(bot.last_message(USER), "3"))
    for _ in range(4):
        message = await _press(bot, _data(message, "none"))
    replies = await bot.say(USER, "I can't breathe properly since this morning", replies=2)
    assert replies[0].startswith(
        "<b>This may be an emergency.</b> Emergency number (United States): <b>911</b>"
    )
    assert "Check-in for step 1 recorded" in replies[1]
    assert "Stay at this dose longer" not in str(bot.last_message(USER)["reply_markup"])


async def test_skip_the_note_and_forged_answers(bot: RunningBot) -> None:
    await bot.onboard(USER, zone="UTC")
    await save_plan(bot, USER, "/schedule custom today 10:00 10x5")
    await bot.say(USER, "/checkin")
    first = bot.last_message(USER)
    checkin_id = _data(first, "0").split(":")[1]
    # Out-of-range and unknown answers are refused without a change.
    for forged in (
        f"ci:{checkin_id}:stiffness:11",
        f"ci:{checkin_id}:fever:1",
        "ci:999:stiffness:1",
    ):
        await bot.press(USER, first["message_id"], forged)
    checkin = await bot.services.checkins.get(int(checkin_id), USER)
    assert checkin is not None and checkin.stiffness is None
    message = await _press(bot, _data(first, "0"))
    for _ in range(4):
        message = await _press(bot, _data(message, "mild"))
    done = await _press(bot, _data(message, "Skip"))
    assert (
        "stiffness 0/10; drowsiness mild, dizziness mild, weakness mild, nausea mild"
        in done["text"]
    )
    assert "note" not in done["text"].lower()
    [reply] = await bot.say(USER, "hello")  # the next message is ordinary text again
    assert bot.pack.text("freetext.thanks") in reply  # a greeting, not a check-in note
