"""Plan guards through the stand-in: the label's build-up only as the label gives it, steps
down worded as steps down whatever the plan is called, and fast or steep tapers asked once
more ("my prescriber set this"), never refused."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.conftest import RunningBot
from tests.reminder_helpers import advance_until_messages, save_plan, tap
from tests.said import opening

USER = 6006


async def test_standard_build_up_needs_three_dose_times(bot: RunningBot) -> None:
    await bot.onboard(USER, zone="UTC")
    [answer] = await bot.say(USER, "/schedule standard today 08:00 20:00")
    assert "standard build-up is for three doses a day; you gave 2" in answer
    assert "/schedule custom today 08:00,20:00 5x3 10x3" in answer
    assert await bot.services.doses.active_plan(USER) is None


async def test_a_custom_step_down_carries_the_withdrawal_watch(bot: RunningBot) -> None:
    await bot.onboard(USER, zone="UTC", region="uk")
    await save_plan(bot, USER, "/schedule custom today 10:00 10x1 7.5x1")
    [first] = await advance_until_messages(bot, USER, datetime(2026, 1, 11, 10, tzinfo=UTC))
    await tap(bot, USER, first, "taken")
    [second] = await advance_until_messages(bot, USER, datetime(2026, 1, 12, 10, tzinfo=UTC))
    assert "steps down to <b>7.5 mg at 10:00</b>: 7.5 mg a day" in second["text"]
    assert opening(bot.pack, "reminder.step_up") not in second["text"]
    assert (
        "<b>Get urgent medical help</b> for hallucinations, confusion, high fever" in second["text"]
    )
    assert "999" in second["text"]


async def test_a_fast_taper_is_asked_once_more(bot: RunningBot) -> None:
    await bot.onboard(USER, zone="UTC")
    [summary] = await bot.say(USER, "/taper today 08:00,20:00 10x3 5x3 stop")
    assert "stops baclofen after only <b>6 days</b>" in summary
    buttons = bot.buttons(bot.last_message(USER))
    assert buttons == {"My prescriber set this": "plan:save_high", "Cancel": "plan:cancel"}
    [refused] = await bot.press(USER, bot.last_message(USER)["message_id"], "plan:save", replies=1)
    assert "no longer waiting" in refused  # a forged plain Save does not get around it
    await save_plan(bot, USER, "/taper today 08:00,20:00 10x3 5x3 stop", confirm=True)
    stored = await bot.services.doses.active_plan(USER)
    assert stored is not None
    assert stored.high_dose_confirmed_at is None  # not a high dose: /plan says nothing of 80 mg


async def test_a_steep_drop_and_a_dose_above_the_label_are_asked_once_more(
    bot: RunningBot,
) -> None:
    await bot.onboard(USER, zone="UTC")
    [drop] = await bot.say(USER, "/schedule custom today 08:00,20:00 20x7 5x7")
    assert "lowers your dose by more than half (from 40 mg to 10 mg a day)" in drop
    [high] = await bot.say(USER, "/schedule custom today 08:00,20:00 25x7")
    assert "A single dose of <b>25 mg</b> is above the label's usual build-up" in high
    assert "only save this plan if your prescriber set it" in high
