"""The clinical review's missed-dose cases, through the Bot API stand-in with the fake clock.

Each of these once led to advice that could put two doses close together, or to a false
"every dose is recorded". See bot/domain/missed.py for the rule.
"""

from __future__ import annotations

from typing import Any

from tests.conftest import RunningBot
from tests.reminder_helpers import (
    advance_until_messages,
    assert_told_of_the_downtime,
    at,
    dose_data,
    restart_at,
    save_plan,
    tap,
)

USER = 5005


async def _patient(bot: RunningBot, times: str = "12:00,16:00,20:00", zone: str = "UTC") -> None:
    await bot.onboard(USER, zone=zone, region="uk")
    await save_plan(bot, USER, f"/schedule custom today {times} 10x10")


def _has_take_button(message: dict[str, Any]) -> bool:
    return "Taken" in str(message.get("reply_markup") or "")


async def test_a_later_dose_taken_means_nothing_to_make_up(bot: RunningBot) -> None:
    """12:00 and its follow-up unanswered, 16:00 tapped Taken, /missed at 16:05."""
    await _patient(bot)
    await advance_until_messages(bot, USER, at(12))
    [follow_up] = await advance_until_messages(bot, USER, at(12, 30))
    assert "Did you take" in follow_up["text"]
    [four] = await advance_until_messages(bot, USER, at(16))
    await tap(bot, USER, four, "taken")
    bot.clock.set(at(16, 5))
    [answer] = await bot.say(USER, "/missed")
    assert "take it now" not in answer.lower()
    assert "(<b>10 mg</b> due at 16:00) is recorded as taken" in answer
    assert not _has_take_button(bot.last_message(USER))


async def test_paused_reminders_give_the_general_rule(bot: RunningBot) -> None:
    """12:00 unanswered, /pause, /missed two days later: no "take it now" about 12:00."""
    await _patient(bot)
    await advance_until_messages(bot, USER, at(12))
    await bot.say(USER, "/pause")
    bot.clock.set(at(12, days=2))
    [answer] = await bot.say(USER, "/missed")
    assert "Your reminders are paused" in answer
    assert "does not stop your medicine" in answer
    assert "less than 2 hours" in answer  # the general rule, from the missed topic
    assert "If you have not taken it yet" not in answer
    assert not _has_take_button(bot.last_message(USER))


async def test_take_now_always_says_if_you_have_not_taken_it_yet(bot: RunningBot) -> None:
    """The patient took the 12:00 dose but did not tap: the answer must not say "take it"."""
    await _patient(bot)
    await advance_until_messages(bot, USER, at(12))
    bot.clock.set(at(12, 20))  # before the follow-up, so the next message is the answer
    [answer] = await bot.say(USER, "/missed")
    assert "<b>If you have not taken it yet, take it now</b>" in answer
    assert "Your next dose: <b>16:00</b>" in answer
    assert "Never take two doses together" in answer


async def test_a_dose_due_during_a_pause_still_exists(bot: RunningBot) -> None:
    """/pause, 12:00 falls due while paused (next dose 3 h later), /resume, /missed, /today."""
    await _patient(bot, times="12:00,16:00")
    await bot.say(USER, "/pause")
    bot.clock.set(at(12, 30))
    await bot.services.reminders.run_due()
    assert bot.api.messages_to(USER)[-1]["text"].startswith("Reminders are paused")
    bot.clock.set(at(13))
    [resumed] = await bot.say(USER, "/resume")
    assert "Next dose: <b>16:00</b>" in resumed
    assert "1 dose time passed without a reminder" in resumed
    [answer] = await bot.say(USER, "/missed")
    # Issue 19: nothing is known about it, so it is never offered: the general rule, and
    # "if you are not sure whether you took it, do not take it now".
    assert "fell due without a reminder" in answer
    assert "<b>If you are not sure whether you took it, do not take it now.</b>" in answer
    assert "take it now</b>" not in answer.replace("do not take it now.</b>", "")
    assert "less than 2 hours" in answer  # the general rule
    assert not _has_take_button(bot.last_message(USER))
    [today] = await bot.say(USER, "/today")
    assert "12:00  10 mg: not reminded (reminders paused)" in today
    assert "16:00  10 mg: upcoming" in today
    # The paused dose can be recorded as skipped from /missed; the 16:00 reminder still comes.
    await tap(bot, USER, bot.api.messages_to(USER)[-2], "skip")
    [reminder] = await advance_until_messages(bot, USER, at(16))
    assert "Time for your dose" in reminder["text"]


async def test_a_dose_not_from_today_carries_its_date(bot: RunningBot) -> None:
    await _patient(bot, times="22:00")
    await advance_until_messages(bot, USER, at(22))
    bot.clock.set(at(9, days=1))
    [answer] = await bot.say(USER, "/missed")
    assert "due at Sun 11 Jan 22:00" in answer
    assert "Your next dose: <b>22:00</b>" in answer  # today's: no date needed


async def test_taken_from_missed_removes_the_reminders_buttons(bot: RunningBot) -> None:
    await _patient(bot)
    [reminder] = await advance_until_messages(bot, USER, at(12))
    bot.clock.set(at(12, 20))  # before the follow-up
    await bot.say(USER, "/missed")
    answer = bot.last_message(USER)
    await bot.press(USER, answer["message_id"], dose_data(answer, "taken"))
    await bot.api.wait_for(
        "editMessageReplyMarkup", lambda call: call.params["message_id"] == reminder["message_id"]
    )
    current = next(
        m for m in bot.api.messages_to(USER) if m["message_id"] == reminder["message_id"]
    )
    assert current["reply_markup"] is None
    bot.clock.set(at(12, 45))  # the follow-up time has passed: none for an answered dose
    await bot.services.reminders.run_due()
    [again] = await bot.say(USER, "/missed")
    assert "is recorded as taken" in again
    assert not any("Did you take" in (m["text"] or "") for m in bot.api.messages_to(USER))


async def test_three_skips_in_a_row_warn_once(bot: RunningBot) -> None:
    await _patient(bot)
    edits = []
    for hour in (12, 16, 20):
        [reminder] = await advance_until_messages(bot, USER, at(hour))
        edits.append(await tap(bot, USER, reminder, "skip"))
    assert "last 3 dose times" not in edits[0]["text"]
    assert "last 3 dose times" not in edits[1]["text"]
    assert "Missing several doses in a row can bring on withdrawal" in edits[2]["text"]
    assert "Emergency number (United Kingdom): <b>999</b>" in edits[2]["text"]
    [next_morning] = await advance_until_messages(bot, USER, at(12, days=1))
    assert "several doses" not in next_morning["text"]


async def test_three_unanswered_doses_warn_on_the_next_reminder(bot: RunningBot) -> None:
    await _patient(bot)
    for hour in (12, 16, 20):
        await advance_until_messages(bot, USER, at(hour))  # the reminder
        await advance_until_messages(bot, USER, at(hour, 30))  # its follow-up
    [fourth] = await advance_until_messages(bot, USER, at(12, days=1))
    assert "Time for your dose" in fourth["text"]
    assert "no dose recorded as taken for your last 3 dose times" in fourth["text"]
    assert "contact your prescriber today" in fourth["text"]
    [fifth] = await advance_until_messages(bot, USER, at(16, days=1))
    assert "several doses" not in fifth["text"]


async def test_downtime_longer_than_the_planned_rows_still_follows_the_rule(
    start_bot: Any,
) -> None:
    """Down for three days: the latest passed dose time is answered, not forgotten."""
    bot: RunningBot = await start_bot()
    await _patient(bot)
    # Rows were planned for two days only.
    bot, late = await restart_at(bot, start_bot, at(16, 30, days=3), USER)
    assert "This reminder is late: the dose was due at 16:00" in late
    assert_told_of_the_downtime(late)
    await bot.services.reminders.run_due()
    assert len([m for m in bot.api.messages_to(USER) if "late" in (m["text"] or "")]) == 1
