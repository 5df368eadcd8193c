"""Faults on the send path: a blocked patient, a proxy's HTML error page, claims at a crash."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import RunningBot
from tests.privacy_helpers import eventually
from tests.reminder_helpers import advance_until_messages, save_plan
from tests.said import opening

USER = 4114


async def _user_with_plan(start_bot: Any, times: str) -> RunningBot:
    bot: RunningBot = await start_bot()
    await bot.onboard(USER, zone="UTC")
    await save_plan(bot, USER, f"/schedule custom today {times} 10x5")
    return bot


async def test_after_a_403_the_claim_is_released_and_no_restart_sends_again(
    start_bot: Any, caplog: pytest.LogCaptureFixture
) -> None:
    bot = await _user_with_plan(start_bot, "10:00,18:00")
    bot.api.blocked.add(USER)
    bot.clock.set(datetime(2026, 1, 11, 10, tzinfo=UTC))
    await bot.api.wait_for("sendMessage", lambda call: call.status == 403)
    await bot.services.reminders.run_due()
    rows = await bot.services.db.fetch_all(
        "SELECT status, claimed_at FROM dose_events WHERE user_id = ? AND due_at = ?",
        (USER, int(datetime(2026, 1, 11, 10, tzinfo=UTC).timestamp())),
    )
    # Not left "sending" with its claim for recover_claims to re-send at every start.
    assert [(row["status"], row["claimed_at"]) for row in rows] == [("cancelled", None)]
    # Restarts (as after a crash) find nothing to re-send: the blocked patient gets no request.
    caplog.set_level(logging.WARNING)
    caplog.clear()
    for _ in range(3):
        await bot.shutdown()
        bot = await start_bot()
        await bot.services.reminders.run_due()
    refused = [c for c in bot.api.calls_of("sendMessage") if c.status == 403]
    assert len(refused) == 1
    assert not [r for r in caplog.records if "user_unreachable" in r.getMessage()]
    assert not [r for r in caplog.records if "reminder_claims_recovered" in r.getMessage()]


async def test_a_502_html_page_is_a_server_error_not_a_traceback(
    start_bot: Any, caplog: pytest.LogCaptureFixture
) -> None:
    bot = await _user_with_plan(start_bot, "10:00,18:00")
    caplog.set_level(logging.INFO)
    bot.api.fail("sendMessage", status=502, html_body=True, chat_id=USER)
    bot.clock.set(datetime(2026, 1, 11, 10, tzinfo=UTC))
    await bot.api.wait_for("sendMessage", lambda call: call.status == 502)
    await bot.services.reminders.run_due()
    # Retried as after any 5xx (a possible repeat), never a logged JSONDecodeError.
    [retry] = await advance_until_messages(bot, USER, datetime(2026, 1, 11, 10, 0, 15, tzinfo=UTC))
    assert opening(bot.pack, "reminder.dose") in retry["text"]
    assert "Repeat" in retry["text"]
    assert [r for r in caplog.records if "reminder_send_error" in r.getMessage()]
    assert not [r for r in caplog.records if r.exc_info is not None]
    assert "html" not in caplog.text.lower()  # the page is not copied into the log


async def test_a_502_html_page_on_a_reply_is_logged_in_one_line(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    bot.api.fail("sendMessage", status=502, html_body=True, chat_id=USER)
    bot.api.send_text(USER, "/help")
    await bot.api.wait_for("sendMessage", lambda call: call.status == 502)
    await eventually(lambda: "telegram_error kind=NetworkError" in caplog.text)
    assert not [r for r in caplog.records if r.exc_info is not None]
    assert "JSONDecodeError" not in caplog.text


async def test_a_reminder_given_up_is_told_by_the_next_one_that_arrives(start_bot: Any) -> None:
    from bot.services.reminders import MAX_ATTEMPTS

    bot = await _user_with_plan(start_bot, "10:00,18:00")
    bot.api.fail("sendMessage", status=500, times=MAX_ATTEMPTS, chat_id=USER)
    due = datetime(2026, 1, 11, 10, tzinfo=UTC)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        bot.clock.set(due + timedelta(minutes=11 * (attempt - 1)))  # past each backoff
        await bot.api.wait_for("sendMessage", lambda call: call.status == 500, count=attempt)
        await bot.services.reminders.run_due()
    assert await bot.services.doses.undelivered_count(USER) == 1
    [reminder] = await advance_until_messages(bot, USER, datetime(2026, 1, 11, 18, tzinfo=UTC))
    assert opening(bot.pack, "reminder.dose") in reminder["text"]
    assert "1 earlier dose passed. Do not make it up" in reminder["text"]
    assert await bot.services.doses.undelivered_count(USER) == 0
    # Said once: the reminder after it does not repeat it.
    [later] = await advance_until_messages(bot, USER, datetime(2026, 1, 12, 10, tzinfo=UTC))
    assert "earlier dose" not in later["text"]
