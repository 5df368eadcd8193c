"""Caregiver alerts on the delivery engine, through the stand-in: an alert claimed by a process
that died (its request on the way) is sent at the next start, once, and ends as sent."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.storage.caregivers import CaregiverStore
from tests.chat.test_caregivers import (
    CARER,
    FOLLOW_UP,
    NOON,
    PATIENT,
    alerts,
    alerts_to,
    link_caregiver,
    patient_with_plan,
)
from tests.conftest import RunningBot
from tests.reminder_helpers import advance_until_messages, dying_process, restart_at


async def test_an_alert_in_flight_at_a_crash_is_sent_at_start_once(start_bot: Any) -> None:
    bot: RunningBot = await start_bot()
    await patient_with_plan(bot)
    await link_caregiver(bot)
    await advance_until_messages(bot, PATIENT, NOON)
    due = NOON + FOLLOW_UP + timedelta(hours=1)

    async def die_once_the_request_left() -> None:
        """Killed after the alert was claimed and its request left, before the answer came."""
        async with dying_process(bot) as database:
            store = CaregiverStore(database)
            [claimed] = await store.claim(due, 10)
            await store.mark_in_flight([claimed], due)
            [row] = [dict(r) for r in await database.fetch_all("SELECT * FROM caregiver_alerts")]
            assert row["state"] == "sending" and row["in_flight_at"] is not None

    bot, alert = await restart_at(
        bot, start_bot, due + timedelta(seconds=5), CARER, while_down=die_once_the_request_left
    )
    assert "is still unanswered" in alert, alert
    await bot.services.reminders.run_due()
    assert len(alerts_to(bot)) == 1
    [row] = await alerts(bot)
    assert (row["state"], row["outcome"], row["claimed_at"]) == ("done", "sent", None)
