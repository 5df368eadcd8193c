"""Downtime, restarts, and Bot API faults: no dose lost, none silently sent twice."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.content import ContentPack
from bot.storage.doses import Status
from tests.conftest import RunningBot
from tests.reminder_helpers import (
    advance_until_messages,
    assert_told_of_the_downtime,
    restart_at,
    save_plan,
    tap,
)
from tests.said import opening

USER = 4004


async def _user_with_plan(start_bot: Any, times: str, *, confirm: bool = False) -> RunningBot:
    bot: RunningBot = await start_bot()
    await bot.onboard(USER, zone="UTC")
    await save_plan(bot, USER, f"/schedule custom today {times} 10x5", confirm=confirm)
    return bot


async def test_downtime_within_window_sends_a_late_reminder(start_bot: Any) -> None:
    bot = await _user_with_plan(start_bot, "10:00,18:00")
    bot, late = await restart_at(bot, start_bot, datetime(2026, 1, 11, 10, 40, tzinfo=UTC), USER)
    assert "This reminder is late: the dose was due at 10:00" in late
    assert "take it now" in late
    assert "next dose is at 18:00" in late
    message = bot.last_message(USER)
    edited = await tap(bot, USER, message, "taken")
    assert "recorded as taken" in edited["text"]


async def test_downtime_close_to_next_dose_says_skip(start_bot: Any) -> None:
    # Doses 90 minutes apart ask "my prescriber set this" first (issue 19).
    bot = await _user_with_plan(start_bot, "10:00,11:30", confirm=True)
    bot, notice = await restart_at(bot, start_bot, datetime(2026, 1, 11, 10, 45, tzinfo=UTC), USER)
    assert "You missed the <b>10 mg</b> dose due at 10:00" in notice
    assert "skip the missed dose" in notice
    assert "Do not take two doses together" in notice
    assert bot.last_message(USER)["reply_markup"] is None
    await bot.services.reminders.run_due()  # let the pass that sent it finish recording
    [event] = await bot.services.doses.events_between(
        USER, datetime(2026, 1, 11, 10, tzinfo=UTC), datetime(2026, 1, 11, 10, 1, tzinfo=UTC)
    )
    assert event.status is Status.MISSED
    # The next dose still comes on time.
    [reminder] = await advance_until_messages(bot, USER, datetime(2026, 1, 11, 11, 30, tzinfo=UTC))
    assert opening(bot.pack, "reminder.dose") in reminder["text"]


async def test_long_downtime_one_message_and_no_make_up(start_bot: Any) -> None:
    bot = await _user_with_plan(start_bot, "08:00,14:00,20:00")
    bot, late = await restart_at(bot, start_bot, datetime(2026, 1, 12, 15, 0, tzinfo=UTC), USER)
    # 14:00 is the latest passed dose and 20:00 is more than 2 hours away: take 14:00 now.
    assert "due at 14:00" in late
    assert_told_of_the_downtime(late)
    await bot.services.reminders.run_due()
    reminders = [m for m in bot.api.messages_to(USER) if "dose" in (m["text"] or "")]
    assert len([m for m in reminders if "late" in m["text"]]) == 1


async def _first_after_a_crash_with_a_claim(start_bot: Any, *, in_flight: bool) -> str:
    """The 10:00 dose claimed by a process that died (``in_flight``: after its request left);
    the first message of the bot started again five seconds after 10:00."""
    bot = await _user_with_plan(start_bot, "10:00,18:00")
    claim = functools.partial(
        _claim_directly, bot, datetime(2026, 1, 11, 10, tzinfo=UTC), in_flight=in_flight
    )
    _, first = await restart_at(
        bot, start_bot, datetime(2026, 1, 11, 10, 0, 5, tzinfo=UTC), USER, while_down=claim
    )
    return first


async def test_reminder_in_flight_at_a_crash_is_resent_as_repeat(
    start_bot: Any, pack: ContentPack
) -> None:
    """A claim left behind by a crash after the request left: it goes out again, marked as a
    possible repeat."""
    # Simulate a process killed between sending and recording the send.
    repeat = await _first_after_a_crash_with_a_claim(start_bot, in_flight=True)
    assert "<b>Repeat:</b>" in repeat
    assert "If you already took this dose, do not take it again" in repeat
    assert opening(pack, "reminder.dose") in repeat


async def test_claimed_reminder_that_never_left_is_sent_as_ordinary(
    start_bot: Any, pack: ContentPack
) -> None:
    """Claimed in a batch, still waiting for a send slot when the process died: it cannot have
    reached the patient, so it is no repeat."""
    reminder = await _first_after_a_crash_with_a_claim(start_bot, in_flight=False)
    assert opening(pack, "reminder.dose") in reminder
    assert "Repeat" not in reminder


async def _claim_directly(bot: RunningBot, now: datetime, *, in_flight: bool) -> None:
    from bot.storage.db import Database
    from bot.storage.doses import DoseStore

    path = bot.services.settings.database_path
    database = await Database.open(path)
    try:
        store = DoseStore(database)
        claimed = await store.claim_due(now, 10)
        assert len(claimed) == 1
        if in_flight:
            await store.mark_in_flight(claimed[0].event.event_id, now)
    finally:
        await database.close()


async def test_blocked_user_is_marked_unreachable_and_paused(start_bot: Any) -> None:
    bot = await _user_with_plan(start_bot, "10:00,18:00")
    bot.api.blocked.add(USER)
    bot.clock.set(datetime(2026, 1, 11, 10, tzinfo=UTC))
    await bot.api.wait_for("sendMessage", lambda call: call.status == 403)
    await bot.services.reminders.run_due()
    user = await bot.services.users.get(USER)
    assert user is not None
    assert user.unreachable_at == int(bot.clock.now().timestamp())
    sent_403 = len(bot.api.calls_of("sendMessage"))
    bot.clock.set(datetime(2026, 1, 11, 18, tzinfo=UTC))
    await bot.services.reminders.run_due()
    assert len(bot.api.calls_of("sendMessage")) == sent_403  # nothing more is attempted
    # They unblock and press Restart (/start): reminders come back from now on.
    bot.api.blocked.discard(USER)
    await bot.say(USER, "/start", replies=2)  # welcome back, then the settings buttons
    user = await bot.services.users.get(USER)
    assert user is not None
    assert user.unreachable_at is None
    # The pass /start asks for, at 18:00 (else the next clock move decides whether it runs
    # before or after that dose goes stale): the 18:00 dose is due now, so it is reminded.
    await bot.services.reminders.run_due()
    evening = bot.api.messages_to(USER)[-1]["text"]
    assert opening(bot.pack, "reminder.dose") in evening
    assert "18:00" in evening
    [reminder] = await advance_until_messages(bot, USER, datetime(2026, 1, 12, 10, tzinfo=UTC))
    assert opening(bot.pack, "reminder.dose") in reminder["text"]
    assert opening(bot.pack, "reminder.earlier_missed_down") not in reminder["text"]


async def test_429_is_honoured_and_delivered_once(start_bot: Any) -> None:
    bot = await _user_with_plan(start_bot, "10:00,18:00")
    bot.api.fail("sendMessage", status=429, retry_after=1, chat_id=USER)
    [reminder] = await advance_until_messages(bot, USER, datetime(2026, 1, 11, 10, tzinfo=UTC))
    assert opening(bot.pack, "reminder.dose") in reminder["text"]
    statuses = [
        call.status
        for call in bot.api.calls_of("sendMessage")
        if opening(bot.pack, "reminder.dose") in call.params["text"]
    ]
    assert statuses == [429, 200]
    assert "Repeat" not in reminder["text"]


async def test_server_error_is_retried_with_backoff_as_possible_repeat(start_bot: Any) -> None:
    bot = await _user_with_plan(start_bot, "10:00,18:00")
    bot.api.fail("sendMessage", status=502, description="Bad Gateway", chat_id=USER)
    bot.clock.set(datetime(2026, 1, 11, 10, tzinfo=UTC))
    await bot.api.wait_for("sendMessage", lambda call: call.status == 502)
    await bot.services.reminders.run_due()
    before = bot.sent_count(USER)
    # Not before the backoff...
    bot.clock.set(datetime(2026, 1, 11, 10, 0, 10, tzinfo=UTC))
    await bot.services.reminders.run_due()
    assert bot.sent_count(USER) == before
    # ...then once, marked as a possible repeat since a 5xx leaves the outcome unknown.
    [retry] = await advance_until_messages(bot, USER, datetime(2026, 1, 11, 10, 0, 15, tzinfo=UTC))
    assert "Repeat" in retry["text"]
    assert opening(bot.pack, "reminder.dose") in retry["text"]


async def test_dropped_connection_never_silently_duplicates(start_bot: Any) -> None:
    bot = await _user_with_plan(start_bot, "10:00,18:00")
    bot.api.fail("sendMessage", status=0, chat_id=USER)
    bot.clock.set(datetime(2026, 1, 11, 10, tzinfo=UTC))
    await bot.api.wait_for("sendMessage", lambda call: call.status == 0)
    await bot.services.reminders.run_due()
    [retry] = await advance_until_messages(bot, USER, datetime(2026, 1, 11, 10, 1, tzinfo=UTC))
    assert "Repeat" in retry["text"]


async def test_missed_command_answers_from_the_users_schedule(start_bot: Any) -> None:
    bot = await _user_with_plan(start_bot, "10:00,13:00")
    [reminder] = await advance_until_messages(bot, USER, datetime(2026, 1, 11, 10, tzinfo=UTC))
    bot.clock.set(datetime(2026, 1, 11, 10, 59, tzinfo=UTC))
    [take] = await bot.say(USER, "/missed")
    assert "was due at 10:00. <b>If you have not taken it yet, take it now</b>" in take
    assert "Your next dose: <b>13:00</b>" in take
    bot.clock.set(datetime(2026, 1, 11, 11, 0, 1, tzinfo=UTC))  # less than 2 h before 13:00
    [skip] = await bot.say(USER, "/missed")
    assert "<b>Skip the missed dose</b>" in skip
    assert "Taken" not in str(bot.last_message(USER)["reply_markup"])
    edited = await tap(bot, USER, bot.last_message(USER), "skip")
    assert "recorded as skipped" in edited["text"]
    [nothing] = await bot.say(USER, "/missed")
    assert "is recorded as skipped. There is nothing to make up" in nothing
    del reminder


async def test_missed_without_a_plan_gives_the_general_rule(bot: RunningBot) -> None:
    [text] = await bot.say(USER, "/missed")
    assert "2 hours" in text
    assert "Source:" in text


async def test_reminders_arrive_within_seconds_of_due(start_bot: Any) -> None:
    """Lateness is computed against the injected clock: a due dose goes out on the next scan."""
    bot = await _user_with_plan(start_bot, "10:00,18:00")
    due = datetime(2026, 1, 11, 10, tzinfo=UTC)
    [reminder] = await advance_until_messages(bot, USER, due)
    [event] = await bot.services.doses.events_between(USER, due, due + timedelta(seconds=1))
    assert event.sent_at == due
    del reminder
