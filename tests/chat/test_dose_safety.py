"""Issue 19's clinical review, through the Bot API stand-in with the fake clock.

Each test is one of the sequences that once led a patient towards two doses too close or a
wrong amount, and asserts the safe answer. The rule is ``bot.domain.safety``; the property
test over the whole system is ``tests/chat/test_dose_safety_property.py``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tests.conftest import RunningBot
from tests.reminder_helpers import advance_until_messages, at, move_zone, save_plan, tap

USER = 7007


def has_taken_button(message: dict[str, Any]) -> bool:
    return "Taken" in str(message.get("reply_markup") or "")


def offers_a_dose(text: str) -> bool:
    """The words with which the bot invites a dose (reminder, late reminder, /missed)."""
    return "Time for your dose" in text or "If you have not taken it yet, take it now" in text


async def _on_plan(bot: RunningBot, command: str) -> None:
    """A patient in UTC who saved ``command``'s plan."""
    await bot.onboard(USER, zone="UTC")
    await save_plan(bot, USER, command)


async def test_on_time_reminder_after_a_late_intake_says_skip(bot: RunningBot) -> None:
    """14:00 unanswered, Taken pressed on it at 19:45: the 20:00 reminder must not offer."""
    await _on_plan(bot, "/schedule custom today 14:00,20:00 10x30")
    [two] = await advance_until_messages(bot, USER, at(14))
    await advance_until_messages(bot, USER, at(14, 30))  # the follow-up, unanswered
    bot.clock.set(at(19, 45))
    recorded = await tap(bot, USER, two, "taken")
    assert "recorded as taken (19:45)" in recorded["text"]
    # "Recorded as taken" says that the next dose time is too close, and to skip it.
    assert "Your next dose time, 20:00, comes less than 2 hours after" in recorded["text"]
    assert "<b>Skip the 20:00 dose</b>" in recorded["text"]
    [notice] = await advance_until_messages(bot, USER, at(20))
    assert not offers_a_dose(notice["text"])
    assert "recorded as taken at 19:45, less than 2 hours ago" in notice["text"]
    assert "<b>Do not take another dose now</b>" in notice["text"]
    assert not has_taken_button(notice)
    bot.clock.set(at(20, 5))
    [answer] = await bot.say(USER, "/missed")
    assert not offers_a_dose(answer)
    # Nothing more comes that evening: no follow-up offers the 20:00 dose.
    before = bot.sent_count(USER)
    bot.clock.set(at(21, 30))
    await bot.services.reminders.run_due()
    assert bot.sent_count(USER) == before


async def test_taken_on_an_old_missed_message_then_on_time_reminder(bot: RunningBot) -> None:
    await _on_plan(bot, "/schedule custom today 14:00,20:00 10x30")
    await advance_until_messages(bot, USER, at(14))
    await advance_until_messages(bot, USER, at(14, 30))
    bot.clock.set(at(15))
    [answer] = await bot.say(USER, "/missed")
    assert "take it now" in answer
    missed_message = bot.last_message(USER)
    bot.clock.set(at(19, 45))
    recorded = await tap(bot, USER, missed_message, "taken")
    assert "<b>Skip the 20:00 dose</b>" in recorded["text"]
    [notice] = await advance_until_messages(bot, USER, at(20))
    assert not offers_a_dose(notice["text"])
    assert not has_taken_button(notice)


async def test_zone_corrected_after_a_dose_names_the_dose_to_skip(bot: RunningBot) -> None:
    """Onboarded with Moscow, really in Omsk: the 13:00 Moscow dose (16:00 Omsk) was taken."""
    await bot.onboard(USER, zone="Europe/Moscow")
    await save_plan(bot, USER, "/schedule custom today 13:00,17:00,21:00 10x30")
    [one] = await advance_until_messages(bot, USER, at(10))  # 13:00 Moscow
    await tap(bot, USER, one, "taken")
    bot.clock.set(at(10, 5))  # 16:05 in Omsk
    *_, moved = await move_zone(bot, USER, "Asia/Omsk")
    assert "Your next dose: <b>21:00</b>" in moved
    assert "Your next dose time, 17:00, comes less than 2 hours after" in moved
    [notice] = await advance_until_messages(bot, USER, at(11))  # 17:00 in Omsk
    assert not offers_a_dose(notice["text"])
    assert not has_taken_button(notice)
    [reminder] = await advance_until_messages(bot, USER, at(15))  # 21:00 in Omsk
    assert "Time for your dose" in reminder["text"]


async def test_zone_change_names_the_dose_that_will_be_reminded(bot: RunningBot) -> None:
    """Moscow to Kaliningrad half an hour after the 13:00 dose: 13:00 Kaliningrad already has
    its (taken) row, so it is not reminded; the reply must not name it as the next dose."""
    await bot.onboard(USER, zone="Europe/Moscow")
    await save_plan(bot, USER, "/schedule custom today 13:00,17:00,21:00 10x30")
    [one] = await advance_until_messages(bot, USER, at(10))
    await tap(bot, USER, one, "taken")
    bot.clock.set(at(10, 30))  # 12:30 in Kaliningrad
    *_, moved = await move_zone(bot, USER, "Europe/Kaliningrad")
    assert "Your next dose: <b>17:00</b>" in moved
    assert "13:00" not in moved
    [reminder] = await advance_until_messages(bot, USER, at(15))  # 17:00 in Kaliningrad
    assert "Time for your dose" in reminder["text"]
    assert "17:00" in reminder["text"]


async def _missed_after_a_new_plan(
    bot: RunningBot, first: str, then: tuple[datetime, str], asked_at: datetime
) -> str:
    """On the ``first`` plan, its 10:00 reminder left unanswered; then (at that instant) the
    other plan saved; /missed asked at ``asked_at``. Its answer, which offers no dose."""
    await _on_plan(bot, first)
    await advance_until_messages(bot, USER, at(10))  # unanswered
    typed_at, command = then
    bot.clock.set(typed_at)
    await save_plan(bot, USER, command)
    bot.clock.set(asked_at)
    [answer] = await bot.say(USER, "/missed")
    assert not offers_a_dose(answer)
    return answer


async def test_plan_replaced_midday_never_offers_the_old_plan(bot: RunningBot) -> None:
    answer = await _missed_after_a_new_plan(
        bot,
        "/schedule custom today 10:00,22:00 10x30",
        (at(15, 30), "/schedule custom today 10:00,15:00,20:00 5x30"),
        at(15, 35),
    )
    assert "10 mg" not in answer
    assert "<b>5 mg</b> dose due at 15:00 fell due without a reminder" in answer
    assert not has_taken_button(bot.last_message(USER))
    [reminder] = await advance_until_messages(bot, USER, at(20))
    assert "<b>5 mg</b> at 20:00" in reminder["text"]


async def test_taper_typed_after_an_unanswered_dose_never_offers_the_old_amount(
    bot: RunningBot,
) -> None:
    answer = await _missed_after_a_new_plan(
        bot,
        "/schedule custom today 10:00,22:00 20x30",
        (at(11), "/taper today 10:00=15 22:00=15 x7, 10:00=10 22:00=10 x7"),
        at(11, 5),
    )
    assert "20 mg" not in answer


async def test_a_taper_that_starts_later_keeps_todays_reminders(bot: RunningBot) -> None:
    """20 mg twice a day, then on 11 Jan a taper to start on the 25th: reminders go on."""
    await _on_plan(bot, "/schedule custom today 10:00,20:00 20x365")
    saved = await save_plan(
        bot,
        USER,
        "/taper 2026-01-25 10:00=15 20:00=15 x7, 10:00=10 20:00=10 x7, 10:00=5 20:00=5 x7 stop",
    )
    assert "starts on <b>25 January</b>" in saved
    assert "Your next dose: <b>10:00</b>" in saved
    [today] = await bot.say(USER, "/today")
    assert "No doses planned today" not in today
    assert "10:00  20 mg: upcoming" in today
    assert "Your new plan starts on <b>25 January</b>" in today
    [reminder] = await advance_until_messages(bot, USER, at(10))
    assert "<b>20 mg</b> at 10:00" in reminder["text"]
    # Still 20 mg the day before the taper, 15 mg on its first day.
    for hour in (10, 20):
        bot.clock.set(at(hour, days=13))
        await bot.services.reminders.run_due()
    assert "<b>20 mg</b> at 20:00" in bot.messages(USER)[-1]["text"]
    [first] = await advance_until_messages(bot, USER, at(10, days=14))
    assert "<b>15 mg</b> at 10:00" in first["text"]
    assert "step 1 of 3" in first["text"]


async def test_a_first_step_far_below_the_current_dose_asks_the_prescriber(
    bot: RunningBot,
) -> None:
    await _on_plan(bot, "/schedule custom today 10:00,16:00,22:00 20x30")
    [summary] = await bot.say(USER, "/taper today 10:00,16:00,22:00 5x14 stop")
    assert "less than half of your current <b>60 mg a day</b>" in summary
    assert "only save this plan if your prescriber set it" in summary


async def test_dose_times_with_no_spacing_ask_the_prescriber(bot: RunningBot) -> None:
    await bot.onboard(USER, zone="UTC")
    [summary] = await bot.say(USER, "/schedule custom today 12:00,12:30,13:00 20x30")
    assert "less than 2 hours apart (<b>12:00</b> and <b>12:30</b>)" in summary
    assert "only save this plan if your prescriber set it" in summary


async def test_resume_then_missed_never_offers_a_paused_dose(bot: RunningBot) -> None:
    await _on_plan(bot, "/schedule custom today 12:00,18:00 10x30")
    await bot.say(USER, "/pause")
    bot.clock.set(at(12, 30))
    await bot.services.reminders.run_due()
    bot.clock.set(at(13))
    await bot.say(USER, "/resume")
    [answer] = await bot.say(USER, "/missed")
    assert not offers_a_dose(answer)
    assert "If you are not sure whether you took it, do not take it now" in answer
