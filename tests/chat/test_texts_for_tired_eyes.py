"""Texts a tired patient reads right: dates on times that are not today, one time for a dose
a clock change moved, when the follow-up comes, and what a new time zone does to a plan."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.conftest import RunningBot
from tests.reminder_helpers import advance_until_messages, move_zone, save_plan, tap

USER = 9090


async def test_the_reminder_says_when_the_follow_up_comes(bot: RunningBot) -> None:
    await bot.onboard(USER, zone="Europe/Berlin")
    await save_plan(bot, USER, "/schedule custom today 12:00,20:00 10x3")
    [reminder] = await advance_until_messages(bot, USER, datetime(2026, 1, 11, 11, tzinfo=UTC))
    assert "If you do not tap a button, I will ask again at 12:30." in reminder["text"]


async def test_a_dose_answered_the_next_day_carries_its_date(bot: RunningBot) -> None:
    await bot.onboard(USER, zone="UTC")
    await save_plan(bot, USER, "/schedule custom today 22:00 10x3")
    [reminder] = await advance_until_messages(bot, USER, datetime(2026, 1, 11, 22, tzinfo=UTC))
    bot.clock.set(datetime(2026, 1, 12, 7, 0, tzinfo=UTC))
    edited = await tap(bot, USER, reminder, "taken")
    assert "due at Sun 11 Jan 22:00: recorded as taken (07:00)" in edited["text"]


async def test_a_dose_in_the_spring_gap_has_one_time_everywhere(bot: RunningBot) -> None:
    """02:30 does not exist in Berlin on 29 March 2026: the dose is due at 03:00, and the
    reminder, its note and the recorded text all say 03:00."""
    await bot.onboard(USER, zone="Europe/Berlin")
    bot.clock.set(datetime(2026, 3, 28, 12, tzinfo=UTC))
    await save_plan(bot, USER, "/schedule custom today 02:30 10x5")
    [reminder] = await advance_until_messages(bot, USER, datetime(2026, 3, 29, 1, tzinfo=UTC))
    assert "<b>10 mg</b> at 03:00" in reminder["text"]
    assert "your 02:30 dose is due at 03:00" in reminder["text"]
    edited = await tap(bot, USER, reminder, "taken")
    assert "<b>10 mg</b> due at 03:00: recorded as taken" in edited["text"]


async def test_a_new_time_zone_keeps_clock_times_and_names_the_next_dose(bot: RunningBot) -> None:
    await bot.onboard(USER, zone="UTC")
    await save_plan(bot, USER, "/schedule custom tomorrow 08:00 10x3")
    *_, answer = await move_zone(bot, USER, "Asia/Kolkata")
    assert "Your dose times stay the same clock times, now in <b>Asia/Kolkata</b>" in answer
    assert "Your next dose: <b>Mon 12 Jan 08:00</b>." in answer
