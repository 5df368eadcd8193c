"""Supply refill reminders on the delivery engine, through the stand-in: a reminder that could
not be sent is tried again at the next pass and then arrives once; one that was sent is never
sent again, across a restart."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.chat.test_caregivers import PATIENT
from tests.chat.test_supply import TEN_AM, day_at_ten, set_up_tablets, supply_messages
from tests.conftest import RunningBot
from tests.reminder_helpers import save_plan
from tests.said import opening


async def _patient(bot: RunningBot) -> None:
    await bot.onboard(PATIENT, zone="Europe/Berlin", region="uk")
    await save_plan(bot, PATIENT, "/schedule standard tomorrow 08:00 14:00 20:00 target=20")
    await set_up_tablets(bot, PATIENT)


async def test_a_failed_reminder_comes_at_the_next_pass_once(bot: RunningBot) -> None:
    await _patient(bot)
    # The morning's dose messages go out first, so that the fault meets the supply reminder.
    bot.clock.set(TEN_AM + timedelta(days=1, minutes=-1))
    await bot.services.reminders.run_due()
    await bot.services.reminders.run_due()
    before = len(supply_messages(bot, PATIENT))
    bot.api.fail("sendMessage", status=502, chat_id=PATIENT)
    await day_at_ten(bot, 1)  # the order day: refused once, then sent by the second pass
    sent = supply_messages(bot, PATIENT)[before:]
    assert len(sent) == 1 and opening(bot.pack, "supply.remind_order") in sent[0], sent
    refused = [c for c in bot.api.calls_of("sendMessage") if c.status == 502]
    order = opening(bot.pack, "supply.remind_order")
    assert len(refused) == 1 and order in str(refused[0].params["text"]), refused
    await bot.services.reminders.run_due()
    assert len(supply_messages(bot, PATIENT)) == before + 1


async def test_a_sent_reminder_is_not_sent_again_after_a_restart(start_bot: Any) -> None:
    bot: RunningBot = await start_bot()
    await _patient(bot)
    await day_at_ten(bot, 1)
    count = len(supply_messages(bot, PATIENT))
    await bot.shutdown()
    bot = await start_bot()
    await bot.services.reminders.run_due()
    await bot.services.reminders.run_due()
    assert len(supply_messages(bot, PATIENT)) == count


async def test_every_supply_is_projected_at_most_once_a_minute(bot: RunningBot) -> None:
    """Dispatcher passes come many a minute in a burst; the supply scan reads each patient's
    dose history, so it runs at most once a minute (and at once after a change made here)."""
    await _patient(bot)
    service = bot.services.supply
    projected: list[int] = []
    real_state = service.state

    async def counting(user_id: int) -> Any:
        projected.append(user_id)
        return await real_state(user_id)

    service.state = counting  # type: ignore[method-assign]
    bot.clock.set(TEN_AM + timedelta(days=1))
    for _ in range(3):
        await bot.services.reminders.run_due()
    assert projected == [PATIENT]  # three passes in one minute: one scan
    bot.clock.set(TEN_AM + timedelta(days=1, minutes=1))
    await bot.services.reminders.run_due()
    assert projected == [PATIENT, PATIENT]
    await service.recount(PATIENT, 30)  # a change: seen at the next pass, not a minute on
    await bot.services.reminders.run_due()
    assert projected == [PATIENT, PATIENT, PATIENT]
