"""Pump refill reminders on the delivery engine, through the stand-in: a reminder claimed by
a process that died is sent at the next start (once), a 5xx is retried after the backoff, and a
blocked patient's reminder ends as failed without being tried again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.storage.refills import RefillStatus, RefillStore
from tests.chat.test_pump import USER, pump_user
from tests.conftest import RunningBot
from tests.reminder_helpers import dying_process, restart_at

DUE = datetime(2027, 3, 2, 9, 0, tzinfo=UTC)  # 3 days before 5 March, 10:00 Berlin


async def _statuses(bot: RunningBot) -> dict[str, str]:
    rows = await bot.services.pump._store.reminders_of(USER)
    return {kind: status for kind, _, status in rows}


def _refill_texts(bot: RunningBot) -> list[str]:
    return [m["text"] for m in bot.messages(USER) if "Pump refill in 3 days" in m["text"]]


async def test_a_claim_left_by_a_dead_process_is_sent_once_at_start(start_bot: Any) -> None:
    bot: RunningBot = await start_bot()
    await pump_user(bot, "Europe/Berlin")
    await bot.say(USER, "/pump refill 2027-03-05")

    async def die_before_recording_the_send() -> None:
        """Killed between claiming the row and recording its send."""
        async with dying_process(bot) as database:
            [claimed] = await RefillStore(database).claim(DUE, 10)
            assert claimed.kind == "d3"

    bot, text = await restart_at(
        bot, start_bot, DUE + timedelta(seconds=5), USER, while_down=die_before_recording_the_send
    )
    assert bot.pack.text("pump.reminder_before", days=3, date="5 March") in text, text
    await bot.services.reminders.run_due()
    assert len(_refill_texts(bot)) == 1
    assert (await _statuses(bot))["d3"] == RefillStatus.SENT


async def test_a_server_error_is_retried_after_the_backoff(bot: RunningBot) -> None:
    await pump_user(bot, "Europe/Berlin")
    await bot.say(USER, "/pump refill 2027-03-05")
    bot.api.fail("sendMessage", status=502, chat_id=USER)
    bot.clock.set(DUE)
    await bot.api.wait_for("sendMessage", lambda call: call.status == 502)
    await bot.services.reminders.run_due()
    assert (await _statuses(bot))["d3"] == RefillStatus.PENDING
    bot.clock.set(DUE + timedelta(seconds=14))
    await bot.services.reminders.run_due()
    assert _refill_texts(bot) == []  # not before the backoff
    bot.clock.set(DUE + timedelta(seconds=15))
    [text] = await bot.next_messages(USER, bot.sent_count(USER), 1)
    assert bot.pack.text("pump.reminder_before", days=3, date="5 March") in text, text
    await bot.services.reminders.run_due()
    assert (await _statuses(bot))["d3"] == RefillStatus.SENT


async def test_a_blocked_patient_is_not_tried_again(bot: RunningBot) -> None:
    await pump_user(bot, "Europe/Berlin")
    await bot.say(USER, "/pump refill 2027-03-05")
    bot.api.blocked.add(USER)
    bot.clock.set(DUE)
    await bot.api.wait_for("sendMessage", lambda call: call.status == 403)
    await bot.services.reminders.run_due()
    assert (await _statuses(bot))["d3"] == RefillStatus.FAILED
    refused = len(bot.api.calls_of("sendMessage"))
    bot.clock.set(DUE + timedelta(minutes=30))
    await bot.services.reminders.run_due()
    assert len(bot.api.calls_of("sendMessage")) == refused
